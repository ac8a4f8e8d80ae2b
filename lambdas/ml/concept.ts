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
export interface JoinedWindow {
  labels: string[];
  preds: CapturedPrediction[];
  unlabeled: number;
  withoutInferenceId: number;
  misaligned: number;
  orphanLabels: number;
  /** The share of inferenceIds the join kept (1 unless the labels outnumbered the budget). */
  labelShare: number;
}

/** The rows a metric is computed over, and how many it needs. */
interface MetricRows {
  metric: string;
  labels: string[];
  preds: CapturedPrediction[];
  minLabels: number;
}

/** A LabelJoin of one batch as plain JSON (see LabelJoin.exportState). */
export interface LabelJoinState {
  labels: string[];
  preds: CapturedPrediction[];
  unlabeled: number;
  withoutInferenceId: number;
  misaligned: number;
  used: string[];
  truthSize: number;
  level: number;
}

/** 32-bit FNV-1a of a string: a fixed, well-spread hash for sampling ids (hand-written: a few lines, no crypto needed). */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * Capture joined with ground truth on inferenceId = ground truth eventId, in memory bounded by
 * `budget` labels whatever the window's size: add every label first (`addLabel`), then stream the
 * capture (`addCapture`). When more labels arrive than the budget, the join keeps only the ids whose
 * hash falls in the lower half (then quarter, ...) of the hash range, on both sides: a uniform sample
 * of the labelled traffic, the same whatever order or split the objects are read in (the kept share
 * is the largest power of two 2^-j whose ids fit the budget). Counts are then those of the sample.
 */
export class LabelJoin {
  private level = 0;
  private readonly truth = new Map<string, string[]>();
  private readonly used = new Set<string>();
  private readonly labels: string[] = [];
  private readonly preds: CapturedPrediction[] = [];
  private unlabeled = 0;
  private withoutInferenceId = 0;
  private misaligned = 0;
  private mergedTruth: { size: number; level: number } | undefined;

  constructor(readonly budget = Infinity) {
    if (!(budget >= 1)) throw new InvalidArgumentError(`the label budget must be at least 1, got ${budget}`);
  }

  private keeps(id: string): boolean {
    return this.level === 0 || fnv1a(id) >>> (32 - this.level) === 0;
  }

  /** One ground-truth record; a later label for the same id wins (a correction). */
  addLabel(g: ConceptDriftInput['groundTruth'][number]): void {
    if (!this.keeps(g.eventId)) return;
    this.truth.set(g.eventId, g.labels);
    while (this.truth.size > this.budget && this.level < 32) {
      this.level++;
      for (const id of this.truth.keys()) if (!this.keeps(id)) this.truth.delete(id);
    }
  }

  /** One capture record, after every label. */
  addCapture(rec: ConceptDriftInput['capture'][number]): void {
    if (!rec.inferenceId) {
      this.withoutInferenceId++;
      return;
    }
    if (!this.keeps(rec.inferenceId)) return;
    const l = this.truth.get(rec.inferenceId);
    if (!l) {
      this.unlabeled++;
      return;
    }
    this.used.add(rec.inferenceId);
    if (l.length !== rec.predictions.length) {
      this.misaligned++;
      return;
    }
    l.forEach((label, k) => {
      this.labels.push(label);
      this.preds.push(rec.predictions[k]!);
    });
  }

  /**
   * The join of one batch of a split window as plain JSON. Every batch holds the same labels (it
   * reads all of them: the same budget, the same sample) and joins its own capture records.
   */
  exportState(): LabelJoinState {
    return {
      labels: this.labels,
      preds: this.preds,
      unlabeled: this.unlabeled,
      withoutInferenceId: this.withoutInferenceId,
      misaligned: this.misaligned,
      used: [...this.used],
      // A join that holds merged batches has no labels of its own: it passes on theirs.
      truthSize: this.mergedTruth?.size ?? this.truth.size,
      level: this.mergedTruth?.level ?? this.level,
    };
  }

  /** Add a batch's joined rows and counts after those before it: rows in stream order, as one pass. */
  mergeState(o: LabelJoinState): void {
    for (let i = 0; i < o.labels.length; i++) {
      this.labels.push(o.labels[i]!);
      this.preds.push(o.preds[i]!);
    }
    this.unlabeled += o.unlabeled;
    this.withoutInferenceId += o.withoutInferenceId;
    this.misaligned += o.misaligned;
    for (const id of o.used) this.used.add(id);
    this.mergedTruth = { size: o.truthSize, level: o.level };
  }

  joined(): JoinedWindow {
    let orphanLabels = 0;
    for (const id of this.truth.keys()) if (!this.used.has(id)) orphanLabels++;
    // Merged batches: every used id is one of the labels' ids, so the orphans are the rest.
    if (this.mergedTruth) {
      this.level = this.mergedTruth.level;
      orphanLabels = this.mergedTruth.size - this.used.size;
    }
    return {
      labels: this.labels,
      preds: this.preds,
      unlabeled: this.unlabeled,
      withoutInferenceId: this.withoutInferenceId,
      misaligned: this.misaligned,
      orphanLabels,
      labelShare: 2 ** -this.level,
    };
  }
}

/** Capture joined with ground truth on inferenceId = ground truth eventId, every label kept. */
function joinWithGroundTruth(capture: ConceptDriftInput['capture'], groundTruth: ConceptDriftInput['groundTruth']): JoinedWindow {
  const join = new LabelJoin();
  for (const g of groundTruth) join.addLabel(g);
  for (const rec of capture) join.addCapture(rec);
  return join.joined();
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
  return conceptDriftOfJoin(input, joinWithGroundTruth(input.capture, input.groundTruth));
}

/** conceptDrift on a join already made (LabelJoin over streamed capture and ground truth). */
export function conceptDriftOfJoin(input: Omit<ConceptDriftInput, 'capture' | 'groundTruth'>, join: JoinedWindow): ConceptDriftResult {
  const { task, metric } = input;
  const direction = input.direction ?? directionOf(metric);
  if (!direction) throw new InvalidArgumentError(`unknown metric "${metric}"`);
  if (!Number.isFinite(input.baselineValue))
    throw new InvalidArgumentError(`baselineValue of ${metric} must be a finite number, got ${input.baselineValue}`);
  const minLabels = input.minLabels ?? 50;
  const { labels, preds, unlabeled, withoutInferenceId, misaligned, orphanLabels, labelShare } = join;
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
    ...(labelShare < 1 ? { labelShare } : {}),
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
