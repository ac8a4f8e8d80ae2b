/**
 * The rollback alarms of a model, in one place: the CDK construct
 * (`lib/infra/constructs/rollback-alarms.ts`) creates exactly these CloudWatch alarms, and the
 * local cloud's SageMaker evaluates exactly these definitions the way CloudWatch does
 * (`lib/local/sagemaker/alarm-evaluation.ts`), so the twin rolls back when AWS would.
 *
 * Which fleet they see. SageMaker publishes `Invocations`, `Invocation5XXErrors` and
 * `ModelLatency` per EndpointName + VariantName, and also per EndpointName + VariantName +
 * EndpointConfigName once a new fleet takes traffic (SageMaker Developer Guide, "Auto-Rollback
 * Configuration and Monitoring", example "Monitor model latency on the new fleet"). The
 * EndpointConfigName is a new one per version (`mlship-<model>-<version>-p`), so an alarm on the
 * new fleet alone would have to be created by the deploy task for each deployment
 * (PutMetricAlarm, and DeleteAlarms after it); these alarms are created once, at deploy time of
 * the stack, and watch the variant: during a blue/green update they see the old and the new
 * fleet mixed, in proportion to their traffic.
 *
 * So that a broken canary still trips the 5xx alarm, its threshold is the manifest's
 * `max5xxRate` scaled by the smallest share of traffic the new fleet takes during a step
 * ({@link smallestNewFleetShare}): with the old fleet healthy, the mixed rate is
 * share × (the new fleet's rate), which exceeds share × max5xxRate exactly when the new fleet
 * exceeds max5xxRate. The price: once the new fleet takes all traffic the alarm is stricter
 * than the manifest (it fires at share × max5xxRate), and errors of the old fleet count
 * towards it (as SageMaker's "both fleets" example warns). A rollback on a stricter alarm
 * keeps the previous version serving; a canary failing unseen would not.
 *
 * The p99 alarm is not scaled: a new fleet with share s >= 1 % of the traffic holds the mixed
 * top 1 % once its own (1 - 0.01 / s) quantile is above the threshold (its p90 for a 10 %
 * canary, its p98 for a 50 % one), so a slow canary trips it; one slow only in its own
 * slowest 1 % does not.
 */

/** `TreatMissingData` of PutMetricAlarm. */
export type TreatMissingData = 'breaching' | 'notBreaching' | 'ignore' | 'missing';

/** `ComparisonOperator` of PutMetricAlarm (the static-threshold ones). */
export type ComparisonOperator =
  'GreaterThanThreshold' | 'GreaterThanOrEqualToThreshold' | 'LessThanThreshold' | 'LessThanOrEqualToThreshold';

/** What a rollback alarm watches. */
export type AlarmMetricKind = '5xx-rate' | 'p99-latency';

/**
 * The CloudWatch metrics behind each kind, in SageMaker's units (ModelLatency is published
 * in microseconds). A period without invocations has no data point (missing).
 */
export const ALARM_METRICS = {
  '5xx-rate': {
    namespace: 'AWS/SageMaker',
    label: '5xx rate',
    /** Metric math over the Sum of each input. */
    expression: 'IF(invocations > 0, errors / invocations, 0)',
    inputs: { errors: 'Invocation5XXErrors', invocations: 'Invocations' },
    statistic: 'Sum',
  },
  'p99-latency': { namespace: 'AWS/SageMaker', label: 'p99 model latency (µs)', metricName: 'ModelLatency', statistic: 'p99' },
} as const;

/**
 * How the rollback alarms evaluate, and so how long a bake must last for them to be able to
 * fire inside it.
 *
 * SageMaker publishes endpoint invocation metrics to CloudWatch once a minute; an alarm with a
 * 60 s period and one evaluation period sees a minute's data point only after that minute has
 * ended, been published, and the alarm's next once-a-minute evaluation has run. The rule:
 *
 *   bake >= period × evaluation periods + ingestion margin = 60 s × 1 + 120 s = 180 s (3 minutes)
 *
 * The margin is one minute for SageMaker's publication and one minute for the alarm's own
 * evaluation. A shorter bake ends, and the traffic moves on (or the old fleet is terminated),
 * before a failing canary can trip an alarm. The local cloud delays publication and evaluates
 * on the same minute grid (scaled by its timeScale), so it holds to the same rule.
 */
export const ROLLBACK_ALARM_TIMING = {
  /** Alarm period. */
  periodSeconds: 60,
  /** Periods the alarm evaluates (N). */
  evaluationPeriods: 1,
  /** Breaching periods among them that put the alarm in ALARM (M). */
  datapointsToAlarm: 1,
  /** A minute without invocations is no evidence against the new version. */
  treatMissingData: 'notBreaching',
  /** How long after a minute ends its data point can be read. */
  publicationDelaySeconds: 60,
  /** CloudWatch evaluates an alarm of a period of a minute or more once a minute. */
  evaluationIntervalSeconds: 60,
  /** Publication and evaluation delay of CloudWatch on top of the periods. */
  ingestionMarginSeconds: 120,
} as const;

/** The shortest bake in which alarms of this timing can fire: period × evaluation periods + margin. */
export function minimumBakeSeconds(
  timing: { periodSeconds: number; evaluationPeriods: number; ingestionMarginSeconds: number } = ROLLBACK_ALARM_TIMING,
): number {
  return timing.periodSeconds * timing.evaluationPeriods + timing.ingestionMarginSeconds;
}

/** The evaluation settings of a metric alarm, as PutMetricAlarm takes them. */
export interface AlarmEvaluation {
  periodSeconds: number;
  evaluationPeriods: number;
  datapointsToAlarm: number;
  treatMissingData: TreatMissingData;
  comparisonOperator: ComparisonOperator;
  /** In the metric's CloudWatch unit: a rate 0..1, or microseconds. */
  threshold: number;
}

/** A rollback alarm without its name: what it watches and how it evaluates. */
export interface AlarmDefinition extends AlarmEvaluation {
  metric: AlarmMetricKind;
}

/** One rollback alarm of a model. */
export interface RollbackAlarmSpec extends AlarmDefinition {
  name: string;
  description: string;
}

/** Alarm names: `<prefix><model>-5xx` and `<prefix><model>-p99-latency`. */
export const ROLLBACK_ALARM_SUFFIXES: Record<AlarmMetricKind, string> = { '5xx-rate': '-5xx', 'p99-latency': '-p99-latency' };

/**
 * An alarm definition with the rollback timing for whatever is not given. Refuses what
 * CloudWatch refuses (DatapointsToAlarm above EvaluationPeriods) and periods that are not
 * whole minutes, since SageMaker publishes these metrics once a minute.
 */
export function alarmDefinition(metric: AlarmMetricKind, threshold: number, overrides: Partial<AlarmEvaluation> = {}): AlarmDefinition {
  const t = ROLLBACK_ALARM_TIMING;
  const d: AlarmDefinition = {
    metric,
    threshold,
    periodSeconds: t.periodSeconds,
    evaluationPeriods: t.evaluationPeriods,
    datapointsToAlarm: t.datapointsToAlarm,
    treatMissingData: t.treatMissingData,
    comparisonOperator: 'GreaterThanThreshold',
    ...overrides,
  };
  const whole = (v: number) => Number.isInteger(v) && v >= 1;
  if (!whole(d.periodSeconds / 60))
    throw new Error(`alarm period must be a whole number of minutes (SageMaker publishes once a minute), got ${d.periodSeconds}s`);
  if (!whole(d.evaluationPeriods) || !whole(d.datapointsToAlarm) || d.datapointsToAlarm > d.evaluationPeriods) {
    throw new Error(
      `an alarm needs 1 <= datapoints to alarm (${d.datapointsToAlarm}) <= evaluation periods (${d.evaluationPeriods}), whole numbers`,
    );
  }
  return d;
}

/**
 * What the alarms read of a model's manifest. Written out rather than imported from
 * manifest.ts, which imports this module's timing: a ModelManifest fits it.
 */
export interface AlarmedModel {
  name: string;
  deployment: { strategy: string; stepPercent: number; alarms: { max5xxRate: number; p99LatencyMs: number } };
  serve: { instanceCount: number };
}

/**
 * The smallest share of the variant's traffic the new fleet takes while an alarm watches:
 * the canary or the first linear step; 1 for all-at-once. SageMaker turns capacity on in whole
 * instances, and whether it rounds a percentage of the fleet up or down is not documented, so
 * this is the lower of the percentage itself and the whole-instance count rounded down (at
 * least one): the threshold scaled by it is never too high for the share SageMaker routes.
 */
export function smallestNewFleetShare(
  deployment: Pick<AlarmedModel['deployment'], 'strategy' | 'stepPercent'>,
  instanceCount: number,
): number {
  if (deployment.strategy === 'all-at-once') return 1;
  const share = deployment.stepPercent / 100;
  const wholeInstances = Math.max(1, Math.floor(share * instanceCount)) / instanceCount;
  return Math.min(share, wholeInstances);
}

/**
 * A model's rollback alarms: the 5xx share above `max5xxRate` × the new fleet's smallest
 * share, and the p99 `ModelLatency` above `p99LatencyMs`.
 * @param timing overrides of {@link ROLLBACK_ALARM_TIMING} (e.g. a longer period)
 */
export function rollbackAlarmSpecs(manifest: AlarmedModel, prefix: string, timing: Partial<AlarmEvaluation> = {}): RollbackAlarmSpec[] {
  const { alarms } = manifest.deployment;
  const share = smallestNewFleetShare(manifest.deployment, manifest.serve.instanceCount);
  const name = (metric: AlarmMetricKind) => `${prefix}${manifest.name}${ROLLBACK_ALARM_SUFFIXES[metric]}`;
  const scaled =
    share < 1
      ? ` (its ${alarms.max5xxRate} scaled by the new fleet's smallest traffic share ${Number(share.toFixed(4))}: the alarm sees both fleets)`
      : '';
  return [
    {
      ...alarmDefinition('5xx-rate', alarms.max5xxRate * share, timing),
      name: name('5xx-rate'),
      description: `${manifest.name}: share of 5xx responses above ${Number((alarms.max5xxRate * share).toPrecision(6))}${scaled} (rolls the deployment back)`,
    },
    {
      // ModelLatency is published in microseconds; the manifest speaks milliseconds.
      ...alarmDefinition('p99-latency', alarms.p99LatencyMs * 1000, timing),
      name: name('p99-latency'),
      description: `${manifest.name}: p99 model latency above ${alarms.p99LatencyMs} ms (rolls the deployment back)`,
    },
  ];
}
