import { normalTwoSided } from './distributions';

/**
 * The online A/B test after the approval (issue 18, `experiment.ab`): a fixed-horizon two-sided
 * test, pre-registered. The sample size per arm is computed from the manifest's minimum detectable
 * effect before any traffic flows; the test runs once, when both arms have that many requests
 * with ground truth (no peeking, so alpha holds). Pure functions; the reference values are made
 * with SciPy (test/fixtures/abtest/make-fixtures.py).
 *
 * Every metric is read as a per-request loss, lower is better, so one test serves all:
 * accuracy as the error indicator (1 − correct: a proportion, the two-proportion test),
 * mae as |error|, rmse as error² (the test compares mean squared errors; RMSE is monotone in
 * it), mape as |error / label|. Metrics with no per-request form (r2, f1, AUC, log loss over
 * scores) are refused by the manifest.
 */

/** The metrics an A/B test can judge, and whether the loss is a proportion (0/1) or a mean. */
export const AB_METRICS = { accuracy: 'proportion', mae: 'mean', rmse: 'mean', mape: 'mean' } as const;
export type AbMetric = keyof typeof AB_METRICS;

/**
 * Φ⁻¹(p), the standard normal quantile (scipy.stats.norm.ppf). Acklam's rational approximation
 * (relative error 1.15e-9) refined by one Halley step on the exact tail, so it agrees with SciPy
 * to ~1e-15. Hand-written: no maintained npm package exposes it.
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile: p must be in (0, 1), got ${p}`);
  // The upper half by symmetry: 1 − p is exact there, while Φ(x) − p near 1 would lose the tail's digits.
  if (p > 0.5) return -normalQuantile(1 - p);
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628274631];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const tail = (q: number) =>
    (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  let x: number;
  if (p < 0.02425) x = tail(Math.sqrt(-2 * Math.log(p)));
  else {
    const q = p - 0.5;
    const r = q * q;
    x =
      ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
      (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
  }
  // Halley: e = Φ(x) − p, with Φ from the incomplete gamma (distributions.ts).
  const cdf = x >= 0 ? 1 - normalTwoSided(x) / 2 : normalTwoSided(x) / 2;
  const u = (cdf - p) * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2);
  return x - u / (1 + (x * u) / 2);
}

/**
 * Requests per arm for a two-sided two-proportion z-test to detect p1 → p2 (Fleiss, no
 * continuity correction): n = (z₁₋α/₂·√(2p̄q̄) + z_power·√(p1q1 + p2q2))² / (p1 − p2)².
 */
export function sampleSizeProportions(input: { p1: number; p2: number; alpha: number; power: number }): number {
  const { p1, p2, alpha, power } = input;
  if (!(p1 >= 0 && p1 <= 1 && p2 >= 0 && p2 <= 1) || p1 === p2)
    throw new RangeError(`sampleSizeProportions: need two different proportions, got ${p1}, ${p2}`);
  const za = normalQuantile(1 - alpha / 2);
  const zb = normalQuantile(power);
  const bar = (p1 + p2) / 2;
  const num = za * Math.sqrt(2 * bar * (1 - bar)) + zb * Math.sqrt(p1 * (1 - p1) + p2 * (1 - p2));
  return Math.ceil((num * num) / ((p1 - p2) * (p1 - p2)));
}

/** Requests per arm for a two-sided two-sample z-test of means, equal σ: n = 2σ²(z₁₋α/₂ + z_power)² / δ². */
export function sampleSizeMeans(input: { sigma: number; delta: number; alpha: number; power: number }): number {
  const { sigma, delta, alpha, power } = input;
  if (!(sigma > 0) || !(delta > 0)) throw new RangeError(`sampleSizeMeans: sigma and delta must be > 0, got ${sigma}, ${delta}`);
  const z = normalQuantile(1 - alpha / 2) + normalQuantile(power);
  return Math.ceil((2 * sigma * sigma * z * z) / (delta * delta));
}

export interface TwoSampleResult {
  method: 'two-proportion z-test' | 'two-sample z-test (Welch standard error)';
  /** Mean loss of each arm. */
  production: { n: number; mean: number };
  candidate: { n: number; mean: number };
  /** candidate − production mean loss: positive is worse. */
  difference: number;
  z: number;
  /** Two-sided. */
  pValue: number;
  /** The (1 − alpha) Wald interval of the difference. */
  interval: [number, number];
}

const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const variance = (xs: readonly number[], m: number) => xs.reduce((s, x) => s + (x - m) * (x - m), 0) / (xs.length - 1);

/**
 * Two-proportion z-test of the candidate's error rate against production's (pooled standard
 * error for z, unpooled for the interval, as statsmodels' test_proportions_2indep does by default for the Wald interval).
 */
export function twoProportionTest(production: readonly number[], candidate: readonly number[], alpha: number): TwoSampleResult {
  const [n1, n2] = [production.length, candidate.length];
  if (n1 < 2 || n2 < 2) throw new RangeError('twoProportionTest: need at least 2 requests per arm');
  const [p1, p2] = [mean(production), mean(candidate)];
  const pooled = (p1 * n1 + p2 * n2) / (n1 + n2);
  const se0 = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  const se = Math.sqrt((p1 * (1 - p1)) / n1 + (p2 * (1 - p2)) / n2);
  const diff = p2 - p1;
  const z = se0 === 0 ? 0 : diff / se0;
  const half = normalQuantile(1 - alpha / 2) * se;
  return {
    method: 'two-proportion z-test',
    production: { n: n1, mean: p1 },
    candidate: { n: n2, mean: p2 },
    difference: diff,
    z,
    pValue: se0 === 0 ? 1 : normalTwoSided(z),
    interval: [diff - half, diff + half],
  };
}

/** Two-sample z-test of mean losses with the Welch (unequal-variance) standard error: at the pre-registered n the normal approximation holds. */
export function twoSampleMeanTest(production: readonly number[], candidate: readonly number[], alpha: number): TwoSampleResult {
  const [n1, n2] = [production.length, candidate.length];
  if (n1 < 2 || n2 < 2) throw new RangeError('twoSampleMeanTest: need at least 2 requests per arm');
  const [m1, m2] = [mean(production), mean(candidate)];
  const se = Math.sqrt(variance(production, m1) / n1 + variance(candidate, m2) / n2);
  const diff = m2 - m1;
  const z = se === 0 ? (diff === 0 ? 0 : Math.sign(diff) * Infinity) : diff / se;
  const half = normalQuantile(1 - alpha / 2) * se;
  return {
    method: 'two-sample z-test (Welch standard error)',
    production: { n: n1, mean: m1 },
    candidate: { n: n2, mean: m2 },
    difference: diff,
    z,
    pValue: se === 0 ? (diff === 0 ? 1 : 0) : normalTwoSided(z),
    interval: [diff - half, diff + half],
  };
}

/** One request's loss under the metric (lower is better); undefined when it has none (mape with a label of 0). */
export function requestLoss(metric: AbMetric, prediction: number | string, label: number | string): number | undefined {
  if (metric === 'accuracy') return String(prediction) === String(label) ? 0 : 1;
  const [p, y] = [Number(prediction), Number(label)];
  if (!Number.isFinite(p) || !Number.isFinite(y)) return undefined;
  if (metric === 'mae') return Math.abs(p - y);
  if (metric === 'rmse') return (p - y) * (p - y);
  return y === 0 ? undefined : Math.abs((p - y) / y);
}

/**
 * The standard deviation of each mean metric's per-request loss on a holdout, which a mean
 * test's sample size is computed from; written to the quality report by EvaluateModel.
 */
export interface LossSpread {
  /** Whose answers: production's on the candidate's holdout when it was scored there, else the candidate's own. */
  source: string;
  rows: number;
  sd: Partial<Record<AbMetric, number>>;
}

/** The spread of the per-request losses of a regression's answers against the labels. */
export function lossSpreadOf(source: string, predictions: readonly (number | string)[], labels: readonly (number | string)[]): LossSpread {
  const sd: LossSpread['sd'] = {};
  for (const metric of ['mae', 'rmse', 'mape'] as const) {
    const losses = predictions.map((p, i) => requestLoss(metric, p, labels[i]!)).filter((x): x is number => x !== undefined);
    if (losses.length >= 2) sd[metric] = Math.sqrt(variance(losses, mean(losses)));
  }
  return { source, rows: predictions.length, sd };
}

/** What the release writes to the version record before traffic flows. */
export interface AbPlan {
  metric: AbMetric;
  method: TwoSampleResult['method'];
  /** Requests with ground truth needed in each arm before the test runs once. */
  nPerArm: number;
  /** The formula's n (nPerArm is at least MIN_PER_ARM). */
  computedN?: number;
  alpha: number;
  power: number;
  /** The manifest's minimum detectable effect on the metric, and the same effect on the per-request loss. */
  minDetectableEffect: number;
  lossEffect: number;
  /** Production's value of the metric the plan starts from (its evaluation on the candidate's holdout). */
  baseline: number;
  /** Mean test: σ of the per-request loss, and where it comes from. */
  sigma: number | null;
  sigmaSource: string | null;
}

/**
 * The pre-registered plan. `baseline` is production's metric; for a mean test `sigma` is the
 * standard deviation of production's per-request loss on the holdout. The effect is a worsening
 * of the metric by `mde`: for accuracy p_err → p_err + mde; for rmse the loss is the squared
 * error, so the effect on it is (rmse + mde)² − rmse².
 */
export function planAbTest(input: {
  metric: AbMetric;
  baseline: number;
  sigma: number | null;
  sigmaSource: string | null;
  minDetectableEffect: number;
  alpha: number;
  power: number;
}): AbPlan {
  const { metric, baseline, minDetectableEffect: mde, alpha, power } = input;
  const common = { metric, alpha, power, minDetectableEffect: mde, baseline };
  if (metric === 'accuracy') {
    const p1 = 1 - baseline;
    const p2 = Math.min(1, p1 + mde);
    return {
      ...common,
      method: 'two-proportion z-test',
      nPerArm: sampleSizeProportions({ p1, p2, alpha, power }),
      lossEffect: p2 - p1,
      sigma: null,
      sigmaSource: null,
    };
  }
  if (input.sigma === null || !(input.sigma > 0))
    throw new RangeError(`planAbTest: ${metric} needs the standard deviation of production's per-request loss, got ${input.sigma}`);
  const lossEffect = metric === 'rmse' ? (baseline + mde) ** 2 - baseline ** 2 : mde;
  return {
    ...common,
    method: 'two-sample z-test (Welch standard error)',
    nPerArm: sampleSizeMeans({ sigma: input.sigma, delta: lossEffect, alpha, power }),
    lossEffect,
    sigma: input.sigma,
    sigmaSource: input.sigmaSource,
  };
}

/**
 * The z-tests' normal approximation wants some size whatever the formula gives (a large effect
 * or a small spread can ask for a handful): each arm has at least this many labelled requests.
 */
export const MIN_PER_ARM = 30;

/** What the plan is made from: the manifest's `experiment.ab` and the candidate's quality report. */
export interface PlanSource {
  settings: { metric: AbMetric; minDetectableEffect: number; alpha: number; power: number };
  /** The quality report's figures (lambdas/ml/types.ts QualityReport). */
  report: {
    evaluation?: { metrics?: Record<string, number> };
    production?: { metrics?: Record<string, number> };
    lossSpread?: LossSpread;
  };
}

/**
 * The pre-registered plan from the candidate's quality report: production's value of the metric
 * on the candidate's holdout (the candidate's own when production has none) and, for a mean
 * metric, the spread of the per-request loss there; each arm at least MIN_PER_ARM. A string says
 * what is missing. The release (lambdas/ab-test) and the approval page (lib/console) both call it.
 */
export function planFromReport({ settings, report }: PlanSource): AbPlan | string {
  const baseline = report.production?.metrics?.[settings.metric] ?? report.evaluation?.metrics?.[settings.metric];
  if (baseline === undefined) return `the quality report has no ${settings.metric} to plan the test from`;
  const sigma = settings.metric === 'accuracy' ? null : (report.lossSpread?.sd[settings.metric] ?? null);
  if (settings.metric !== 'accuracy' && !(sigma !== null && sigma > 0))
    return `the quality report has no spread of the ${settings.metric} loss (lossSpread) to size the test from`;
  const plan = planAbTest({
    metric: settings.metric,
    baseline,
    sigma,
    sigmaSource: sigma === null ? null : (report.lossSpread?.source ?? null),
    minDetectableEffect: settings.minDetectableEffect,
    alpha: settings.alpha,
    power: settings.power,
  });
  return { ...plan, computedN: plan.nPerArm, nPerArm: Math.max(plan.nPerArm, MIN_PER_ARM) };
}

export interface AbVerdict {
  verdict: 'pass' | 'fail';
  reason: string;
  test: TwoSampleResult;
}

/** The test at the horizon: the candidate fails only when its loss is significantly higher (two-sided p < alpha, difference > 0). */
export function abVerdict(plan: AbPlan, production: readonly number[], candidate: readonly number[]): AbVerdict {
  const test =
    AB_METRICS[plan.metric] === 'proportion'
      ? twoProportionTest(production, candidate, plan.alpha)
      : twoSampleMeanTest(production, candidate, plan.alpha);
  const fmt = (x: number) => Number(x.toPrecision(4));
  const stats = `${plan.metric} loss candidate ${fmt(test.candidate.mean)} vs production ${fmt(test.production.mean)} (n ${test.candidate.n} / ${test.production.n}), difference ${fmt(test.difference)}, ${Math.round((1 - plan.alpha) * 100)} % interval [${fmt(test.interval[0])}, ${fmt(test.interval[1])}], p ${fmt(test.pValue)}`;
  if (test.difference > 0 && test.pValue < plan.alpha)
    return { verdict: 'fail', reason: `the candidate is significantly worse: ${stats}, below alpha ${plan.alpha}`, test };
  return { verdict: 'pass', reason: `the candidate is not significantly worse: ${stats}`, test };
}
