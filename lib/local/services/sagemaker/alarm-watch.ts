import { ALARM_METRICS, ROLLBACK_ALARM_TIMING, type AlarmDefinition, type AlarmMetricKind } from '../../../config';
import { evaluateAlarm, evaluationRangeLength, type AlarmState, type Datapoint } from './alarm-evaluation';
import type { InvocationSeries } from './metric-series';
import type { VariantMetrics } from './metrics';

/** A rollback alarm of a deployment: its name in AutoRollbackConfiguration and its definition. */
export interface WatchedAlarm {
  name: string;
  definition: AlarmDefinition;
}

/** The period's value as CloudWatch computes it (ModelLatency in microseconds); undefined without invocations. */
export function datapoint(metric: AlarmMetricKind, m: VariantMetrics | undefined): Datapoint {
  if (!m || m.invocations === 0) return undefined;
  return metric === '5xx-rate' ? m.errors5xx / m.invocations : m.quantile(0.99) * 1000;
}

/**
 * The local stand-in for the CloudWatch alarms a blue/green deployment watches. Like
 * CloudWatch it evaluates once a minute (on the clock's minutes), over per-period data points
 * of the variant — old and new fleet together — that become readable a minute after their
 * period ends (`ROLLBACK_ALARM_TIMING`), each alarm with its own period, evaluation periods,
 * datapoints to alarm, missing-data treatment, comparison and threshold. Every minute is
 * `series.minuteMs` long (60 s × timeScale).
 */
export class AlarmWatcher {
  private readonly states: AlarmState[];
  private readonly minuteMs: number;
  private nextTick: number;

  /**
   * @param variants the variant names whose metrics the alarms read (the alarm's VariantName dimension)
   * @param start when the deployment started: the first evaluation is the last one CloudWatch ran before it
   */
  constructor(
    private readonly alarms: readonly WatchedAlarm[],
    private readonly series: InvocationSeries,
    private readonly variants: readonly string[],
    start: number,
  ) {
    this.minuteMs = series.minuteMs;
    this.states = alarms.map(() => 'INSUFFICIENT_DATA');
    this.nextTick = Math.floor(start / this.intervalMs) * this.intervalMs;
  }

  private get intervalMs(): number {
    return (ROLLBACK_ALARM_TIMING.evaluationIntervalSeconds / 60) * this.minuteMs;
  }

  /**
   * Run every evaluation CloudWatch would have run up to `until` (epoch ms), in order.
   * @returns the first alarm that went to ALARM, as a rollback reason; undefined while none has
   */
  advance(until: number): string | undefined {
    while (this.nextTick <= until) {
      const at = this.nextTick;
      this.nextTick += this.intervalMs;
      const reason = this.evaluateAt(at);
      if (reason) return reason;
    }
    return undefined;
  }

  private evaluateAt(at: number): string | undefined {
    const publicationMs = (ROLLBACK_ALARM_TIMING.publicationDelaySeconds / 60) * this.minuteMs;
    for (const [i, { name, definition: d }] of this.alarms.entries()) {
      const periodMs = (d.periodSeconds / 60) * this.minuteMs;
      const lastEnd = Math.floor(at / periodMs) * periodMs;
      const range: Datapoint[] = [];
      for (let k = evaluationRangeLength(d.evaluationPeriods) - 1; k >= 0; k--) {
        const end = lastEnd - k * periodMs;
        // A period's data point is not there until SageMaker has published it.
        range.push(end + publicationMs <= at ? datapoint(d.metric, this.series.window(this.variants, end - periodMs, end)) : undefined);
      }
      const verdict = evaluateAlarm(range, d, this.states[i]!);
      this.states[i] = verdict.state;
      if (verdict.state === 'ALARM') {
        return `alarm ${name} (${ALARM_METRICS[d.metric].label} of variant ${this.variants.join(', ')}, old and new fleet together as CloudWatch sees them): ${verdict.reason}`;
      }
    }
    return undefined;
  }
}
