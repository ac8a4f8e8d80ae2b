/**
 * Latency summary of a load test. Nearest-rank percentiles (the value below which p% of the
 * samples fall, always an observed latency), the convention of most load-testing tools.
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export interface LoadSample {
  /** Milliseconds from send to answer. */
  latencyMs: number;
  ok: boolean;
  /** Error name, for failed requests. */
  error?: string;
  /** Its message, for the failure cause (the first one is kept). */
  message?: string;
}

export interface LoadStats {
  requests: number;
  errors: number;
  errorRate: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  achievedRps: number;
  /** Error name -> count. */
  errorKinds: Record<string, number>;
}

/**
 * @param elapsedMs from the first scheduled send to the last answer
 * Latency percentiles are over successful requests (failed ones are counted in the error rate).
 */
export function summarize(samples: readonly LoadSample[], elapsedMs: number): LoadStats {
  const latencies = samples
    .filter((s) => s.ok)
    .map((s) => s.latencyMs)
    .sort((a, b) => a - b);
  const errors = samples.length - latencies.length;
  const errorKinds: Record<string, number> = {};
  for (const s of samples) if (!s.ok) errorKinds[s.error ?? 'Error'] = (errorKinds[s.error ?? 'Error'] ?? 0) + 1;
  const round = (x: number) => Math.round(x * 100) / 100;
  return {
    requests: samples.length,
    errors,
    errorRate: samples.length ? errors / samples.length : 0,
    p50Ms: round(percentile(latencies, 50)),
    p95Ms: round(percentile(latencies, 95)),
    p99Ms: round(percentile(latencies, 99)),
    maxMs: round(latencies.at(-1) ?? 0),
    achievedRps: elapsedMs > 0 ? round((samples.length * 1000) / elapsedMs) : 0,
    errorKinds,
  };
}
