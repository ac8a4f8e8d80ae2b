import { join } from 'node:path';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { TASK_ENV } from '../../tasks';
import { FUNCTION_BUNDLING } from '../bundling';
import { allow } from '../iam';
import { acknowledge } from '../nag';

/** Properties of {@link ReleaseStarter}. */
export interface ReleaseStarterProps {
  /** Repository root (for the lock file). */
  readonly repoRoot: string;
  readonly artifactBucketName: string;
  readonly artifactBucketArn: string;
  /** The pipelines' artifact store, where the source action leaves the commit's zip. */
  readonly pipelineArtifactBucketArn: string;
  readonly keyArn: string;
  readonly releaseStateMachineArn: string;
  /** The pipelines whose release stage runs the function: it asks each what started its execution. */
  readonly pipelineNames: readonly string[];
  /**
   * Retention of the function's log group.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

/** The handler, relative to the repository root like the entries of lib/tasks.ts. */
export const RELEASE_STARTER_ENTRY = 'lib/infra/release-starter/handler.ts';

/**
 * The function behind every pipeline's release stage: copies the source zip to
 * `source/<model>/<commit>.zip` and starts the release execution without waiting for it.
 */
export class ReleaseStarter extends Construct {
  readonly function: nodejs.NodejsFunction;

  constructor(scope: Construct, id: string, props: ReleaseStarterProps) {
    super(scope, id);
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'mlship pipeline release stage',
    });
    logGroup.grantWrite(role);
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: join(props.repoRoot, RELEASE_STARTER_ENTRY),
      handler: 'handler',
      projectRoot: props.repoRoot,
      depsLockFilePath: join(props.repoRoot, 'package-lock.json'),
      description: 'Start the releases of the models a push touched (no waiting)',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      // A push may start hundreds of releases (8 at a time) and reads the whole source zip.
      timeout: Duration.minutes(5),
      memorySize: 1024,
      tracing: lambda.Tracing.ACTIVE,
      logGroup,
      role,
      environment: {
        [TASK_ENV.artifactBucket]: props.artifactBucketName,
        [TASK_ENV.releaseStateMachineArn]: props.releaseStateMachineArn,
        POWERTOOLS_SERVICE_NAME: 'mlship',
      },
      bundling: FUNCTION_BUNDLING,
    });
    acknowledge(this.function, {
      'AwsSolutions-L1':
        'Pinned to nodejs22.x on purpose: the handlers are tested on Node.js 20 and 22 (CI); the runtime moves when CI does.',
    });
    const why = 'Pipeline artifacts have run-time keys under the pipeline artifact store; copies go to source/<model>/<commit>.zip.';
    allow(role, { actions: ['s3:GetObject'], resources: [`${props.pipelineArtifactBucketArn}/*`] }, why);
    allow(role, { actions: ['s3:PutObject'], resources: [`${props.artifactBucketArn}/source/*`] }, why);
    allow(
      role,
      { actions: ['s3:GetObject', 's3:PutObject'], resources: [`${props.artifactBucketArn}/pipeline/trees/*`] },
      'The tree of the last push handled on each branch (pipeline/trees/<branch>.json), to find what a push changed; branches are known at run time.',
    );
    allow(role, { actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [props.keyArn] }, 'no wildcard');
    allow(role, { actions: ['states:StartExecution'], resources: [props.releaseStateMachineArn] }, 'no wildcard');
    // ARNs from the names, not the pipelines' attributes: each pipeline depends on this
    // function, so referring to them here would be a cycle.
    const pipelineArns = props.pipelineNames.map((name) => Stack.of(this).formatArn({ service: 'codepipeline', resource: name }));
    if (pipelineArns.length) allow(role, { actions: ['codepipeline:GetPipelineExecution'], resources: pipelineArns }, 'no wildcard');
    acknowledge(role, {
      'AwsSolutions-IAM5[Resource::*]':
        'codepipeline:PutJobSuccessResult/PutJobFailureResult and X-Ray PutTraceSegments/PutTelemetryRecords do not support resource-level permissions.',
    });
  }
}
