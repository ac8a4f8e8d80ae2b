/**
 * Metric functions on already-validated arrays. Definitions follow scikit-learn unless a comment
 * says otherwise, so the numbers match what data scientists compute in their notebooks.
 */
import type { ClassScores, PerClassMetrics } from './types';

export interface RegressionMetricsResult {
  metrics: Record<string, number>;
  /** Rows left out of MAPE because the label is 0. */
  mapeExcluded: number;
  warnings: string[];
}

/**
 * MAE, RMSE, R² and MAPE over rows `idx` (all rows when omitted).
 * MAPE (a fraction, not percent) is taken over rows with a non-zero label only: scikit-learn's
 * `max(|y|, eps)` turns one zero label into a 1e15 metric, which would silently fail every gate.
 * R² of a constant label column is 1 for a perfect fit and 0 otherwise (scikit-learn's force_finite).
 */
export function regressionMetrics(
  labels: ArrayLike<number>,
  predictions: ArrayLike<number>,
  idx?: ArrayLike<number>,
): RegressionMetricsResult {
  const n = idx ? idx.length : labels.length;
  let sumY = 0;
  for (let k = 0; k < n; k++) sumY += labels[idx ? idx[k]! : k]!;
  const meanY = sumY / n;
  let absErr = 0;
  let sqErr = 0;
  let ssTot = 0;
  let ape = 0;
  let apeN = 0;
  for (let k = 0; k < n; k++) {
    const i = idx ? idx[k]! : k;
    const y = labels[i]!;
    const e = predictions[i]! - y;
    absErr += Math.abs(e);
    sqErr += e * e;
    ssTot += (y - meanY) * (y - meanY);
    if (y !== 0) {
      ape += Math.abs(e / y);
      apeN++;
    }
  }
  const warnings: string[] = [];
  const metrics: Record<string, number> = { mae: absErr / n, rmse: Math.sqrt(sqErr / n) };
  if (ssTot === 0) {
    metrics.r2 = sqErr === 0 ? 1 : 0;
    warnings.push('r2: the labels are constant; r2 is 1 for a perfect fit and 0 otherwise');
  } else {
    metrics.r2 = 1 - sqErr / ssTot;
  }
  if (apeN > 0) metrics.mape = ape / apeN;
  else warnings.push('mape: every label is 0, MAPE is undefined');
  if (apeN > 0 && apeN < n) warnings.push(`mape: ${n - apeN} row(s) with label 0 left out`);
  return { metrics, mapeExcluded: n - apeN, warnings };
}

export interface ClassificationMetricsResult {
  metrics: Record<string, number>;
  perClass: Record<string, PerClassMetrics>;
  confusion: number[][];
  warnings: string[];
}

/**
 * Accuracy, per-class/macro/weighted precision, recall and F1, and, with scores, log loss and
 * ROC AUC (binary: the second class is positive; multiclass: macro one-vs-rest), as scikit-learn.
 * `labels`/`predictions` are class indices into `classes`; `probs` is row-major n × k, rows summing to 1.
 * Precision or recall with a zero denominator is 0 (scikit-learn's zero_division default) plus a warning.
 */
export function classificationMetrics(
  classes: readonly string[],
  labels: ArrayLike<number>,
  predictions: ArrayLike<number>,
  probs?: Float64Array,
  idx?: ArrayLike<number>,
): ClassificationMetricsResult {
  const k = classes.length;
  const n = idx ? idx.length : labels.length;
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  let correct = 0;
  for (let r = 0; r < n; r++) {
    const i = idx ? idx[r]! : r;
    const t = labels[i]!;
    const p = predictions[i]!;
    confusion[t]![p]!++;
    if (t === p) correct++;
  }
  const warnings: string[] = [];
  const perClass: Record<string, PerClassMetrics> = {};
  let macroP = 0,
    macroR = 0,
    macroF = 0,
    wP = 0,
    wR = 0,
    wF = 0;
  let present = 0;
  for (let c = 0; c < k; c++) {
    const tp = confusion[c]![c]!;
    let predicted = 0;
    let support = 0;
    for (let o = 0; o < k; o++) {
      predicted += confusion[o]![c]!;
      support += confusion[c]![o]!;
    }
    const precision = predicted === 0 ? 0 : tp / predicted;
    const recall = support === 0 ? 0 : tp / support;
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    if (predicted === 0) warnings.push(`precision of class "${classes[c]}" is ill-defined (never predicted); set to 0`);
    if (support === 0) warnings.push(`recall of class "${classes[c]}" is ill-defined (no true rows); set to 0`);
    perClass[classes[c]!] = { precision, recall, f1, support };
    macroP += precision;
    macroR += recall;
    macroF += f1;
    wP += precision * support;
    wR += recall * support;
    wF += f1 * support;
    if (support > 0) present++;
  }
  const metrics: Record<string, number> = {
    accuracy: correct / n,
    macro_precision: macroP / k,
    macro_recall: macroR / k,
    macro_f1: macroF / k,
    weighted_precision: wP / n,
    weighted_recall: wR / n,
    weighted_f1: wF / n,
  };
  if (probs) {
    metrics.log_loss = logLoss(labels, probs, k, idx);
    if (present < 2) warnings.push('roc_auc: only one class is present in the labels, ROC AUC is undefined');
    else metrics.roc_auc = rocAucOvr(labels, probs, k, idx);
  }
  return { metrics, perClass, confusion, warnings };
}

/** Log loss with probabilities clipped to [eps, 1 - eps], eps = 2^-52 (scikit-learn's float64 eps). */
function logLoss(labels: ArrayLike<number>, probs: Float64Array, k: number, idx?: ArrayLike<number>): number {
  const eps = 2.220446049250313e-16;
  const n = idx ? idx.length : labels.length;
  let sum = 0;
  for (let r = 0; r < n; r++) {
    const i = idx ? idx[r]! : r;
    const p = Math.min(Math.max(probs[i * k + labels[i]!]!, eps), 1 - eps);
    sum -= Math.log(p);
  }
  return sum / n;
}

/**
 * ROC AUC by the Mann–Whitney rank statistic with average ranks for ties (identical to the
 * trapezoidal area under the ROC curve). Binary: class 1 is positive. Multiclass: the unweighted
 * mean over classes of class-vs-rest AUC, skipping classes absent from the labels
 * (scikit-learn raises there; we report over the classes that can be scored).
 */
function rocAucOvr(labels: ArrayLike<number>, probs: Float64Array, k: number, idx?: ArrayLike<number>): number {
  const n = idx ? idx.length : labels.length;
  const rows = new Int32Array(n);
  for (let r = 0; r < n; r++) rows[r] = idx ? idx[r]! : r;
  const classesToScore = k === 2 ? [1] : Array.from({ length: k }, (_, c) => c);
  let total = 0;
  let scored = 0;
  const score = new Float64Array(n);
  const order = new Int32Array(n);
  for (const c of classesToScore) {
    let pos = 0;
    for (let r = 0; r < n; r++) {
      score[r] = probs[rows[r]! * k + c]!;
      if (labels[rows[r]!] === c) pos++;
    }
    const neg = n - pos;
    if (pos === 0 || neg === 0) continue;
    for (let r = 0; r < n; r++) order[r] = r;
    order.sort((a, b) => score[a]! - score[b]!);
    let rankSumPos = 0;
    for (let s = 0; s < n;) {
      let e = s;
      while (e + 1 < n && score[order[e + 1]!] === score[order[s]!]) e++;
      const avgRank = (s + e) / 2 + 1;
      for (let t = s; t <= e; t++) if (labels[rows[order[t]!]!] === c) rankSumPos += avgRank;
      s = e + 1;
    }
    total += (rankSumPos - (pos * (pos + 1)) / 2) / (pos * neg);
    scored++;
  }
  return total / scored;
}

/** Per-row scores (class -> score) to an n × k row-normalised matrix; a missing class scores 0. */
export function scoresToMatrix(scores: readonly ClassScores[], classes: readonly string[]): Float64Array {
  const k = classes.length;
  const out = new Float64Array(scores.length * k);
  scores.forEach((row, i) => {
    let sum = 0;
    for (let c = 0; c < k; c++) {
      const v = row[classes[c]!] ?? 0;
      out[i * k + c] = v;
      sum += v;
    }
    if (sum > 0) for (let c = 0; c < k; c++) out[i * k + c]! /= sum;
  });
  return out;
}
