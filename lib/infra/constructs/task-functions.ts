import { join } from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE } from '../../metrics';
import { TASKS, TASK_ENV, TASK_NAMES, type TaskName } from '../../tasks';
import { FUNCTION_BUNDLING } from '../bundling';
import { acknowledge } from '../nag';

/** Values of the task environment, one per `TASK_ENV` key. */
export type TaskEnvironment = { readonly [K in keyof typeof TASK_ENV]: string };

/** Properties of {@link TaskFunctions}. */
export interface TaskFunctionsProps {
  /** Repository root: `TASKS[*].entry` and `package-lock.json` are resolved against it. */
  readonly repoRoot: string;
  /** The environment every task receives (lib/tasks.ts `TASK_ENV`). */
  readonly environment: TaskEnvironment;
  /**
   * Retention of each function's log group.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Powertools log level.
   * @default INFO
   */
  readonly logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
}

/**
 * One Lambda function per entry of `TASKS` (lib/tasks.ts): Node.js 22 on arm64, bundled
 * locally with esbuild (never in Docker), X-Ray tracing, its own log group and its own
 * role. The role starts with nothing but its log group; `TaskPermissions` adds what each
 * task calls.
 */
export class TaskFunctions extends Construct {
  private readonly byName = new Map<TaskName, nodejs.NodejsFunction>();

  constructor(scope: Construct, id: string, props: TaskFunctionsProps) {
    super(scope, id);
    const missing = (Object.keys(TASK_ENV) as (keyof typeof TASK_ENV)[]).filter((k) => !props.environment[k]);
    if (missing.length) throw new Error(`${this.node.path}: environment lacks ${missing.join(', ')}`);
    const environment: Record<string, string> = {
      POWERTOOLS_LOG_LEVEL: props.logLevel ?? 'INFO',
      POWERTOOLS_SERVICE_NAME: 'mlship',
      // The custom metrics' namespace (lib/metrics.ts), which the dashboard searches.
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
    };
    for (const [key, name] of Object.entries(TASK_ENV)) environment[name] = props.environment[key as keyof typeof TASK_ENV];

    for (const name of TASK_NAMES) {
      const task = TASKS[name];
      const scope = new Construct(this, name);
      const logGroup = new logs.LogGroup(scope, 'Logs', {
        retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      // A role of our own: the default one would carry the AWSLambdaBasicExecutionRole
      // managed policy (logs:* on every log group).
      const role = new iam.Role(scope, 'Role', {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `mlship task ${name}`,
      });
      logGroup.grantWrite(role);
      const fn = new nodejs.NodejsFunction(scope, 'Function', {
        entry: join(props.repoRoot, task.entry),
        handler: 'handler',
        projectRoot: props.repoRoot,
        depsLockFilePath: join(props.repoRoot, 'package-lock.json'),
        description: task.description,
        runtime: lambda.Runtime.NODEJS_22_X,
        architecture: lambda.Architecture.ARM_64,
        timeout: Duration.seconds(task.timeoutSeconds),
        memorySize: task.memoryMiB,
        tracing: lambda.Tracing.ACTIVE,
        logGroup,
        role,
        environment,
        bundling: FUNCTION_BUNDLING,
      });
      acknowledge(role, {
        'AwsSolutions-IAM5[Resource::*]':
          'X-Ray PutTraceSegments/PutTelemetryRecords (active tracing) do not support resource-level permissions.',
      });
      acknowledge(fn, {
        'AwsSolutions-L1':
          'Pinned to nodejs22.x on purpose: the handlers are tested on Node.js 20 and 22 (CI); the runtime moves when CI does.',
      });
      this.byName.set(name, fn);
    }
  }

  /** The function of a task. */
  function(name: TaskName): nodejs.NodejsFunction {
    const fn = this.byName.get(name);
    if (!fn) throw new Error(`${this.node.path}: no function for task "${name}"`);
    return fn;
  }
}
