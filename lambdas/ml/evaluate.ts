/**
 * evaluateModel: validates the holdout predictions, computes the task's metrics, their bootstrap
 * standard deviations and the metrics of a best-constant dummy, plus the details the report plots.
 */
import { EmptyDatasetError, InvalidArgumentError, LengthMismatchError, NonFiniteValueError, UnknownCategoryError } from './errors';
import { classificationMetrics, regressionMetrics, scoresToMatrix } from './metrics';
import { mulberry32 } from './prng';
import type { MetricName } from '../../lib/config/names';
import type { EvaluateInput, EvaluationDetails, EvaluationResult, Histogram } from './types';

/** Natural direction of each metric: which way is better. */
// Keyed by every metric name, so a metric added to the list without its direction does not compile.
export const METRIC_DIRECTIONS: Readonly<Record<MetricName, 'higher' | 'lower'>> = {
  mae: 'lower',
  rmse: 'lower',
  mape: 'lower',
  r2: 'higher',
  accuracy: 'higher',
  macro_precision: 'higher',
  macro_recall: 'higher',
  macro_f1: 'higher',
  weighted_precision: 'higher',
  weighted_recall: 'higher',
  weighted_f1: 'higher',
  log_loss: 'lower',
  roc_auc: 'higher',
};

/** The natural direction of a metric named at run time (a manifest, a record); undefined for an unknown name. */
export function directionOf(metric: string): 'higher' | 'lower' | undefined {
  return Object.hasOwn(METRIC_DIRECTIONS, metric) ? METRIC_DIRECTIONS[metric as MetricName] : undefined;
}

const MAX_SCATTER_POINTS = 500;

function finiteNumbers(values: readonly (number | string)[], field: string): Float64Array {
  const out = new Float64Array(values.length);
  values.forEach((v, i) => {
    const x = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
    if (typeof x !== 'number' || !Number.isFinite(x)) throw new NonFiniteValueError(field, i, v);
    out[i] = x;
  });
  return out;
}

function checkCommon(input: EvaluateInput): { bootstrap: number; seed: number } {
  const { labels, predictions } = input;
  if (labels.length === 0) throw new EmptyDatasetError('the evaluation set (labels)');
  if (predictions.length !== labels.length)
    throw new LengthMismatchError({ name: 'labels', length: labels.length }, { name: 'predictions', length: predictions.length });
  if (input.scores && input.scores.length !== labels.length)
    throw new LengthMismatchError({ name: 'labels', length: labels.length }, { name: 'scores', length: input.scores.length });
  const bootstrap = input.bootstrap ?? 200;
  if (!Number.isInteger(bootstrap) || bootstrap < 0 || bootstrap > 100_000)
    throw new InvalidArgumentError(`bootstrap must be an integer in [0, 100000], got ${bootstrap}`);
  const seed = input.seed ?? 42;
  if (!Number.isInteger(seed)) throw new InvalidArgumentError(`seed must be an integer, got ${seed}`);
  return { bootstrap, seed };
}

/** Sample standard deviation (ddof 1) of each metric over bootstrap resamples; metrics undefined in a resample are skipped. */
function bootstrapStd(
  n: number,
  resamples: number,
  seed: number,
  compute: (idx: Int32Array) => Record<string, number>,
): Record<string, number> {
  const rand = mulberry32(seed);
  const idx = new Int32Array(n);
  const sums: Record<string, { s: number; ss: number; c: number }> = {};
  for (let b = 0; b < resamples; b++) {
    for (let i = 0; i < n; i++) idx[i] = Math.floor(rand() * n);
    const m = compute(idx);
    for (const [name, v] of Object.entries(m)) {
      if (!Number.isFinite(v)) continue;
      const acc = (sums[name] ??= { s: 0, ss: 0, c: 0 });
      acc.s += v;
      acc.ss += v * v;
      acc.c++;
    }
  }
  const std: Record<string, number> = {};
  for (const [name, { s, ss, c }] of Object.entries(sums)) {
    // Welford would be steadier, but metrics are O(1) in magnitude and c <= 100k.
    std[name] = c > 1 ? Math.sqrt(Math.max(0, (ss - (s * s) / c) / (c - 1))) : 0;
  }
  return std;
}

/** A histogram over [min, max] with `bins` equal-width bins; the last bin is closed. */
export function histogram(values: ArrayLike<number>, bins: number): Histogram {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    lo = Math.min(lo, values[i]!);
    hi = Math.max(hi, values[i]!);
  }
  if (lo === hi) {
    lo -= 0.5;
    hi += 0.5;
  }
  const width = (hi - lo) / bins;
  const counts = new Array<number>(bins).fill(0);
  for (let i = 0; i < values.length; i++) counts[Math.min(bins - 1, Math.floor((values[i]! - lo) / width))]!++;
  return { edges: Array.from({ length: bins + 1 }, (_, i) => lo + i * width), counts };
}

function evaluateRegression(input: EvaluateInput, bootstrap: number, seed: number): EvaluationResult {
  const y = finiteNumbers(input.labels, 'labels');
  const p = finiteNumbers(input.predictions, 'predictions');
  const n = y.length;
  const main = regressionMetrics(y, p);
  const std =
    bootstrap > 0
      ? bootstrapStd(n, bootstrap, seed, (idx) => regressionMetrics(y, p, idx).metrics)
      : Object.fromEntries(Object.keys(main.metrics).map((k) => [k, 0]));
  const dummyY = input.dummyLabels ? finiteNumbers(input.dummyLabels, 'dummyLabels') : y;
  if (dummyY.length === 0) throw new EmptyDatasetError('dummyLabels');
  const mean = dummyY.reduce((a, b) => a + b, 0) / dummyY.length;
  const dummy = regressionMetrics(y, new Float64Array(n).fill(mean)).metrics;
  const residuals = new Float64Array(n);
  for (let i = 0; i < n; i++) residuals[i] = p[i]! - y[i]!;
  const step = Math.max(1, Math.ceil(n / MAX_SCATTER_POINTS));
  const actual: number[] = [];
  const predicted: number[] = [];
  for (let i = 0; i < n; i += step) {
    actual.push(y[i]!);
    predicted.push(p[i]!);
  }
  const details: EvaluationDetails = {
    residualHistogram: histogram(residuals, Math.min(30, Math.max(5, Math.ceil(Math.log2(n) + 1)))),
    predictedVsActual: { actual, predicted },
    mapeExcludedZeroLabels: main.mapeExcluded,
  };
  return {
    task: 'regression',
    n,
    metrics: main.metrics,
    std,
    dummy,
    details,
    bootstrap: { resamples: bootstrap, seed },
    warnings: main.warnings,
  };
}

function evaluateClassification(input: EvaluateInput, bootstrap: number, seed: number): EvaluationResult {
  const labels = input.labels.map(String);
  const preds = input.predictions.map(String);
  const classes = input.classes
    ? [...input.classes]
    : [...new Set([...labels, ...preds, ...(input.scores ?? []).flatMap((s) => Object.keys(s))])].sort();
  if (new Set(classes).size !== classes.length) throw new InvalidArgumentError('classes contains duplicates');
  const index = new Map(classes.map((c, i) => [c, i]));
  const toIndex = (values: string[], field: string) =>
    Int32Array.from(values, (v) => {
      const i = index.get(v);
      if (i === undefined) throw new UnknownCategoryError(field, v, classes);
      return i;
    });
  const y = toIndex(labels, 'labels');
  const p = toIndex(preds, 'predictions');
  let probs: Float64Array | undefined;
  if (input.scores) {
    input.scores.forEach((row, i) => {
      for (const [cls, v] of Object.entries(row)) {
        if (!index.has(cls)) throw new UnknownCategoryError(`scores[${i}]`, cls, classes);
        if (!Number.isFinite(v) || v < 0) throw new NonFiniteValueError(`scores[${i}].${cls}`, i, v);
      }
    });
    probs = scoresToMatrix(input.scores, classes);
  }
  const n = y.length;
  const k = classes.length;
  const main = classificationMetrics(classes, y, p, probs);
  const std =
    bootstrap > 0
      ? bootstrapStd(n, bootstrap, seed, (idx) => classificationMetrics(classes, y, p, probs, idx).metrics)
      : Object.fromEntries(Object.keys(main.metrics).map((m) => [m, 0]));
  // The dummy predicts the majority class (ties: first in class order) and scores every row with the class prior.
  const dummyLabels = input.dummyLabels ? toIndex(input.dummyLabels.map(String), 'dummyLabels') : y;
  if (dummyLabels.length === 0) throw new EmptyDatasetError('dummyLabels');
  const prior = new Float64Array(k);
  for (const c of dummyLabels) prior[c]! += 1 / dummyLabels.length;
  let majority = 0;
  for (let c = 1; c < k; c++) if (prior[c]! > prior[majority]!) majority = c;
  const dummyProbs = probs ? new Float64Array(n * k).map((_, i) => prior[i % k]!) : undefined;
  const dummy = classificationMetrics(classes, y, new Int32Array(n).fill(majority), dummyProbs).metrics;
  return {
    task: 'classification',
    n,
    metrics: main.metrics,
    std,
    dummy,
    details: { confusion: { labels: classes, matrix: main.confusion }, perClass: main.perClass },
    bootstrap: { resamples: bootstrap, seed },
    warnings: [...new Set(main.warnings)],
  };
}

/**
 * Evaluate holdout predictions.
 * @throws EmptyDatasetError, LengthMismatchError, NonFiniteValueError (regression labels/predictions,
 *   negative or non-finite scores), UnknownCategoryError (a class outside `classes`), InvalidArgumentError
 */
export function evaluateModel(input: EvaluateInput): EvaluationResult {
  const { bootstrap, seed } = checkCommon(input);
  if (input.task === 'regression') return evaluateRegression(input, bootstrap, seed);
  if (input.task === 'classification') return evaluateClassification(input, bootstrap, seed);
  throw new InvalidArgumentError(`task must be regression or classification, got ${String(input.task)}`);
}
