// The model: linear regression on x1, x2 and a one-hot segment, fitted by least squares.
// Shared by train.mjs and serve.mjs (the build copies it into the bundle).

/** Feature names and types, in the manifest's order (CSV requests use this order). */
export const FEATURES = [
  { name: 'x1', type: 'numeric' },
  { name: 'x2', type: 'numeric' },
  { name: 'segment', type: 'categorical' },
];
export const LABEL = 'y';

/** The design row of one instance; a missing numeric value takes the training mean. */
function design(model, inst) {
  const num = (k) => (typeof inst[k] === 'number' && Number.isFinite(inst[k]) ? inst[k] : model.means[k]);
  return [1, num('x1'), num('x2'), ...model.segments.slice(1).map((s) => (String(inst.segment) === s ? 1 : 0))];
}

/** Fit on rows of {x1, x2, segment, y}; returns a JSON-serialisable model. */
export function fit(rows) {
  if (rows.length === 0) throw new Error('no training rows');
  const segments = [...new Set(rows.map((r) => String(r.segment)))].sort();
  const means = { x1: mean(rows.map((r) => r.x1)), x2: mean(rows.map((r) => r.x2)) };
  const shell = { segments, means };
  const X = rows.map((r) => design(shell, r));
  const p = X[0].length;
  // Normal equations (X'X + tiny ridge) w = X'y, solved by Gaussian elimination.
  const A = Array.from({ length: p }, (_, i) => Array.from({ length: p }, (_, j) => X.reduce((s, x) => s + x[i] * x[j], 0) + (i === j ? 1e-9 : 0)));
  const b = Array.from({ length: p }, (_, i) => X.reduce((s, x, n) => s + x[i] * rows[n].y, 0));
  return { ...shell, weights: solve(A, b) };
}

export function predict(model, inst) {
  return design(model, inst).reduce((s, x, i) => s + x * model.weights[i], 0);
}

export function rmse(model, rows) {
  return Math.sqrt(mean(rows.map((r) => (predict(model, r) - r.y) ** 2)));
}

function mean(xs) {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function solve(A, b) {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r][c]) > Math.abs(M[piv][c])) piv = r;
    [M[c], M[piv]] = [M[piv], M[c]];
    for (let r = 0; r < n; r++) {
      if (r === c || M[c][c] === 0) continue;
      const f = M[r][c] / M[c][c];
      for (let k = c; k <= n; k++) M[r][k] -= f * M[c][k];
    }
  }
  return M.map((row, i) => (row[i] === 0 ? 0 : row[n] / row[i]));
}

/** Parse the CSV this model's generator writes (header row, no quoted fields). */
export function readCsv(text) {
  const [header, ...lines] = text.trim().split('\n');
  const cols = header.split(',');
  return lines.map((line) => {
    const v = line.split(',');
    return Object.fromEntries(cols.map((c, i) => [c, c === 'segment' ? v[i] : Number(v[i])]));
  });
}
