import { join } from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { OPTIONAL_TASK_ENV, SCHEDULED_FUNCTIONS, TASK_ENV, type ScheduledFunctionName } from '../../tasks';
import { FUNCTION_BUNDLING } from '../bundling';
import { allow } from '../iam';
import { acknowledge } from '../nag';

/** Properties of {@link ScheduledFunctions}. */
export interface ScheduledFunctionsProps {
  /** Repository root: `SCHEDULED_FUNCTIONS[*].entry` and `package-lock.json` are resolved against it. */
  readonly repoRoot: string;
  readonly artifactBucketName: string;
  readonly artifactBucketArn: string;
  /** The platform key the bucket and the topic are encrypted with. */
  readonly keyArn: string;
  readonly topicArn: string;
  /** Names the deployment in the weekly report (the stack name). */
  readonly deployment: string;
  /**
   * Retention of each function's log group.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

/** What each scheduled function may read and write in the artifact bucket. */
const ACCESS: { readonly [F in ScheduledFunctionName]: { read: readonly string[]; write: readonly string[] } } = {
  // The history it summarises; the report it writes is under reports/weekly/ only.
  WeeklyReport: { read: ['registry/', 'monitoring/', 'capture/'], write: ['reports/weekly/'] },
};

/**
 * One Lambda function per entry of `SCHEDULED_FUNCTIONS` (lib/tasks.ts), built as the task
 * functions are (Node.js 22, arm64, esbuild, X-Ray, own log group and role), started by an
 * EventBridge rule on its schedule. The local cloud runs the same handler from its scheduler.
 */
export class ScheduledFunctions extends Construct {
  private readonly byName = new Map<ScheduledFunctionName, nodejs.NodejsFunction>();

  constructor(scope: Construct, id: string, props: ScheduledFunctionsProps) {
    super(scope, id);
    for (const name of Object.keys(SCHEDULED_FUNCTIONS) as ScheduledFunctionName[]) {
      const spec = SCHEDULED_FUNCTIONS[name];
      const part = new Construct(this, name);
      const logGroup = new logs.LogGroup(part, 'Logs', {
        retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      const role = new iam.Role(part, 'Role', {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `mlship ${name}`,
      });
      logGroup.grantWrite(role);
      const fn = new nodejs.NodejsFunction(part, 'Function', {
        entry: join(props.repoRoot, spec.entry),
        handler: 'handler',
        projectRoot: props.repoRoot,
        depsLockFilePath: join(props.repoRoot, 'package-lock.json'),
        description: spec.description,
        runtime: lambda.Runtime.NODEJS_22_X,
        architecture: lambda.Architecture.ARM_64,
        timeout: Duration.seconds(spec.timeoutSeconds),
        memorySize: spec.memoryMiB,
        tracing: lambda.Tracing.ACTIVE,
        logGroup,
        role,
        environment: {
          POWERTOOLS_LOG_LEVEL: 'INFO',
          POWERTOOLS_SERVICE_NAME: 'mlship',
          [TASK_ENV.artifactBucket]: props.artifactBucketName,
          [TASK_ENV.notificationTopicArn]: props.topicArn,
          [OPTIONAL_TASK_ENV.deployment]: props.deployment,
        },
        bundling: FUNCTION_BUNDLING,
      });
      this.grant(role, name, props);
      acknowledge(role, {
        'AwsSolutions-IAM5[Resource::*]':
          'X-Ray PutTraceSegments/PutTelemetryRecords (active tracing) do not support resource-level permissions.',
      });
      acknowledge(fn, {
        'AwsSolutions-L1': 'Pinned to nodejs22.x as the task functions are: the runtime moves when CI does.',
      });
      new events.Rule(part, 'Schedule', {
        description: `mlship: ${name}`,
        schedule: events.Schedule.expression(spec.schedule),
        targets: [new targets.LambdaFunction(fn, { retryAttempts: 2 })],
      });
      this.byName.set(name, fn);
    }
  }

  private grant(role: iam.Role, name: ScheduledFunctionName, props: ScheduledFunctionsProps): void {
    const access = ACCESS[name];
    const objects = (prefix: string) => `${props.artifactBucketArn}/${prefix}*`;
    const why = `${name} reads and writes objects under fixed prefixes of the artifact bucket; object keys are only known at run time.`;
    allow(role, { actions: ['s3:GetObject'], resources: access.read.map(objects) }, why);
    allow(role, { actions: ['s3:PutObject'], resources: access.write.map(objects) }, why);
    // It lists the registry, the monitoring runs and the capture partitions.
    allow(role, { actions: ['s3:ListBucket'], resources: [props.artifactBucketArn] }, 'no wildcard');
    allow(role, { actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [props.keyArn] }, 'no wildcard');
    allow(role, { actions: ['sns:Publish'], resources: [props.topicArn] }, 'no wildcard');
  }

  /** The function of a scheduled function name. */
  function(name: ScheduledFunctionName): nodejs.NodejsFunction {
    const fn = this.byName.get(name);
    if (!fn) throw new Error(`${this.node.path}: no function "${name}"`);
    return fn;
  }
}
