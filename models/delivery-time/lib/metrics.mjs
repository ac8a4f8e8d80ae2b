/** Regression metrics, named as in the model manifest (mae, rmse, r2, mape). */

/**
 * @param {ArrayLike<number>} actual
 * @param {ArrayLike<number>} predicted
 * @returns {{ mae: number, rmse: number, r2: number, mape: number, count: number }}
 */
export function regressionMetrics(actual, predicted) {
  const n = actual.length;
  if (n === 0 || predicted.length !== n) throw new RangeError(`regressionMetrics: ${n} actual vs ${predicted.length} predicted values`);
  let mean = 0;
  for (let i = 0; i < n; i++) mean += actual[i];
  mean /= n;
  let abs = 0;
  let sq = 0;
  let tot = 0;
  let pct = 0;
  for (let i = 0; i < n; i++) {
    const e = predicted[i] - actual[i];
    abs += Math.abs(e);
    sq += e * e;
    tot += (actual[i] - mean) ** 2;
    pct += Math.abs(e) / Math.max(Math.abs(actual[i]), 1e-9);
  }
  return { mae: abs / n, rmse: Math.sqrt(sq / n), r2: tot > 0 ? 1 - sq / tot : 0, mape: pct / n, count: n };
}
