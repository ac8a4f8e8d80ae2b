/**
 * Per-variant invocation counters and a latency histogram, cheap enough for the proxy's hot
 * path (O(1) per request, no allocation): log-spaced buckets, 5 % apart, from 10 µs to
 * ~20 min, so a p99 read from them is within 5 % of the true value.
 */
const MIN_MS = 0.01;
const GROWTH = 1.05;
const BUCKETS = 400;
const LOG_GROWTH = Math.log(GROWTH);

export interface MetricsSnapshot {
  invocations: number;
  errors4xx: number;
  errors5xx: number;
  p50Ms: number;
  p99Ms: number;
}

export class VariantMetrics {
  invocations = 0;
  errors4xx = 0;
  errors5xx = 0;
  /** Sum of the recorded latencies (CloudWatch's ModelLatency Average and Sum). */
  latencySumMs = 0;
  private readonly buckets = new Uint32Array(BUCKETS);
  private samples = 0;

  /** Record one invocation: its HTTP status as the caller saw it and its latency. */
  record(status: number, latencyMs: number): void {
    this.invocations++;
    if (status >= 500) this.errors5xx++;
    else if (status >= 400) this.errors4xx++;
    const i = latencyMs <= MIN_MS ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log(latencyMs / MIN_MS) / LOG_GROWTH));
    this.buckets[i]!++;
    this.samples++;
    this.latencySumMs += latencyMs;
  }

  /** The latency below which `q` (0..1) of the recorded invocations fall (bucket upper bound). */
  quantile(q: number): number {
    if (this.samples === 0) return 0;
    const rank = Math.ceil(q * this.samples);
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.buckets[i]!;
      if (seen >= rank) return MIN_MS * GROWTH ** i;
    }
    return MIN_MS * GROWTH ** (BUCKETS - 1);
  }

  snapshot(): MetricsSnapshot {
    return {
      invocations: this.invocations,
      errors4xx: this.errors4xx,
      errors5xx: this.errors5xx,
      p50Ms: this.quantile(0.5),
      p99Ms: this.quantile(0.99),
    };
  }

  /** Sum several variants' metrics (a fleet) into one. */
  static merge(all: VariantMetrics[]): VariantMetrics {
    const m = new VariantMetrics();
    for (const v of all) {
      m.invocations += v.invocations;
      m.errors4xx += v.errors4xx;
      m.errors5xx += v.errors5xx;
      m.samples += v.samples;
      m.latencySumMs += v.latencySumMs;
      for (let i = 0; i < BUCKETS; i++) m.buckets[i]! += v.buckets[i]!;
    }
    return m;
  }
}
