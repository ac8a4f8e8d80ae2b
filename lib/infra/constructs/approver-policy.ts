import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { allow } from '../iam';

/** Properties of {@link ApproverPolicy}. */
export interface ApproverPolicyProps {
  readonly artifactBucketArn: string;
  readonly keyArn: string;
  /** The release state machine whose executions the console follows. */
  readonly releaseStateMachineArn: string;
  /** Its name (for the execution ARNs of DescribeExecution / GetExecutionHistory). */
  readonly releaseStateMachineName: string;
  /** The DecideApproval function, whose function URL (AuthType AWS_IAM) is the approvers' only way to decide. */
  readonly decideFunctionArn: string;
}

/**
 * The managed policy for people who approve releases (`mlship approve`, `mlship console`):
 * read the pending approvals and the quality reports, follow the release executions, read
 * the endpoints' per-variant metrics (CloudWatch GetMetricData, the model page's live traffic), and
 * ask the DecideApproval function for a decision through its function URL. Nothing else;
 * attach it to the approvers' group or role.
 *
 * What it deliberately lacks: `states:SendTask*` and any read of `approval-tokens/`. The
 * function records the decision with a conditional write and only then delivers it with its
 * own role, so an approver cannot answer the task past the record (the decision once, its
 * audit, separation of duties). The function URL authenticates the approver with SigV4 and
 * hands the function their IAM identity, which is what the record names. Direct
 * `lambda:Invoke` is allowed only as part of a function URL call, so nobody can invoke the
 * function with an identity of their own making. No s3:PutObject: approvers write nothing.
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
    // history), the drift runs and the pull-request checks. All read-only; approval-tokens/ is not among them.
    const prefixes = ['approvals/', 'reports/', 'registry/', 'monitoring/', 'checks/'];
    allow(
      this.policy,
      { sid: 'ReadApprovalsAndReports', actions: ['s3:GetObject'], resources: prefixes.map((p) => `${props.artifactBucketArn}/${p}*`) },
      'Approvers read any pending approval, quality report, registry record and drift report; their keys name models, versions and executions known only at run time.',
    );
    allow(
      this.policy,
      {
        sid: 'ListApprovalsAndReports',
        actions: ['s3:ListBucket'],
        resources: [props.artifactBucketArn],
        conditions: { StringLike: { 's3:prefix': prefixes.map((p) => `${p}*`) } },
      },
      'no wildcard',
    );
    allow(
      this.policy,
      {
        sid: 'DecideThroughFunctionUrl',
        actions: ['lambda:InvokeFunctionUrl'],
        resources: [props.decideFunctionArn],
        conditions: { StringEquals: { 'lambda:FunctionUrlAuthType': 'AWS_IAM' } },
      },
      'no wildcard',
    );
    // Since October 2025 a function URL call also needs lambda:InvokeFunction; the condition
    // keeps a direct Invoke (whose event the caller writes, identity included) refused.
    allow(
      this.policy,
      {
        sid: 'InvokeOnlyViaFunctionUrl',
        actions: ['lambda:InvokeFunction'],
        resources: [props.decideFunctionArn],
        conditions: { Bool: { 'lambda:InvokedViaFunctionUrl': 'true' } },
      },
      'no wildcard',
    );
    allow(
      this.policy,
      {
        sid: 'FollowReleases',
        actions: ['states:ListExecutions', 'states:DescribeStateMachine'],
        resources: [props.releaseStateMachineArn],
      },
      'no wildcard',
    );
    allow(
      this.policy,
      { sid: 'ReadReleaseExecutions', actions: ['states:DescribeExecution', 'states:GetExecutionHistory'], resources: [executions] },
      'Execution ARNs of the release state machine are created per release; read-only access for the console.',
    );
    // The model page's live traffic: SageMaker's per-variant metrics (AWS/SageMaker). GetMetricData
    // supports no resource-level permission nor a namespace condition, so "*" is its only scope; the
    // action is read-only and named, and metric data is no secret among those who approve releases.
    allow(
      this.policy,
      { sid: 'ReadEndpointMetrics', actions: ['cloudwatch:GetMetricData'], resources: ['*'] },
      'cloudwatch:GetMetricData supports no resource-level permission: IAM authorizes it only on Resource "*". Read-only; the console reads the AWS/SageMaker per-variant metrics of the model page.',
    );
    allow(this.policy, { sid: 'UseArtifactKey', actions: ['kms:Decrypt'], resources: [props.keyArn] }, 'no wildcard');
  }
}
