import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { allow } from '../iam';

/** Properties of {@link ApproverPolicy}. */
export interface ApproverPolicyProps {
  readonly artifactBucketArn: string;
  readonly keyArn: string;
  /** The release state machine whose approval tasks the approvers decide. */
  readonly releaseStateMachineArn: string;
  /** Its name (for the execution ARNs of DescribeExecution / GetExecutionHistory). */
  readonly releaseStateMachineName: string;
}

/**
 * The managed policy for people who approve releases (`mlship approve`, `mlship console`):
 * read the pending approvals and the quality reports, record the decision on the approval
 * record, answer the approval task, and follow the release executions read-only. Nothing
 * else; attach it to the approvers' group or role.
 *
 * Recording the decision is a write: `decideApproval()` (lambdas/request-approval/decide.ts)
 * runs with the approver's credentials and writes the decision into
 * `approvals/<model>/<execution>.json` with a conditional put before it calls
 * SendTaskSuccess / SendTaskFailure, so that a second decision is refused. Hence
 * s3:PutObject on `approvals/*` only, and kms:GenerateDataKey to encrypt that object.
 */
export class ApproverPolicy extends Construct {
  readonly policy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: ApproverPolicyProps) {
    super(scope, id);
    this.policy = new iam.ManagedPolicy(this, 'Policy', { description: 'mlship: approve or reject releases and read their reports' });
    const executions = Stack.of(this).formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${props.releaseStateMachineName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    // The console's pages: approvals and their reports, the registry (production version,
    // history) and the drift runs. All read-only.
    const prefixes = ['approvals/', 'reports/', 'registry/', 'monitoring/'];
    allow(
      this.policy,
      { sid: 'ReadApprovalsAndReports', actions: ['s3:GetObject'], resources: prefixes.map((p) => `${props.artifactBucketArn}/${p}*`) },
      'Approvers read any pending approval, quality report, registry record and drift report; their keys name models, versions and executions known only at run time.',
    );
    allow(
      this.policy,
      { sid: 'ListApprovalsAndReports', actions: ['s3:ListBucket'], resources: [props.artifactBucketArn], conditions: { StringLike: { 's3:prefix': prefixes.map((p) => `${p}*`) } } },
      'no wildcard',
    );
    allow(
      this.policy,
      { sid: 'RecordDecisions', actions: ['s3:PutObject'], resources: [`${props.artifactBucketArn}/approvals/*`] },
      'The decision is written into the approval record of a release, whose key names a model and an execution known only at run time.',
    );
    allow(this.policy, { sid: 'DecideApprovals', actions: ['states:SendTaskSuccess', 'states:SendTaskFailure'], resources: [props.releaseStateMachineArn] }, 'no wildcard');
    allow(this.policy, { sid: 'FollowReleases', actions: ['states:ListExecutions', 'states:DescribeStateMachine'], resources: [props.releaseStateMachineArn] }, 'no wildcard');
    allow(
      this.policy,
      { sid: 'ReadReleaseExecutions', actions: ['states:DescribeExecution', 'states:GetExecutionHistory'], resources: [executions] },
      'Execution ARNs of the release state machine are created per release; read-only access for the console.',
    );
    allow(this.policy, { sid: 'UseArtifactKey', actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [props.keyArn] }, 'no wildcard');
  }
}
