import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { ModelManifest } from '../../config';
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
   * Metric period.
   * @default one minute
   */
  readonly period?: Duration;
}

/**
 * The alarms a production deployment watches during its bake time and rolls back on
 * (SageMaker deployment guardrails): the share of 5xx responses and the p99 model latency
 * of the production endpoint's variant, against the manifest's `deployment.alarms`.
 */
export class RollbackAlarms extends Construct {
  readonly errorRate: cloudwatch.Alarm;
  readonly latency: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: RollbackAlarmsProps) {
    super(scope, id);
    const { manifest } = props;
    const period = props.period ?? Duration.minutes(1);
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
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    // ModelLatency is published in microseconds; the manifest speaks milliseconds.
    this.latency = metric('ModelLatency', cloudwatch.Stats.p(99)).createAlarm(this, 'Latency', {
      alarmName: latencyName,
      alarmDescription: `${manifest.name}: p99 model latency above ${manifest.deployment.alarms.p99LatencyMs} ms (rolls the deployment back)`,
      threshold: manifest.deployment.alarms.p99LatencyMs * 1000,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (props.topic) {
      for (const alarm of [this.errorRate, this.latency]) alarm.addAlarmAction(new actions.SnsAction(props.topic));
    }
  }
}
