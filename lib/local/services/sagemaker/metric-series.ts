import { VariantMetrics } from './metrics';

/** Minutes kept per variant: far more than any evaluation range looks back. */
const KEEP_MINUTES = 240;

/**
 * An endpoint's invocation metrics per minute and variant name, as SageMaker publishes them to
 * CloudWatch with the dimensions EndpointName + VariantName: whichever fleet served an
 * invocation, it lands in its variant's minute, so during a blue/green update the old and the
 * new fleet are mixed here exactly as they are in the metrics an alarm on AWS reads.
 *
 * Minutes are `minuteMs` long (60 s × the local cloud's timeScale) and aligned to the epoch,
 * as CloudWatch aligns periods to the clock.
 */
export class InvocationSeries {
  private readonly minutes = new Map<string, Map<number, VariantMetrics>>();

  constructor(
    readonly minuteMs: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!(minuteMs > 0)) throw new Error(`minuteMs must be positive, got ${minuteMs}`);
  }

  /** Count one invocation of `variant` now. */
  record(variant: string, status: number, latencyMs: number): void {
    let byMinute = this.minutes.get(variant);
    if (!byMinute) this.minutes.set(variant, (byMinute = new Map()));
    const minute = Math.floor(this.now() / this.minuteMs);
    let m = byMinute.get(minute);
    if (!m) {
      byMinute.set(minute, (m = new VariantMetrics()));
      // Maps iterate in insertion order and minutes only grow: the first keys are the oldest.
      for (const old of byMinute.keys()) {
        if (byMinute.size <= KEEP_MINUTES) break;
        byMinute.delete(old);
      }
    }
    m.record(status, latencyMs);
  }

  /**
   * The metrics of `variants` over [startMs, endMs) (whole minutes), or undefined when there
   * was no invocation (CloudWatch has no data point then).
   */
  window(variants: readonly string[], startMs: number, endMs: number): VariantMetrics | undefined {
    const first = Math.round(startMs / this.minuteMs);
    const end = Math.round(endMs / this.minuteMs);
    const parts: VariantMetrics[] = [];
    for (const v of variants) {
      const byMinute = this.minutes.get(v);
      for (let minute = first; byMinute && minute < end; minute++) {
        const m = byMinute.get(minute);
        if (m) parts.push(m);
      }
    }
    const merged = VariantMetrics.merge(parts);
    return merged.invocations > 0 ? merged : undefined;
  }
}
