import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { minimumBakeSeconds, ROLLBACK_ALARM_TIMING, type ModelManifest } from '../../config';
import { endpointName, rollbackAlarmNames, VARIANT_NAME } from '../../../lambdas/shared/names';

/** Properties of {@link RollbackAlarms}. */
export interface RollbackAlarmsProps {
  readonly manifest: ModelManifest;
  /** `ROLLBACK_ALARM_PREFIX`: the alarms are `<prefix><model>-5xx` and `<prefix><model>-p99-latency`. */
  readonly alarmPrefix: string;
  /**
   * Also notify this topic when an alarm fires (the deployment rolls back either way).
   * @default no notification
   */
  readonly topic?: sns.ITopic;
  /**
   * Metric period. With the evaluation periods and CloudWatch's margin it must fit in the
   * manifest's bake time, which is refused otherwise.
   * @default one minute (`ROLLBACK_ALARM_TIMING.periodSeconds`)
   */
  readonly period?: Duration;
}

/**
 * The alarms a production deployment watches during its bake time and rolls back on
 * (SageMaker deployment guardrails): the share of 5xx responses and the p99 model latency
 * of the production endpoint's variant, against the manifest's `deployment.alarms`.
 *
 * Timing: a 60 s period and one evaluation period (`ROLLBACK_ALARM_TIMING`), so an alarm can
 * fire within a bake of period × evaluation periods + 120 s; the manifest refuses a shorter
 * bake, and so does this construct for a longer period.
 *
 * Which fleet they watch: SageMaker publishes these metrics with the dimensions EndpointName
 * and VariantName only. During a blue/green update both fleets carry the same variant name,
 * so the alarms see the old and the new fleet together (as the SageMaker guide's "monitor
 * invocation errors on both old and new fleets" example does): a canary's failures are
 * diluted by the old fleet's healthy traffic. Watching the new fleet alone would take a
 * variant name per version and an alarm per deployment, created by the deploy task; not done.
 */
export class RollbackAlarms extends Construct {
  readonly errorRate: cloudwatch.Alarm;
  readonly latency: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: RollbackAlarmsProps) {
    super(scope, id);
    const { manifest } = props;
    const period = props.period ?? Duration.seconds(ROLLBACK_ALARM_TIMING.periodSeconds);
    const evaluationPeriods = ROLLBACK_ALARM_TIMING.evaluationPeriods;
    const minimumBake = minimumBakeSeconds({ ...ROLLBACK_ALARM_TIMING, periodSeconds: period.toSeconds() });
    if (manifest.deployment.bakeTime < minimumBake) {
      throw new Error(
        `${this.node.path}: ${manifest.name}'s bake time ${manifest.deployment.bakeTime}s is shorter than the ${minimumBake}s its rollback alarms need to fire (period ${period.toSeconds()}s × ${evaluationPeriods} + ${ROLLBACK_ALARM_TIMING.ingestionMarginSeconds}s)`,
      );
    }
    const dimensionsMap = { EndpointName: endpointName(manifest.name, 'production'), VariantName: VARIANT_NAME };
    const metric = (metricName: string, statistic: string) => new cloudwatch.Metric({ namespace: 'AWS/SageMaker', metricName, dimensionsMap, statistic, period });
    const [errorName, latencyName] = rollbackAlarmNames(props.alarmPrefix, manifest.name) as [string, string];

    this.errorRate = new cloudwatch.MathExpression({
      expression: 'IF(invocations > 0, errors / invocations, 0)',
      usingMetrics: { errors: metric('Invocation5XXErrors', cloudwatch.Stats.SUM), invocations: metric('Invocations', cloudwatch.Stats.SUM) },
      label: '5xx rate',
      period,
    }).createAlarm(this, 'ErrorRate', {
      alarmName: errorName,
      alarmDescription: `${manifest.name}: share of 5xx responses above ${manifest.deployment.alarms.max5xxRate} (rolls the deployment back)`,
      threshold: manifest.deployment.alarms.max5xxRate,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    // ModelLatency is published in microseconds; the manifest speaks milliseconds.
    this.latency = metric('ModelLatency', cloudwatch.Stats.p(99)).createAlarm(this, 'Latency', {
      alarmName: latencyName,
      alarmDescription: `${manifest.name}: p99 model latency above ${manifest.deployment.alarms.p99LatencyMs} ms (rolls the deployment back)`,
      threshold: manifest.deployment.alarms.p99LatencyMs * 1000,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (props.topic) {
      for (const alarm of [this.errorRate, this.latency]) alarm.addAlarmAction(new actions.SnsAction(props.topic));
    }
  }
}
