/**
 * Concept drift: the evaluation metric over the window's labelled predictions (capture joined with
 * ground truth on inferenceId = ground truth eventId), compared with the metric at evaluation time.
 */
import { InvalidArgumentError } from './errors';
import { directionOf } from './evaluate';
import { classificationMetrics, regressionMetrics, scoresToMatrix } from './metrics';
import type { ConceptDriftInput, ConceptDriftResult } from './types';

type CapturedPrediction = ConceptDriftInput['capture'][number]['predictions'][number];

/** The window's predictions joined with their labels, row for row, and the counts of what did not join. */
interface JoinedWindow {
  labels: string[];
  preds: CapturedPrediction[];
  unlabeled: number;
  withoutInferenceId: number;
  misaligned: number;
  orphanLabels: number;
}

/** The rows a metric is computed over, and how many it needs. */
interface MetricRows {
  metric: string;
  labels: string[];
  preds: CapturedPrediction[];
  minLabels: number;
}

/** Capture joined with ground truth on inferenceId = ground truth eventId. */
function joinWithGroundTruth(capture: ConceptDriftInput['capture'], groundTruth: ConceptDriftInput['groundTruth']): JoinedWindow {
  const truth = new Map<string, string[]>();
  for (const g of groundTruth) truth.set(g.eventId, g.labels); // a later label for the same id wins (a correction)
  const labels: string[] = [];
  const preds: CapturedPrediction[] = [];
  let unlabeled = 0;
  let withoutInferenceId = 0;
  let misaligned = 0;
  const used = new Set<string>();
  for (const rec of capture) {
    if (!rec.inferenceId) {
      withoutInferenceId++;
      continue;
    }
    const l = truth.get(rec.inferenceId);
    if (!l) {
      unlabeled++;
      continue;
    }
    used.add(rec.inferenceId);
    if (l.length !== rec.predictions.length) {
      misaligned++;
      continue;
    }
    l.forEach((label, k) => {
      labels.push(label);
      preds.push(rec.predictions[k]!);
    });
  }
  const orphanLabels = [...truth.keys()].filter((id) => !used.has(id)).length;
  return { labels, preds, unlabeled, withoutInferenceId, misaligned, orphanLabels };
}

/** The baseline worsened by the allowed tolerance: both absolute and relative must hold, as the gate, so the smaller wins. */
function limitOf(baselineValue: number, tolerance: ConceptDriftInput['tolerance'], direction: 'higher' | 'lower'): number {
  const allowances: number[] = [];
  const tol = tolerance ?? {};
  if (tol.absolute !== undefined) allowances.push(tol.absolute);
  if (tol.relative !== undefined) allowances.push(tol.relative * Math.abs(baselineValue));
  const allowed = allowances.length ? Math.min(...allowances) : 0;
  return direction === 'higher' ? baselineValue - allowed : baselineValue + allowed;
}

/** The regression metric over the rows with a numeric label and a finite predicted value. */
function regressionValue({ metric, labels, preds, minLabels }: MetricRows): number | undefined {
  const y: number[] = [];
  const p: number[] = [];
  labels.forEach((l, i) => {
    const yv = Number(l);
    const pv = preds[i]!.value;
    if (Number.isFinite(yv) && typeof pv === 'number' && Number.isFinite(pv)) {
      y.push(yv);
      p.push(pv);
    }
  });
  return y.length >= minLabels ? regressionMetrics(y, p).metrics[metric] : undefined;
}

/** The classification metric over the rows with a predicted label; probabilities only when every row has scores. */
function classificationValue({ metric, labels, preds, minLabels }: MetricRows): number | undefined {
  const rows = labels.map((l, i) => ({ l, p: preds[i]! })).filter((r) => r.p.label !== undefined);
  if (rows.length < minLabels) return undefined;
  const classes = [...new Set(rows.flatMap((r) => [r.l, r.p.label!, ...Object.keys(r.p.scores ?? {})]))].sort();
  const index = new Map(classes.map((c, i) => [c, i]));
  const withScores = rows.every((r) => r.p.scores);
  const probs = withScores
    ? scoresToMatrix(
        rows.map((r) => r.p.scores!),
        classes,
      )
    : undefined;
  return classificationMetrics(
    classes,
    Int32Array.from(rows, (r) => index.get(r.l)!),
    Int32Array.from(rows, (r) => index.get(r.p.label!)!),
    probs,
  ).metrics[metric];
}

/**
 * Join, compute the metric, compare with `baselineValue` allowing `tolerance` (both absolute and
 * relative must hold, as the gate). Verdict `insufficient-data` when fewer than `minLabels` rows
 * join or the metric is undefined on the window (e.g. roc_auc with one class).
 * @throws InvalidArgumentError for an unknown metric or a non-finite baseline
 */
export function conceptDrift(input: ConceptDriftInput): ConceptDriftResult {
  const { task, metric } = input;
  const direction = input.direction ?? directionOf(metric);
  if (!direction) throw new InvalidArgumentError(`unknown metric "${metric}"`);
  if (!Number.isFinite(input.baselineValue))
    throw new InvalidArgumentError(`baselineValue of ${metric} must be a finite number, got ${input.baselineValue}`);
  const minLabels = input.minLabels ?? 50;
  const { labels, preds, unlabeled, withoutInferenceId, misaligned, orphanLabels } = joinWithGroundTruth(input.capture, input.groundTruth);
  const limit = limitOf(input.baselineValue, input.tolerance, direction);
  const base = {
    metric,
    baseline: input.baselineValue,
    limit,
    direction,
    joined: labels.length,
    unlabeled,
    withoutInferenceId,
    orphanLabels,
    misaligned,
  };
  if (labels.length < minLabels) {
    return {
      ...base,
      verdict: 'insufficient-data',
      value: null,
      message: `${labels.length} labelled prediction(s), fewer than the minimum of ${minLabels}: no concept-drift verdict`,
    };
  }
  const rows: MetricRows = { metric, labels, preds, minLabels };
  const value = task === 'regression' ? regressionValue(rows) : classificationValue(rows);
  if (value === undefined || !Number.isFinite(value)) {
    return {
      ...base,
      verdict: 'insufficient-data',
      value: null,
      message: `${metric} cannot be computed on the ${labels.length} labelled prediction(s) of the window`,
    };
  }
  const drift = direction === 'higher' ? value < limit : value > limit;
  return {
    ...base,
    verdict: drift ? 'drift' : 'no-drift',
    value,
    message: `${metric} = ${value.toPrecision(4)} on ${labels.length} labelled prediction(s) vs ${input.baselineValue.toPrecision(4)} at evaluation; limit ${direction === 'higher' ? '>=' : '<='} ${limit.toPrecision(4)}: ${drift ? 'concept drift' : 'no concept drift'}`,
  };
}
