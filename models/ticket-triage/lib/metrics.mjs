/** Classification metrics, named as in the model manifest. */

/**
 * @param {string[]} actual
 * @param {string[]} predicted
 * @param {Record<string, number>[]} [scores] class probabilities, for log_loss
 * @param {string[]} [classes] defaults to every label seen in actual or predicted
 */
export function classificationMetrics(actual, predicted, scores, classes) {
  const n = actual.length;
  if (n === 0 || predicted.length !== n) throw new RangeError(`classificationMetrics: ${n} actual vs ${predicted.length} predicted labels`);
  const labels = classes ?? [...new Set([...actual, ...predicted])].sort();
  let correct = 0;
  const tp = new Map(labels.map((l) => [l, 0]));
  const fp = new Map(labels.map((l) => [l, 0]));
  const fn = new Map(labels.map((l) => [l, 0]));
  for (let i = 0; i < n; i++) {
    if (actual[i] === predicted[i]) {
      correct++;
      tp.set(actual[i], (tp.get(actual[i]) ?? 0) + 1);
    } else {
      fp.set(predicted[i], (fp.get(predicted[i]) ?? 0) + 1);
      fn.set(actual[i], (fn.get(actual[i]) ?? 0) + 1);
    }
  }
  const perClass = {};
  let f1Sum = 0;
  let pSum = 0;
  let rSum = 0;
  let weighted = 0;
  for (const l of labels) {
    const t = tp.get(l) ?? 0;
    const precision = t + (fp.get(l) ?? 0) ? t / (t + fp.get(l)) : 0;
    const support = t + (fn.get(l) ?? 0);
    const recall = support ? t / support : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    perClass[l] = { precision, recall, f1, support };
    f1Sum += f1;
    pSum += precision;
    rSum += recall;
    weighted += f1 * support;
  }
  const out = {
    accuracy: correct / n,
    macro_f1: f1Sum / labels.length,
    weighted_f1: weighted / n,
    macro_precision: pSum / labels.length,
    macro_recall: rSum / labels.length,
    count: n,
    perClass,
  };
  if (scores) {
    let loss = 0;
    for (let i = 0; i < n; i++) loss -= Math.log(Math.max(scores[i][actual[i]] ?? 0, 1e-15));
    out.log_loss = loss / n;
  }
  return out;
}
