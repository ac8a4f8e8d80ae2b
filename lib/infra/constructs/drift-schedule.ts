import type * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

/** Properties of {@link DriftSchedule}. */
export interface DriftScheduleProps {
  readonly model: string;
  /** `rate(...)` or `cron(...)` (the manifest's `drift.schedule`), read in UTC as EventBridge rules read it. */
  readonly schedule: string;
  /** The drift-check state machine, started with `{ "model": <model> }`. */
  readonly stateMachine: sfn.IStateMachine;
  /**
   * The role EventBridge Scheduler starts the execution with (assumed by
   * `scheduler.amazonaws.com`, allowed `states:StartExecution` on the machine). One role for
   * every model keeps the role count independent of the number of models; it is used as given.
   */
  readonly role: iam.IRole;
}

/**
 * An EventBridge Scheduler schedule that starts a model's drift check (issue 17). Not an
 * EventBridge rule: an event bus holds 300 rules by default, so a rule per model stops a
 * deployment near 300 models, where Scheduler allows 1,000,000 schedules per account. The
 * expressions are the same `rate(...)`/`cron(...)` the local cloud's scheduler reads. The L1
 * resource, with the role's ARN: the L2 target would add a statement per schedule to the
 * shared role's policy, which grows with the model count towards IAM's policy size limit.
 */
export class DriftSchedule extends Construct {
  readonly schedule: scheduler.CfnSchedule;

  constructor(scope: Construct, id: string, props: DriftScheduleProps) {
    super(scope, id);
    if (!/^(rate|cron)\(.+\)$/.test(props.schedule)) {
      throw new Error(`${this.node.path}: schedule "${props.schedule}" is not an EventBridge rate(...) or cron(...) expression`);
    }
    this.schedule = new scheduler.CfnSchedule(this, 'Schedule', {
      description: `mlship: drift check of ${props.model}`,
      scheduleExpression: props.schedule,
      scheduleExpressionTimezone: 'UTC',
      flexibleTimeWindow: { mode: 'OFF' },
      state: 'ENABLED',
      target: {
        arn: props.stateMachine.stateMachineArn,
        roleArn: props.role.roleArn,
        input: JSON.stringify({ model: props.model }),
        // A drift check missed for an hour is made up by the next one: retry briefly, then drop.
        retryPolicy: { maximumRetryAttempts: 3, maximumEventAgeInSeconds: 3600 },
      },
    });
  }
}
