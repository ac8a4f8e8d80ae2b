/**
 * The one record of every Lambda task the two workflows call, and of DecideApproval, which
 * approvers call.
 *
 * CDK makes one function per entry and substitutes `placeholder` in the ASL with its ARN;
 * the local cloud substitutes a local ARN and invokes `entry`'s `handler` in-process; the
 * tests read it to check that every task is wired. Adding a task is one edit here plus its
 * module under `lambdas/`.
 */
export const TASKS = {
  PrepareRelease: {
    placeholder: 'PrepareReleaseFunctionArn',
    entry: 'lambdas/prepare-release/handler.ts',
    description: 'Snapshot the manifest of the commit and create the registry version record',
    timeoutSeconds: 30,
    memoryMiB: 256,
  },
  ModelLease: {
    placeholder: 'ModelLeaseFunctionArn',
    entry: 'lambdas/model-lease/handler.ts',
    description: 'One release per model at a time: take, wait for or supersede the model lease; claim it for production',
    timeoutSeconds: 30,
    memoryMiB: 256,
  },
  StartBuild: {
    placeholder: 'StartBuildFunctionArn',
    entry: 'lambdas/start-build/handler.ts',
    description: "Start the CodeBuild build of the model's buildspec",
    timeoutSeconds: 30,
    memoryMiB: 256,
  },
  CheckBuild: {
    placeholder: 'CheckBuildFunctionArn',
    entry: 'lambdas/check-build/handler.ts',
    description: 'Map BatchGetBuilds to a small status the Choice reads; record the bundle on success',
    timeoutSeconds: 30,
    memoryMiB: 256,
  },
  PrepareTraining: {
    placeholder: 'PrepareTrainingFunctionArn',
    entry: 'lambdas/prepare-training/handler.ts',
    description: "After the build: the manifest's training mode, and the SageMaker training job request for mode sagemaker",
    timeoutSeconds: 30,
    memoryMiB: 256,
  },
  RecordTraining: {
    placeholder: 'RecordTrainingFunctionArn',
    entry: 'lambdas/record-training/handler.ts',
    description: 'Record the completed training job on the version: artifact and digest, hyperparameters, metrics, billable seconds',
    timeoutSeconds: 90,
    memoryMiB: 256,
  },
  DeployEndpoint: {
    placeholder: 'DeployEndpointFunctionArn',
    entry: 'lambdas/deploy-endpoint/handler.ts',
    description: 'Create or update the staging or production SageMaker endpoint',
    timeoutSeconds: 60,
    memoryMiB: 256,
  },
  CheckEndpoint: {
    placeholder: 'CheckEndpointFunctionArn',
    entry: 'lambdas/check-endpoint/handler.ts',
    description: 'Map DescribeEndpoint to InService / Updating / Failed / RolledBack',
    timeoutSeconds: 30,
    memoryMiB: 256,
  },
  EvaluateModel: {
    placeholder: 'EvaluateModelFunctionArn',
    entry: 'lambdas/evaluate-model/handler.ts',
    description: 'Score the holdout through the staging endpoint, gate it and write the quality report',
    timeoutSeconds: 900,
    memoryMiB: 1024,
  },
  LoadTest: {
    placeholder: 'LoadTestFunctionArn',
    entry: 'lambdas/load-test/handler.ts',
    description: 'Drive the staging endpoint at the manifest rate and gate on latency and errors',
    timeoutSeconds: 900,
    memoryMiB: 512,
  },
  ShadowTest: {
    placeholder: 'ShadowTestFunctionArn',
    entry: 'lambdas/shadow-test/handler.ts',
    description: 'Run the candidate as a shadow variant of production on live requests, compare the answers and give a verdict',
    timeoutSeconds: 300,
    memoryMiB: 512,
  },
  AbTest: {
    placeholder: 'AbTestFunctionArn',
    entry: 'lambdas/ab-test/handler.ts',
    description:
      'After the approval, split production traffic with the candidate and run the pre-registered test on the ground-truth metric',
    timeoutSeconds: 300,
    memoryMiB: 512,
  },
  RequestApproval: {
    placeholder: 'RequestApprovalFunctionArn',
    entry: 'lambdas/request-approval/handler.ts',
    description: 'Store the pending approval with its task token and notify approvers',
    timeoutSeconds: 30,
    memoryMiB: 256,
  },
  DecideApproval: {
    // No workflow calls it: approvers do, through its function URL (AWS_IAM auth) on AWS and
    // `POST /_mlship/decide-approval` locally. It alone holds the task token and SendTask*.
    placeholder: 'DecideApprovalFunctionArn',
    entry: 'lambdas/decide-approval/handler.ts',
    description: 'Record an approver decision with a conditional write, then deliver it to the waiting release',
    timeoutSeconds: 30,
    memoryMiB: 256,
  },
  PromoteVersion: {
    placeholder: 'PromoteVersionFunctionArn',
    entry: 'lambdas/promote-version/handler.ts',
    description: 'Make this version production in the registry and archive the previous one',
    timeoutSeconds: 30,
    memoryMiB: 256,
  },
  DeleteStagingEndpoint: {
    placeholder: 'DeleteStagingEndpointFunctionArn',
    entry: 'lambdas/delete-staging-endpoint/handler.ts',
    description: "Delete the model's staging endpoint when its release ends, unless the manifest keeps it",
    timeoutSeconds: 30,
    memoryMiB: 256,
  },
  PruneVersions: {
    placeholder: 'PruneVersionsFunctionArn',
    entry: 'lambdas/prune-versions/handler.ts',
    description: 'Delete the SageMaker models and endpoint configs no endpoint or rollback needs any more',
    timeoutSeconds: 120,
    memoryMiB: 256,
  },
  RecordOutcome: {
    placeholder: 'RecordOutcomeFunctionArn',
    entry: 'lambdas/record-outcome/handler.ts',
    description: "Record the release's final outcome on its version and notify (SNS)",
    timeoutSeconds: 30,
    memoryMiB: 256,
  },
  CheckDrift: {
    placeholder: 'CheckDriftFunctionArn',
    entry: 'lambdas/check-drift/handler.ts',
    description: 'Compare captured inference data and ground truth with the training baseline',
    timeoutSeconds: 900,
    memoryMiB: 1024,
  },
  TriggerRetraining: {
    placeholder: 'TriggerRetrainingFunctionArn',
    entry: 'lambdas/trigger-retraining/handler.ts',
    description: 'Start a drift-triggered release unless one is running or the cooldown has not passed',
    timeoutSeconds: 30,
    memoryMiB: 256,
  },
} as const;

export type TaskName = keyof typeof TASKS;

/**
 * Functions that run on a schedule, not in a workflow: CDK gives each an EventBridge rule
 * (lib/infra/constructs/scheduled-functions.ts), the local cloud runs each from its scheduler.
 */
export const SCHEDULED_FUNCTIONS = {
  WeeklyReport: {
    entry: 'lambdas/weekly-report/handler.ts',
    description: "The week's releases, production versions, drift verdicts and traffic per model, to S3 and SNS",
    // Mondays 08:00 UTC: the week that just ended, before the team's week starts.
    schedule: 'cron(0 8 ? * MON *)',
    timeoutSeconds: 300,
    memoryMiB: 512,
  },
} as const;
export type ScheduledFunctionName = keyof typeof SCHEDULED_FUNCTIONS;
export const TASK_NAMES = Object.keys(TASKS) as TaskName[];

/** The two workflows, their ASL files and which tasks each one calls. */
export const WORKFLOWS = {
  release: {
    file: 'statemachines/release.asl.json',
    tasks: [
      'PrepareRelease',
      'ModelLease',
      'StartBuild',
      'CheckBuild',
      'PrepareTraining',
      'RecordTraining',
      'DeployEndpoint',
      'CheckEndpoint',
      'EvaluateModel',
      'LoadTest',
      'ShadowTest',
      'AbTest',
      'RequestApproval',
      'PromoteVersion',
      'PruneVersions',
      'DeleteStagingEndpoint',
      'RecordOutcome',
    ],
  },
  driftCheck: {
    file: 'statemachines/drift-check.asl.json',
    tasks: ['CheckDrift', 'TriggerRetraining', 'RecordOutcome'],
  },
} as const satisfies Record<string, { file: string; tasks: readonly TaskName[] }>;

export type WorkflowName = keyof typeof WORKFLOWS;

/**
 * Environment variables every task function receives. CDK sets them from the stacks; the
 * local cloud sets them from its own resources. `lambdas/shared/env.ts` reads them.
 */
export const TASK_ENV = {
  artifactBucket: 'ARTIFACT_BUCKET',
  notificationTopicArn: 'NOTIFICATION_TOPIC_ARN',
  releaseStateMachineArn: 'RELEASE_STATE_MACHINE_ARN',
  buildProjectPrefix: 'BUILD_PROJECT_PREFIX',
  sagemakerRoleArn: 'SAGEMAKER_ROLE_ARN',
  imageRepositoryPrefix: 'IMAGE_REPOSITORY_PREFIX',
  kmsKeyId: 'KMS_KEY_ID',
  rollbackAlarmPrefix: 'ROLLBACK_ALARM_PREFIX',
} as const;

/**
 * Environment variables a task may receive; unset means the AWS default. CDK leaves them
 * unset; the local cloud sets them where AWS's default does not exist locally.
 */
export const OPTIONAL_TASK_ENV = {
  /**
   * Where an endpoint's model-server log is, `{endpoint}` for its name; failure causes name
   * it. @default SageMaker's CloudWatch log group /aws/sagemaker/Endpoints/<name>
   */
  endpointLogLocation: 'ENDPOINT_LOG_LOCATION',
  /** Names the deployment in the weekly report: the platform stack's name on AWS. @default the artifact bucket's name */
  deployment: 'MLSHIP_DEPLOYMENT',
  /**
   * The one build project every model's build runs in (AWS: the shared project, issue 17).
   * @default `<BUILD_PROJECT_PREFIX><model>`, a project per model (the local cloud)
   */
  buildProject: 'BUILD_PROJECT_NAME',
} as const;
