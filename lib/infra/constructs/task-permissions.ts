import { ArnFormat, Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { TASK_NAMES, type TaskName } from '../../tasks';
import { allow } from '../iam';
import type { TaskFunctions } from './task-functions';

/** Top-level prefixes of the artifact bucket (DESIGN.md "S3 layout"). */
export type ArtifactPrefix =
  | 'source/'
  | 'builds/'
  | 'reports/'
  | 'approvals/'
  | 'approval-tokens/'
  | 'audit/approvals/'
  | 'registry/'
  | 'capture/'
  | 'ground-truth/'
  | 'monitoring/'
  | 'training/';

/** What one task may do in the artifact bucket and beyond it. */
export interface TaskAccess {
  /** s3:GetObject under these prefixes. */
  readonly read: readonly ArtifactPrefix[];
  /** s3:PutObject under these prefixes. */
  readonly write: readonly ArtifactPrefix[];
  /** Non-S3 permissions, by name (see {@link TaskPermissions}). */
  readonly calls: readonly (
    | 'startBuild'
    | 'readBuilds'
    | 'manageEndpoints'
    | 'describeEndpoints'
    | 'deleteStaging'
    | 'invokeStaging'
    | 'invokeProduction'
    | 'publish'
    | 'startRelease'
    | 'answerTasks'
    | 'superviseReleases'
    | 'pruneVersions'
    | 'registerModelPackages'
    | 'shadowProduction'
    | 'readEndpointMetrics'
  )[];
}

/**
 * The one table of what each task may do, taken from what its module calls (the registry
 * helpers read and write `registry/`, reports go to `reports/`, and so on). Nothing is
 * granted "in case"; a task that starts calling something new fails with AccessDenied
 * until its line here says so.
 */
export const TASK_ACCESS: { readonly [T in TaskName]: TaskAccess } = {
  PrepareRelease: { read: ['source/', 'registry/'], write: ['builds/', 'registry/'], calls: [] },
  // The lease is registry/<model>/lease.json; superseding a release records its outcome
  // (registry/), expires its pending approval (approvals/) and notifies.
  // Its Model Registry package is rejected (registerModelPackages), as RecordOutcome would.
  ModelLease: {
    read: ['registry/', 'approvals/'],
    write: ['registry/', 'approvals/'],
    calls: ['superviseReleases', 'publish', 'registerModelPackages'],
  },
  StartBuild: { read: ['registry/'], write: ['registry/'], calls: ['startBuild'] },
  CheckBuild: { read: ['registry/'], write: ['registry/'], calls: ['readBuilds'] },
  // Builds the training job request from the version record; the state machine starts the job.
  PrepareTraining: { read: ['registry/'], write: ['registry/'], calls: [] },
  // Hashes the job's model.tar.gz under training/.
  RecordTraining: { read: ['registry/', 'training/'], write: ['registry/'], calls: [] },
  DeployEndpoint: { read: ['registry/'], write: ['registry/'], calls: ['manageEndpoints'] },
  CheckEndpoint: { read: ['registry/'], write: ['registry/'], calls: ['describeEndpoints'] },
  EvaluateModel: { read: ['builds/', 'registry/'], write: ['reports/', 'registry/'], calls: ['invokeStaging', 'invokeProduction'] },
  LoadTest: { read: ['builds/', 'registry/', 'reports/'], write: ['reports/', 'registry/'], calls: ['invokeStaging'] },
  // Reads the captured answers of both variants and the ground truth, writes reports/<m>/<v>/shadow.json;
  // puts the candidate on the production endpoint as a shadow variant and takes it off again.
  // readEndpointMetrics: latency and error rate per variant (CloudWatch GetMetricData) for the comparison.
  ShadowTest: {
    read: ['capture/', 'ground-truth/', 'registry/'],
    write: ['reports/', 'registry/'],
    calls: ['shadowProduction', 'readEndpointMetrics'],
  },
  // Reads the quality report (reports/: the plan's baseline and loss spread), each variant's captured answers and
  // the ground truth; writes reports/<m>/<v>/ab.json. shadowProduction: the same endpoint-config swap on the
  // production endpoints as the shadow's (Describe/Create config, Describe/UpdateEndpoint), here with a second production variant.
  AbTest: {
    read: ['capture/', 'ground-truth/', 'registry/', 'reports/'],
    write: ['reports/', 'registry/'],
    calls: ['shadowProduction'],
  },
  // Registers the version in SageMaker Model Registry (lambdas/shared/model-registry.ts).
  RequestApproval: {
    read: ['approvals/', 'registry/'],
    write: ['approvals/', 'approval-tokens/', 'registry/'],
    calls: ['publish', 'registerModelPackages'],
  },
  // The only reader of task tokens and the only caller of SendTask*: approvers reach the
  // release through this function (its URL), never through Step Functions.
  DecideApproval: { read: ['approvals/', 'approval-tokens/'], write: ['approvals/', 'audit/approvals/'], calls: ['answerTasks'] },
  PromoteVersion: { read: ['registry/'], write: ['registry/'], calls: [] },
  // Reads the manifest snapshot (staging.keepEndpoint) and the lease from registry/.
  DeleteStagingEndpoint: { read: ['registry/'], write: [], calls: ['deleteStaging'] },
  // Reads production.json, records registry/<model>/pruning.json.
  PruneVersions: { read: ['registry/'], write: ['registry/'], calls: ['pruneVersions'] },
  // Sets the version's Model Registry approval status from the outcome.
  RecordOutcome: {
    read: ['approvals/', 'registry/'],
    write: ['approvals/', 'registry/', 'monitoring/'],
    calls: ['publish', 'registerModelPackages'],
  },
  // monitoring/ read: a split window's plan and batch states live under monitoring/<model>/<run>/split/.
  CheckDrift: { read: ['capture/', 'ground-truth/', 'builds/', 'registry/', 'monitoring/'], write: ['monitoring/'], calls: [] },
  TriggerRetraining: { read: ['registry/'], write: ['registry/'], calls: ['startRelease'] },
};

/** Properties of {@link TaskPermissions}. */
export interface TaskPermissionsProps {
  readonly functions: TaskFunctions;
  readonly artifactBucketArn: string;
  readonly keyArn: string;
  readonly topicArn: string;
  /** The release state machine (TriggerRetraining starts it). */
  readonly releaseStateMachineArn: string;
  /** Its name, for the ARNs of its executions. */
  readonly releaseStateMachineName: string;
  /** Build projects are named `<buildProjectPrefix><model>`. */
  readonly buildProjectPrefix: string;
  /** SageMaker resources the tasks create are named `<sagemakerPrefix>...` (lambdas/shared/names.ts). */
  readonly sagemakerPrefix: string;
  /** The role SageMaker endpoints run with (passed by DeployEndpoint). */
  readonly sagemakerRoleArn: string;
  /** Rollback alarms are named `<rollbackAlarmPrefix><model>-...`. */
  readonly rollbackAlarmPrefix: string;
}

/**
 * Least-privilege grants for every task function, from {@link TASK_ACCESS}. No statement
 * has a wildcard action; wildcard resources are object prefixes and name prefixes of
 * resources the release creates at run time, each acknowledged by name.
 */
export class TaskPermissions extends Construct {
  constructor(scope: Construct, id: string, props: TaskPermissionsProps) {
    super(scope, id);
    const arns = resourceArns(Stack.of(this), props);
    for (const name of TASK_NAMES) {
      const access = TASK_ACCESS[name];
      const role = props.functions.function(name).role!;
      grantArtifacts(role, name, access, props);
      for (const call of access.calls) grantCall({ role, arns, props }, call);
    }
  }
}

type Role = NonNullable<ReturnType<TaskFunctions['function']>['role']>;

/** The run-time resources the grants name: per-model name prefixes of what the release creates. */
function resourceArns(stack: Stack, props: TaskPermissionsProps) {
  const sm = (resource: string, name: string) =>
    stack.formatArn({ service: 'sagemaker', resource, resourceName: name, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
  return {
    sm,
    endpoints: sm('endpoint', `${props.sagemakerPrefix}*`),
    stagingEndpoints: sm('endpoint', `${props.sagemakerPrefix}*-staging`),
    productionEndpoints: sm('endpoint', `${props.sagemakerPrefix}*-production`),
    buildProjects: stack.formatArn({
      service: 'codebuild',
      resource: 'project',
      resourceName: `${props.buildProjectPrefix}*`,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    }),
    rollbackAlarms: stack.formatArn({
      service: 'cloudwatch',
      resource: 'alarm',
      resourceName: `${props.rollbackAlarmPrefix}*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    }),
    releaseExecutions: stack.formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${props.releaseStateMachineName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    }),
  };
}

/** The task's object prefixes in the artifact bucket, and the key actions they need. */
function grantArtifacts(role: Role, name: TaskName, access: TaskAccess, props: TaskPermissionsProps): void {
  const bucketObjects = (prefix: ArtifactPrefix) => `${props.artifactBucketArn}/${prefix}*`;
  const objectsWhy = `${name} reads and writes per-model, per-version objects under fixed prefixes of the artifact bucket; object keys are only known at run time.`;
  if (access.read.length) allow(role, { actions: ['s3:GetObject'], resources: access.read.map(bucketObjects) }, objectsWhy);
  if (access.write.length) allow(role, { actions: ['s3:PutObject'], resources: access.write.map(bucketObjects) }, objectsWhy);
  // Every task reads "if it exists" (a first release has no production record yet).
  // Without s3:ListBucket, S3 answers a missing key with 403 instead of 404, and a
  // prefix condition does not apply to that check, so the grant is on the bucket.
  if (access.read.length) allow(role, { actions: ['s3:ListBucket'], resources: [props.artifactBucketArn] }, 'no wildcard');
  const keyActions = [
    ...(access.read.length || access.write.length || access.calls.includes('publish') ? ['kms:Decrypt'] : []),
    ...(access.write.length || access.calls.includes('publish') ? ['kms:GenerateDataKey'] : []),
  ];
  if (keyActions.length) allow(role, { actions: keyActions, resources: [props.keyArn] }, 'no wildcard');
}

/** What every grant names: the task's role, the run-time resource ARNs and the construct's props. */
interface GrantContext {
  readonly role: Role;
  readonly arns: ReturnType<typeof resourceArns>;
  readonly props: TaskPermissionsProps;
}

/** One named non-S3 permission of {@link TaskAccess.calls}. */
function grantCall(ctx: GrantContext, call: TaskAccess['calls'][number]): void {
  const { role, props } = ctx;
  switch (call) {
    case 'startBuild':
    case 'readBuilds':
      grantBuilds(ctx, call);
      break;
    case 'manageEndpoints':
      grantEndpointManagement(ctx);
      break;
    case 'describeEndpoints':
    case 'invokeStaging':
    case 'invokeProduction':
      grantEndpointInvocations(ctx, call);
      break;
    case 'deleteStaging':
    case 'pruneVersions':
      grantEndpointCleanup(ctx, call);
      break;
    case 'publish':
      allow(role, { actions: ['sns:Publish'], resources: [props.topicArn] }, 'no wildcard');
      break;
    case 'registerModelPackages':
      grantModelRegistry(ctx);
      break;
    case 'shadowProduction':
      grantShadowProduction(ctx);
      break;
    case 'readEndpointMetrics':
      allow(
        role,
        { actions: ['cloudwatch:GetMetricData'], resources: ['*'] },
        'cloudwatch:GetMetricData supports no resource-level permission (the Service Authorization Reference lists no resource type for it); read-only, and the task asks only for AWS/SageMaker metrics of the production endpoint.',
      );
      break;
    case 'answerTasks':
    case 'startRelease':
    case 'superviseReleases':
      grantStepFunctions(ctx, call);
      break;
  }
}

/**
 * SageMaker Model Registry: the group of each model (`<prefix><model>`) and the versioned
 * packages in it (`model-package/<prefix><model>/<n>`), the mirror of the S3 registry.
 */
function grantModelRegistry({ role, arns, props }: GrantContext): void {
  allow(
    role,
    {
      actions: ['sagemaker:CreateModelPackageGroup', 'sagemaker:CreateModelPackage', 'sagemaker:UpdateModelPackage'],
      resources: [arns.sm('model-package-group', `${props.sagemakerPrefix}*`), arns.sm('model-package', `${props.sagemakerPrefix}*/*`)],
    },
    'One model package group per model, named with the platform prefix, and its numbered versions: both are created at run time.',
  );
}

/** Starting builds of, and reading builds from, the per-model build projects. */
function grantBuilds({ role, arns }: GrantContext, call: 'startBuild' | 'readBuilds'): void {
  if (call === 'startBuild') {
    allow(
      role,
      { actions: ['codebuild:StartBuild'], resources: [arns.buildProjects] },
      'One build project per model, named <prefix><model>; the model is known only from the release input.',
    );
    return;
  }
  allow(
    role,
    { actions: ['codebuild:BatchGetBuilds'], resources: [arns.buildProjects] },
    'Reads the status of builds of the per-model build projects, named <prefix><model>.',
  );
}

/** What deploying an endpoint needs: the SageMaker resources, the key grant, the role to pass and the rollback alarms. */
function grantEndpointManagement({ role, arns, props }: GrantContext): void {
  allow(
    role,
    {
      actions: [
        'sagemaker:CreateModel',
        'sagemaker:CreateEndpointConfig',
        'sagemaker:CreateEndpoint',
        'sagemaker:UpdateEndpoint',
        'sagemaker:DescribeEndpoint',
        'sagemaker:DeleteEndpoint',
        // Create* with Tags also needs AddTags on the new resource.
        'sagemaker:AddTags',
      ],
      resources: [arns.endpoints, arns.sm('endpoint-config', `${props.sagemakerPrefix}*`), arns.sm('model', `${props.sagemakerPrefix}*`)],
    },
    'SageMaker models, endpoint configs and endpoints are created per model and version at run time, all named with the platform prefix.',
  );
  // CreateEndpointConfig names the platform key (data capture, storage volume);
  // SageMaker then creates a grant on it for the endpoint, as the caller.
  grantKeyToSageMaker(role, props.keyArn);
  allow(
    role,
    {
      actions: ['iam:PassRole'],
      resources: [props.sagemakerRoleArn],
      conditions: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
    },
    'no wildcard',
  );
  allow(
    role,
    { actions: ['cloudwatch:DescribeAlarms'], resources: [arns.rollbackAlarms] },
    'The rollback alarms of every model, named <prefix><model>-5xx and -p99-latency, are attached to production deployments.',
  );
}

/** Polling the endpoints, and sending traffic to the staging or production ones. */
function grantEndpointInvocations({ role, arns }: GrantContext, call: 'describeEndpoints' | 'invokeStaging' | 'invokeProduction'): void {
  switch (call) {
    case 'describeEndpoints':
      allow(
        role,
        { actions: ['sagemaker:DescribeEndpoint'], resources: [arns.endpoints] },
        'Polls the per-model staging and production endpoints, named with the platform prefix.',
      );
      break;
    case 'invokeStaging':
      allow(
        role,
        { actions: ['sagemaker:InvokeEndpoint'], resources: [arns.stagingEndpoints] },
        'Sends holdout and load-test traffic to the per-model staging endpoints only (<prefix><model>-staging).',
      );
      break;
    case 'invokeProduction':
      allow(
        role,
        { actions: ['sagemaker:InvokeEndpoint'], resources: [arns.productionEndpoints] },
        'Scores the holdout on the production endpoints too, so the candidate is compared with production on the same rows (<prefix><model>-production).',
      );
      break;
  }
}

/** Step Functions: answering task tokens, starting releases and supervising running ones. */
function grantStepFunctions({ role, arns, props }: GrantContext, call: 'answerTasks' | 'startRelease' | 'superviseReleases'): void {
  switch (call) {
    case 'answerTasks':
      allow(
        role,
        { actions: ['states:SendTaskSuccess', 'states:SendTaskFailure'], resources: [props.releaseStateMachineArn] },
        'no wildcard',
      );
      allow(
        role,
        { actions: ['states:DescribeExecution', 'states:GetExecutionHistory'], resources: [arns.releaseExecutions] },
        'What the release received when its task token is spent; execution ARNs of the release machine are created per release.',
      );
      break;
    case 'startRelease':
      allow(
        role,
        { actions: ['states:StartExecution', 'states:ListExecutions'], resources: [props.releaseStateMachineArn] },
        'no wildcard',
      );
      allow(
        role,
        { actions: ['states:DescribeExecution'], resources: [arns.releaseExecutions] },
        'Checks whether a release of the model is still running; execution ARNs of the release machine are created per release.',
      );
      break;
    case 'superviseReleases':
      allow(
        role,
        { actions: ['states:DescribeExecution', 'states:StopExecution'], resources: [arns.releaseExecutions] },
        "Checks whether the release holding a model's lease still runs, and stops the one a newer release supersedes; release executions are created per release.",
      );
      break;
  }
}

/** What the end of a release deletes: the staging endpoint, and versions no endpoint or rollback needs. */
function grantEndpointCleanup({ role, arns, props }: GrantContext, call: 'deleteStaging' | 'pruneVersions'): void {
  if (call === 'deleteStaging') {
    allow(
      role,
      { actions: ['sagemaker:DeleteEndpoint'], resources: [arns.stagingEndpoints] },
      'Deletes the per-model staging endpoints only (<prefix><model>-staging) when a release ends; no production endpoint matches the pattern.',
    );
    return;
  }
  allow(
    role,
    { actions: ['sagemaker:DescribeEndpoint'], resources: [arns.endpoints] },
    'Reads which config the per-model staging and production endpoints (named with the platform prefix) serve, to keep it.',
  );
  allow(
    role,
    {
      actions: ['sagemaker:DescribeEndpointConfig', 'sagemaker:DeleteEndpointConfig'],
      resources: [arns.sm('endpoint-config', `${props.sagemakerPrefix}*`)],
    },
    'Endpoint configs are created per model and version at run time, all named with the platform prefix; only those may be deleted.',
  );
  allow(
    role,
    { actions: ['sagemaker:DeleteModel'], resources: [arns.sm('model', `${props.sagemakerPrefix}*`)] },
    'SageMaker models are created per model and version at run time, all named with the platform prefix; only those may be deleted.',
  );
  allow(
    role,
    { actions: ['sagemaker:ListModels', 'sagemaker:ListEndpointConfigs'], resources: ['*'] },
    'SageMaker List* actions support no resource-level permissions; the function filters the names by the platform prefix and the model.',
  );
}

/**
 * The shadow stage: a config copying the production config with the candidate as its shadow
 * variant, and updates of the production endpoints only, to it and back.
 */
function grantShadowProduction({ role, arns, props }: GrantContext): void {
  allow(
    role,
    {
      actions: ['sagemaker:DescribeEndpoint', 'sagemaker:UpdateEndpoint'],
      resources: [arns.productionEndpoints, arns.sm('endpoint-config', `${props.sagemakerPrefix}*`)],
    },
    'Adds and removes the shadow variant on the per-model production endpoints only (<prefix><model>-production); UpdateEndpoint also names the config.',
  );
  allow(
    role,
    {
      actions: ['sagemaker:DescribeEndpointConfig', 'sagemaker:CreateEndpointConfig', 'sagemaker:AddTags'],
      resources: [arns.sm('endpoint-config', `${props.sagemakerPrefix}*`)],
    },
    'Endpoint configs are created per model and version at run time, all named with the platform prefix.',
  );
  // The copied config names the platform key (data capture, storage volume).
  grantKeyToSageMaker(role, props.keyArn);
}

/** An endpoint config naming the platform key (data capture, storage volume) makes SageMaker create a grant on it, as the caller. */
function grantKeyToSageMaker(role: Role, keyArn: string): void {
  allow(
    role,
    { actions: ['kms:CreateGrant', 'kms:DescribeKey'], resources: [keyArn], conditions: { Bool: { 'kms:GrantIsForAWSResource': 'true' } } },
    'no wildcard',
  );
}
