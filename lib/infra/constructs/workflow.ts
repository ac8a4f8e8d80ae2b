import { Duration, Names, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { renderAsl } from '../../asl';
import { TASKS, type TaskName } from '../../tasks';
import { acknowledge } from '../nag';

/** Properties of {@link Workflow}. */
export interface WorkflowProps {
  /** The ASL file, relative to the repository root (lib/tasks.ts `WORKFLOWS[*].file`). */
  readonly file: string;
  /** The tasks the file calls; each one's placeholder is substituted with its function's ARN. */
  readonly tasks: readonly TaskName[];
  /** Function of each task in `tasks`. */
  readonly functionOf: (task: TaskName) => lambda.IFunction;
  /** Receives the failed / timed-out / aborted alarms. */
  readonly alarmTopic: sns.ITopic;
  /**
   * A fixed state machine name, for a machine that others must address before it exists
   * (a task that starts it). Leave unset to let CloudFormation name it.
   * @default generated
   */
  readonly stateMachineName?: string;
  /**
   * Longest an execution may run.
   * @default no limit beyond the service's (one year)
   */
  readonly timeout?: Duration;
  /**
   * Retention of the execution log group.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * A Standard state machine from an ASL file of `statemachines/`, rendered with
 * `renderAsl()` (the same renderer the local cloud uses), logging ALL events with
 * execution data, X-Ray tracing, an explicit invoke grant on exactly its functions, and
 * alarms on failed, timed-out and aborted executions.
 */
export class Workflow extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly logGroup: logs.LogGroup;
  readonly alarms: cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: WorkflowProps) {
    super(scope, id);
    if (!props.tasks.length) throw new Error(`${this.node.path}: a workflow calls at least one task`);

    const functions = props.tasks.map((t) => props.functionOf(t));
    const substitutions = Object.fromEntries(props.tasks.map((t, i) => [TASKS[t].placeholder, functions[i]!.functionArn]));
    // Under /aws/vendedlogs/ CloudWatch Logs does not add a resource-policy statement per
    // log group, whose size limit a growing number of state machines would otherwise reach.
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/aws/vendedlogs/states/${Names.uniqueResourceName(this, { maxLength: 200 })}`,
      retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName: props.stateMachineName,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromString(renderAsl(props.file, substitutions)),
      timeout: props.timeout,
      tracingEnabled: true,
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
    // The definition names functions only by string, so CDK cannot infer the grant.
    // Unqualified ARNs only: the ASL never calls a version or an alias.
    this.stateMachine.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: functions.map((f) => f.functionArn) }),
    );
    acknowledge(this.stateMachine.role, {
      'AwsSolutions-IAM5[Resource::*]':
        'Vended-log delivery (logs:CreateLogDelivery, PutResourcePolicy, ...) and X-Ray (PutTraceSegments, GetSamplingRules, ...) do not support resource-level permissions.',
    });

    const alarm = (name: string, metric: cloudwatch.Metric) => {
      const a = new cloudwatch.Alarm(this, name, {
        alarmDescription: `${id}: ${name} > 0`,
        metric: metric.with({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      a.addAlarmAction(new actions.SnsAction(props.alarmTopic));
      return a;
    };
    this.alarms = [
      alarm('ExecutionsFailed', this.stateMachine.metricFailed()),
      alarm('ExecutionsTimedOut', this.stateMachine.metricTimedOut()),
      alarm('ExecutionsAborted', this.stateMachine.metricAborted()),
    ];
  }
}
