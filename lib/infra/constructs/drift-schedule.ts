import * as events from 'aws-cdk-lib/aws-events';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

/** Properties of {@link DriftSchedule}. */
export interface DriftScheduleProps {
  readonly model: string;
  /** EventBridge expression, `rate(...)` or `cron(...)` (the manifest's `drift.schedule`). */
  readonly schedule: string;
  /** The drift-check state machine, started with `{ "model": <model> }`. */
  readonly stateMachine: sfn.IStateMachine;
  /**
   * The role EventBridge starts the execution with; one shared role keeps the role count
   * independent of the number of models.
   * @default CDK's role for the state machine
   */
  readonly role?: iam.IRole;
}

/** The EventBridge rule that starts a model's drift check on its schedule. */
export class DriftSchedule extends Construct {
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: DriftScheduleProps) {
    super(scope, id);
    if (!/^(rate|cron)\(.+\)$/.test(props.schedule)) {
      throw new Error(`${this.node.path}: schedule "${props.schedule}" is not an EventBridge rate(...) or cron(...) expression`);
    }
    this.rule = new events.Rule(this, 'Rule', {
      description: `mlship: drift check of ${props.model}`,
      schedule: events.Schedule.expression(props.schedule),
    });
    this.rule.addTarget(
      new targets.SfnStateMachine(props.stateMachine, {
        input: events.RuleTargetInput.fromObject({ model: props.model }),
        role: props.role,
      }),
    );
  }
}
