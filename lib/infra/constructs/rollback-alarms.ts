import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import {
  ALARM_METRICS,
  minimumBakeSeconds,
  ROLLBACK_ALARM_TIMING,
  rollbackAlarmSpecs,
  type ModelManifest,
  type RollbackAlarmSpec,
} from '../../config';
import { endpointName, VARIANT_NAME } from '../../../lambdas/shared/names';

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
 * of the production endpoint's variant, exactly as `rollbackAlarmSpecs()` defines them
 * (`lib/config/rollback-alarms.ts`, which the local cloud evaluates too): thresholds, period,
 * evaluation periods, datapoints to alarm and missing-data treatment.
 *
 * Timing: a 60 s period and one evaluation period (`ROLLBACK_ALARM_TIMING`), so an alarm can
 * fire within a bake of period × evaluation periods + 120 s; the manifest refuses a shorter
 * bake, and so does this construct for a longer period.
 *
 * Which fleet they watch: the variant (EndpointName + VariantName), so during a blue/green
 * update the old and the new fleet mixed; the 5xx threshold is scaled by the new fleet's
 * smallest traffic share so that a broken canary still trips it. Why, and why not an alarm on
 * the new fleet's EndpointConfigName dimension: see `lib/config/rollback-alarms.ts`.
 */
export class RollbackAlarms extends Construct {
  readonly errorRate: cloudwatch.Alarm;
  readonly latency: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: RollbackAlarmsProps) {
    super(scope, id);
    const { manifest } = props;
    const period = props.period ?? Duration.seconds(ROLLBACK_ALARM_TIMING.periodSeconds);
    const [errorSpec, latencySpec] = rollbackAlarmSpecs(manifest, props.alarmPrefix, { periodSeconds: period.toSeconds() }) as [
      RollbackAlarmSpec,
      RollbackAlarmSpec,
    ];
    const minimumBake = minimumBakeSeconds({
      ...ROLLBACK_ALARM_TIMING,
      periodSeconds: errorSpec.periodSeconds,
      evaluationPeriods: errorSpec.evaluationPeriods,
    });
    if (manifest.deployment.bakeTime < minimumBake) {
      throw new Error(
        `${this.node.path}: ${manifest.name}'s bake time ${manifest.deployment.bakeTime}s is shorter than the ${minimumBake}s its rollback alarms need to fire (period ${errorSpec.periodSeconds}s × ${errorSpec.evaluationPeriods} + ${ROLLBACK_ALARM_TIMING.ingestionMarginSeconds}s)`,
      );
    }
    const dimensionsMap = { EndpointName: endpointName(manifest.name, 'production'), VariantName: VARIANT_NAME };
    const metric = (namespace: string, metricName: string, statistic: string) =>
      new cloudwatch.Metric({ namespace, metricName, dimensionsMap, statistic, period });
    const alarmProps = (spec: RollbackAlarmSpec): cloudwatch.CreateAlarmOptions => ({
      alarmName: spec.name,
      alarmDescription: spec.description,
      threshold: spec.threshold,
      comparisonOperator: spec.comparisonOperator as cloudwatch.ComparisonOperator,
      evaluationPeriods: spec.evaluationPeriods,
      datapointsToAlarm: spec.datapointsToAlarm,
      treatMissingData: spec.treatMissingData as cloudwatch.TreatMissingData,
    });

    const rate = ALARM_METRICS['5xx-rate'];
    this.errorRate = new cloudwatch.MathExpression({
      expression: rate.expression,
      usingMetrics: Object.fromEntries(Object.entries(rate.inputs).map(([id, name]) => [id, metric(rate.namespace, name, rate.statistic)])),
      label: rate.label,
      period,
    }).createAlarm(this, 'ErrorRate', alarmProps(errorSpec));
    const latency = ALARM_METRICS['p99-latency'];
    this.latency = metric(latency.namespace, latency.metricName, latency.statistic).createAlarm(this, 'Latency', alarmProps(latencySpec));
    if (props.topic) {
      for (const alarm of [this.errorRate, this.latency]) alarm.addAlarmAction(new actions.SnsAction(props.topic));
    }
  }
}
