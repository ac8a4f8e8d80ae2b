import { ArnFormat, Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { TASK_NAMES, type TaskName } from '../../tasks';
import { allow } from '../iam';
import type { TaskFunctions } from './task-functions';

/** Top-level prefixes of the artifact bucket (DESIGN.md "S3 layout"). */
export type ArtifactPrefix = 'source/' | 'builds/' | 'reports/' | 'approvals/' | 'registry/' | 'capture/' | 'ground-truth/' | 'monitoring/';

/** What one task may do in the artifact bucket and beyond it. */
export interface TaskAccess {
  /** s3:GetObject under these prefixes. */
  readonly read: readonly ArtifactPrefix[];
  /** s3:PutObject under these prefixes. */
  readonly write: readonly ArtifactPrefix[];
  /** s3:ListBucket limited to these prefixes. */
  readonly list: readonly ArtifactPrefix[];
  /** Non-S3 permissions, by name (see {@link TaskPermissions}). */
  readonly calls: readonly ('startBuild' | 'readBuilds' | 'manageEndpoints' | 'describeEndpoints' | 'invokeStaging' | 'publish' | 'startRelease')[];
}

/**
 * The one table of what each task may do. Each line follows from the task's job in the
 * release (lib/tasks.ts descriptions) and the S3 layout; nothing is granted "in case".
 */
export const TASK_ACCESS: { readonly [T in TaskName]: TaskAccess } = {
  PrepareRelease: { read: ['source/', 'registry/'], write: ['registry/', 'builds/'], list: ['registry/'], calls: [] },
  StartBuild: { read: ['registry/'], write: [], list: [], calls: ['startBuild'] },
  CheckBuild: { read: ['builds/', 'registry/'], write: ['builds/', 'registry/'], list: ['builds/'], calls: ['readBuilds'] },
  DeployEndpoint: { read: ['builds/', 'registry/'], write: ['registry/'], list: ['registry/'], calls: ['manageEndpoints'] },
  CheckEndpoint: { read: ['registry/'], write: ['registry/'], list: ['registry/'], calls: ['describeEndpoints'] },
  EvaluateModel: { read: ['builds/', 'reports/', 'registry/'], write: ['reports/', 'builds/'], list: ['builds/', 'reports/', 'registry/'], calls: ['invokeStaging'] },
  LoadTest: { read: ['builds/', 'registry/'], write: ['reports/'], list: ['builds/'], calls: ['invokeStaging'] },
  RequestApproval: { read: ['approvals/', 'reports/', 'registry/'], write: ['approvals/'], list: ['approvals/'], calls: ['publish'] },
  PromoteVersion: { read: ['registry/'], write: ['registry/'], list: ['registry/'], calls: [] },
  RecordOutcome: { read: ['registry/', 'approvals/'], write: ['registry/'], list: ['registry/'], calls: ['publish'] },
  CheckDrift: {
    read: ['capture/', 'ground-truth/', 'builds/', 'reports/', 'registry/', 'monitoring/'],
    write: ['monitoring/'],
    list: ['capture/', 'ground-truth/', 'registry/', 'monitoring/'],
    calls: [],
  },
  TriggerRetraining: { read: ['registry/', 'monitoring/'], write: ['registry/'], list: ['registry/'], calls: ['startRelease'] },
};

/** Properties of {@link TaskPermissions}. */
export interface TaskPermissionsProps {
  readonly functions: TaskFunctions;
  readonly artifactBucketArn: string;
  readonly keyArn: string;
  readonly topicArn: string;
  /** The release state machine (TriggerRetraining starts it). */
  readonly releaseStateMachineArn: string;
  /** Build projects are named `<buildProjectPrefix><model>`. */
  readonly buildProjectPrefix: string;
  /** SageMaker resources the tasks create are named `<sagemakerPrefix>...` (lambdas/shared/names.ts). */
  readonly sagemakerPrefix: string;
  /** The role SageMaker endpoints run with (passed by DeployEndpoint). */
  readonly sagemakerRoleArn: string;
  /** Rollback alarms are named `<rollbackAlarmPrefix><model>-...`. */
  readonly rollbackAlarmPrefix: string;
  /** Image repositories are named `<imageRepositoryPrefix><model>`. */
  readonly imageRepositoryPrefix: string;
}

/**
 * Least-privilege grants for every task function, from {@link TASK_ACCESS}. No statement
 * has a wildcard action; wildcard resources are object prefixes and name prefixes of
 * resources the release creates at run time, each acknowledged by name.
 */
export class TaskPermissions extends Construct {
  constructor(scope: Construct, id: string, props: TaskPermissionsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const bucketObjects = (prefix: ArtifactPrefix) => `${props.artifactBucketArn}/${prefix}*`;
    const sm = (resource: string, name: string) => stack.formatArn({ service: 'sagemaker', resource, resourceName: name, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
    const endpoints = sm('endpoint', `${props.sagemakerPrefix}*`);
    const stagingEndpoints = sm('endpoint', `${props.sagemakerPrefix}*-staging`);
    const buildProjects = stack.formatArn({ service: 'codebuild', resource: 'project', resourceName: `${props.buildProjectPrefix}*`, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
    const rollbackAlarms = stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: `${props.rollbackAlarmPrefix}*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    const imageRepositories = stack.formatArn({ service: 'ecr', resource: 'repository', resourceName: `${props.imageRepositoryPrefix}*`, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });

    for (const name of TASK_NAMES) {
      const access = TASK_ACCESS[name];
      const role = props.functions.function(name).role!;
      const objectsWhy = `${name} reads and writes per-model, per-version objects under fixed prefixes of the artifact bucket; object keys are only known at run time.`;
      if (access.read.length) allow(role, { actions: ['s3:GetObject'], resources: access.read.map(bucketObjects) }, objectsWhy);
      if (access.write.length) allow(role, { actions: ['s3:PutObject'], resources: access.write.map(bucketObjects) }, objectsWhy);
      if (access.list.length) {
        allow(
          role,
          { actions: ['s3:ListBucket'], resources: [props.artifactBucketArn], conditions: { StringLike: { 's3:prefix': access.list.map((p) => `${p}*`) } } },
          objectsWhy,
        );
      }
      const keyActions = [
        ...(access.read.length || access.write.length || access.calls.includes('publish') ? ['kms:Decrypt'] : []),
        ...(access.write.length || access.calls.includes('publish') ? ['kms:GenerateDataKey'] : []),
      ];
      if (keyActions.length) allow(role, { actions: keyActions, resources: [props.keyArn] }, 'no wildcard');

      for (const call of access.calls) {
        switch (call) {
          case 'startBuild':
            allow(role, { actions: ['codebuild:StartBuild'], resources: [buildProjects] }, 'One build project per model, named <prefix><model>; the model is known only from the release input.');
            break;
          case 'readBuilds':
            allow(role, { actions: ['codebuild:BatchGetBuilds'], resources: [buildProjects] }, 'Reads the status of builds of the per-model build projects, named <prefix><model>.');
            allow(role, { actions: ['ecr:DescribeImages'], resources: [imageRepositories] }, 'Reads the pushed image digest from the per-model repositories, named <prefix><model>.');
            break;
          case 'manageEndpoints':
            allow(
              role,
              {
                actions: [
                  'sagemaker:CreateModel',
                  'sagemaker:DescribeModel',
                  'sagemaker:CreateEndpointConfig',
                  'sagemaker:DescribeEndpointConfig',
                  'sagemaker:CreateEndpoint',
                  'sagemaker:UpdateEndpoint',
                  'sagemaker:DescribeEndpoint',
                  'sagemaker:AddTags',
                ],
                resources: [endpoints, sm('endpoint-config', `${props.sagemakerPrefix}*`), sm('model', `${props.sagemakerPrefix}*`)],
              },
              'SageMaker models, endpoint configs and endpoints are created per model and version at run time, all named with the platform prefix.',
            );
            allow(role, { actions: ['iam:PassRole'], resources: [props.sagemakerRoleArn], conditions: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } } }, 'no wildcard');
            allow(role, { actions: ['cloudwatch:DescribeAlarms'], resources: [rollbackAlarms] }, 'The rollback alarms of every model, named <prefix><model>-5xx and -p99-latency, are attached to production deployments.');
            break;
          case 'describeEndpoints':
            allow(role, { actions: ['sagemaker:DescribeEndpoint'], resources: [endpoints] }, 'Polls the per-model staging and production endpoints, named with the platform prefix.');
            break;
          case 'invokeStaging':
            allow(role, { actions: ['sagemaker:InvokeEndpoint'], resources: [stagingEndpoints] }, 'Sends holdout and load-test traffic to the per-model staging endpoints only (<prefix><model>-staging).');
            break;
          case 'publish':
            allow(role, { actions: ['sns:Publish'], resources: [props.topicArn] }, 'no wildcard');
            break;
          case 'startRelease':
            allow(role, { actions: ['states:StartExecution', 'states:ListExecutions'], resources: [props.releaseStateMachineArn] }, 'no wildcard');
            break;
        }
      }
    }
  }
}
