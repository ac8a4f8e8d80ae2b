/**
 * The shadow stage's comparison of the candidate (the shadow variant) with production on the
 * same live requests: how often and how far their answers differ, and, for the requests whose
 * ground truth has arrived, the paired difference of the evaluation metric with a bootstrap
 * interval. Pure functions, no I/O; the reference values are NumPy's
 * (test/fixtures/shadow/make-fixtures.py).
 */
import { EmptyDatasetError, InvalidArgumentError } from './errors';
import { histogram } from './evaluate';
import { classificationMetrics, regressionMetrics } from './metrics';
import { mulberry32 } from './prng';
import type { Histogram } from './types';

/** Classification: how often the two models give the same label, and which labels they trade. */
export interface ClassificationAgreement {
  task: 'classification';
  n: number;
  agreement: number;
  classes: string[];
  /** Rows: production's label, columns: the shadow's, in `classes` order. */
  crossTab: number[][];
}

/** Regression: the distribution of the differences shadow − production. */
export interface RegressionAgreement {
  task: 'regression';
  n: number;
  meanDifference: number;
  meanAbsDifference: number;
  /** NumPy's default (linear) percentile of |shadow − production|. */
  p95AbsDifference: number;
  maxAbsDifference: number;
  histogram: Histogram;
}

export type Agreement = ClassificationAgreement | RegressionAgreement;

function samePairs(production: ArrayLike<unknown>, shadow: ArrayLike<unknown>): number {
  if (production.length !== shadow.length)
    throw new InvalidArgumentError(`${production.length} production answers but ${shadow.length} shadow answers: they must pair up`);
  if (production.length === 0) throw new EmptyDatasetError('the shadowed requests');
  return production.length;
}

/** The q-quantile (0..1) of sorted values, interpolating linearly between ranks as NumPy's default does. */
export function quantileLinear(sorted: ArrayLike<number>, q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export function compareRegression(production: ArrayLike<number>, shadow: ArrayLike<number>, bins = 20): RegressionAgreement {
  const n = samePairs(production, shadow);
  const d = new Float64Array(n);
  const abs = new Float64Array(n);
  let sum = 0;
  let sumAbs = 0;
  for (let i = 0; i < n; i++) {
    d[i] = shadow[i]! - production[i]!;
    abs[i] = Math.abs(d[i]!);
    sum += d[i]!;
    sumAbs += abs[i]!;
  }
  abs.sort();
  return {
    task: 'regression',
    n,
    meanDifference: sum / n,
    meanAbsDifference: sumAbs / n,
    p95AbsDifference: quantileLinear(abs, 0.95),
    maxAbsDifference: abs[n - 1]!,
    histogram: histogram(d, bins),
  };
}

export function compareClassification(production: readonly string[], shadow: readonly string[]): ClassificationAgreement {
  const n = samePairs(production, shadow);
  const classes = [...new Set([...production, ...shadow])].sort();
  const index = new Map(classes.map((c, i) => [c, i]));
  const crossTab = classes.map(() => new Array<number>(classes.length).fill(0));
  let same = 0;
  for (let i = 0; i < n; i++) {
    crossTab[index.get(production[i]!)!]![index.get(shadow[i]!)!]!++;
    if (production[i] === shadow[i]) same++;
  }
  return { task: 'classification', n, agreement: same / n, classes, crossTab };
}

/** The metric of both models on the labelled shadowed requests, and shadow − production with its interval. */
export interface PairedBootstrapResult {
  metric: string;
  n: number;
  production: number;
  shadow: number;
  /** shadow − production, in the metric's units. */
  difference: number;
  /** Percentile interval of the difference over the resamples (NumPy's linear percentiles). */
  lower: number;
  upper: number;
  level: number;
  resamples: number;
  seed: number;
}

export interface PairedBootstrapInput {
  task: 'regression' | 'classification';
  metric: string;
  labels: readonly (number | string)[];
  production: readonly (number | string)[];
  shadow: readonly (number | string)[];
  resamples: number;
  seed: number;
  /** @default 0.95 */
  level?: number;
}

/** The metric function of one task over the rows `idx`, for one model's answers. */
function metricOf(input: PairedBootstrapInput): (answers: 'production' | 'shadow', idx?: Int32Array) => number {
  if (input.task === 'regression') {
    const y = Float64Array.from(input.labels as number[]);
    const answers = { production: Float64Array.from(input.production as number[]), shadow: Float64Array.from(input.shadow as number[]) };
    return (which, idx) => regressionMetrics(y, answers[which], idx).metrics[input.metric] ?? NaN;
  }
  const classes = [...new Set([...input.labels, ...input.production, ...input.shadow].map(String))].sort();
  const index = new Map(classes.map((c, i) => [c, i]));
  const codes = (xs: readonly (number | string)[]) => Int32Array.from(xs, (x) => index.get(String(x))!);
  const y = codes(input.labels);
  const answers = { production: codes(input.production), shadow: codes(input.shadow) };
  return (which, idx) => classificationMetrics(classes, y, answers[which], undefined, idx).metrics[input.metric] ?? NaN;
}

/**
 * The paired bootstrap: each resample draws the same rows for both models (Mulberry32 with the
 * seed, as the evaluation's bootstrap does), so the interval is of the difference on the same
 * requests, not of two independent metrics.
 */
export function pairedBootstrap(input: PairedBootstrapInput): PairedBootstrapResult {
  const n = samePairs(input.production, input.shadow);
  if (input.labels.length !== n) throw new InvalidArgumentError(`${input.labels.length} labels for ${n} shadowed requests`);
  const level = input.level ?? 0.95;
  if (!(level > 0 && level < 1)) throw new InvalidArgumentError(`level must be in (0, 1), got ${level}`);
  if (!Number.isInteger(input.resamples) || input.resamples < 1 || input.resamples > 100_000)
    throw new InvalidArgumentError(`resamples must be an integer in [1, 100000], got ${input.resamples}`);
  const metric = metricOf(input);
  const production = metric('production');
  const shadow = metric('shadow');
  if (!Number.isFinite(production)) throw new InvalidArgumentError(`unknown ${input.task} metric "${input.metric}"`);
  const rand = mulberry32(input.seed);
  const idx = new Int32Array(n);
  const diffs: number[] = [];
  for (let b = 0; b < input.resamples; b++) {
    for (let i = 0; i < n; i++) idx[i] = Math.floor(rand() * n);
    const d = metric('shadow', idx) - metric('production', idx);
    if (Number.isFinite(d)) diffs.push(d);
  }
  diffs.sort((a, b) => a - b);
  const tail = (1 - level) / 2;
  return {
    metric: input.metric,
    n,
    production,
    shadow,
    difference: shadow - production,
    lower: quantileLinear(diffs, tail),
    upper: quantileLinear(diffs, 1 - tail),
    level,
    resamples: input.resamples,
    seed: input.seed,
  };
}

/** One variant's traffic in the window. Latencies in milliseconds (CloudWatch's ModelLatency is in microseconds). */
export interface VariantTraffic {
  variant: string;
  invocations: number;
  errors4xx: number;
  errors5xx: number;
  /** (4XX + 5XX) / Invocations; null with no invocations. */
  errorRate: number | null;
  latencyP50Ms: number | null;
  latencyP99Ms: number | null;
}

export type VariantMetrics =
  { available: true; from: string; to: string; periodSeconds: number; variants: VariantTraffic[] } | { available: false; reason: string };

/** The manifest's `experiment.shadow.bounds`; null: not judged. */
export interface ShadowBounds {
  minAgreement: number | null;
  maxMeanAbsDifference: number | null;
  maxP95AbsDifference: number | null;
  /** Largest worsening of the metric the candidate may show with confidence, in its units. */
  maxMetricWorsening: number | null;
  /** Largest shadow p99 latency / production p99 latency (per-variant CloudWatch metrics). */
  maxLatencyRatio?: number | null;
  /** Largest shadow error rate minus production's. */
  maxErrorRateDelta?: number | null;
}

/** Per-variant latency and error rate of the window, or why they are not available. */
export type VariantTrafficSummary =
  | {
      available: true;
      production: { errorRate: number | null; latencyP99Ms: number | null };
      shadow: { errorRate: number | null; latencyP99Ms: number | null };
    }
  | { available: false; reason: string };

export interface ShadowVerdict {
  verdict: 'pass' | 'fail' | 'insufficient-data';
  reasons: string[];
}

/**
 * Pass, fail or insufficient-data against the manifest's bounds. Fewer pairs than the
 * minimum give no verdict at all; the metric judges only when ground truth arrived, and fails
 * the candidate only when the whole interval is worse by more than the bound (a candidate
 * that is merely not proven better passes).
 */
export function shadowVerdict(input: {
  agreement: Agreement | null;
  bootstrap: PairedBootstrapResult | null;
  minRequests: number;
  bounds: ShadowBounds;
  metricDirection: 'higher' | 'lower';
  /** Absent or not available: the latency and error-rate bounds are not judged (said in the reasons). */
  traffic?: VariantTrafficSummary;
}): ShadowVerdict {
  const { agreement: a, bootstrap: b, bounds } = input;
  const n = a?.n ?? 0;
  if (n < input.minRequests)
    return {
      verdict: 'insufficient-data',
      reasons: [`${n} shadowed requests, fewer than the ${input.minRequests} experiment.shadow.minRequests`],
    };
  const reasons: string[] = [];
  if (a?.task === 'classification' && bounds.minAgreement !== null && a.agreement < bounds.minAgreement)
    reasons.push(`agreement ${round(a.agreement)} is below experiment.shadow.bounds.minAgreement ${bounds.minAgreement}`);
  if (a?.task === 'regression') {
    if (bounds.maxMeanAbsDifference !== null && a.meanAbsDifference > bounds.maxMeanAbsDifference)
      reasons.push(
        `mean absolute difference ${round(a.meanAbsDifference)} is above experiment.shadow.bounds.maxMeanAbsDifference ${bounds.maxMeanAbsDifference}`,
      );
    if (bounds.maxP95AbsDifference !== null && a.p95AbsDifference > bounds.maxP95AbsDifference)
      reasons.push(
        `p95 absolute difference ${round(a.p95AbsDifference)} is above experiment.shadow.bounds.maxP95AbsDifference ${bounds.maxP95AbsDifference}`,
      );
  }
  if (b && bounds.maxMetricWorsening !== null) {
    // Worsening is positive when the candidate is worse: lower for "higher is better" metrics.
    const sign = input.metricDirection === 'higher' ? -1 : 1;
    const best = Math.min(sign * b.lower, sign * b.upper);
    if (best > bounds.maxMetricWorsening)
      reasons.push(
        `${b.metric} on ${b.n} labelled requests is worse than production by ${round(sign * b.difference)} (${Math.round(b.level * 100)} % interval ${round(b.lower)}..${round(b.upper)}), beyond experiment.shadow.bounds.maxMetricWorsening ${bounds.maxMetricWorsening}`,
      );
  }
  const traffic = trafficJudgement(bounds, input.traffic);
  reasons.push(...traffic.failures);
  return reasons.length
    ? { verdict: 'fail', reasons: [...reasons, ...traffic.notes] }
    : { verdict: 'pass', reasons: [`${n} shadowed requests within the bounds`, ...traffic.notes] };
}

/**
 * The latency and error-rate bounds against the per-variant metrics. A bound that cannot be
 * judged (metrics not available, a variant without invocations or latency) is a note, never a
 * failure: the metrics read is best effort and must not decide a release by its absence.
 */
function trafficJudgement(bounds: ShadowBounds, t: VariantTrafficSummary | undefined): { failures: string[]; notes: string[] } {
  const failures: string[] = [];
  const notes: string[] = [];
  const field = (f: string) => `experiment.shadow.bounds.${f}`;
  const notJudged = (f: string, why: string) => notes.push(`${field(f)} not judged: ${why}`);
  const latencyBound = bounds.maxLatencyRatio ?? null;
  const errorBound = bounds.maxErrorRateDelta ?? null;
  if (latencyBound === null && errorBound === null) return { failures, notes };
  if (!t || !t.available) {
    const why = t && !t.available ? t.reason : 'no per-variant metrics';
    if (latencyBound !== null) notJudged('maxLatencyRatio', why);
    if (errorBound !== null) notJudged('maxErrorRateDelta', why);
    return { failures, notes };
  }
  const [p, s] = [t.production, t.shadow];
  if (latencyBound !== null) {
    if (p.latencyP99Ms === null || s.latencyP99Ms === null || p.latencyP99Ms <= 0)
      notJudged('maxLatencyRatio', 'no p99 latency of both variants');
    else if (s.latencyP99Ms / p.latencyP99Ms > latencyBound)
      failures.push(
        `shadow p99 latency ${round(s.latencyP99Ms)} ms is ${round(s.latencyP99Ms / p.latencyP99Ms)}x production's ${round(p.latencyP99Ms)} ms, above ${field('maxLatencyRatio')} ${latencyBound}`,
      );
  }
  if (errorBound !== null) {
    if (p.errorRate === null || s.errorRate === null) notJudged('maxErrorRateDelta', 'a variant had no invocations');
    else if (s.errorRate - p.errorRate > errorBound)
      failures.push(
        `shadow error rate ${round(s.errorRate)} is ${round(s.errorRate - p.errorRate)} above production's ${round(p.errorRate)}, beyond ${field('maxErrorRateDelta')} ${errorBound}`,
      );
  }
  return { failures, notes };
}

const round = (x: number) => Number(x.toPrecision(4));
