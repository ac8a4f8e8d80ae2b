/**
 * Gradient-boosted regression trees for squared loss, hand-written because the models take
 * no npm dependencies. The method is the one XGBoost and LightGBM share:
 *
 * - every feature is cut once into at most `maxBins` quantile bins, and a split is searched
 *   over bin boundaries from per-node histograms of gradient sums (histogram-based splits),
 *   a child's histogram being its parent's minus its smaller sibling's;
 * - each tree is grown depth-first to `maxDepth` on a seeded row subsample, the split gain is
 *   G_L^2/(H_L+lambda) + G_R^2/(H_R+lambda) - G^2/(H+lambda), and leaves need `minLeaf` rows;
 * - a leaf's value is -G/(H+lambda), shrunk by `learningRate` before it is stored.
 *
 * With squared loss the gradient is the residual and the hessian is 1, so H is a row count.
 */
import { Random } from './prng.mjs';

export const DEFAULT_PARAMS = Object.freeze({
  rounds: 200,
  learningRate: 0.1,
  maxDepth: 4,
  minLeaf: 20,
  lambda: 1,
  maxBins: 32,
  subsample: 0.8,
  seed: 1,
});

/**
 * Candidate thresholds of one column: midpoints between distinct values when there are few,
 * otherwise distinct quantiles. A value x falls left of threshold t when x <= t.
 * @param {Float64Array} values
 * @param {number} maxBins
 */
export function binThresholds(values, maxBins) {
  const sorted = Float64Array.from(values).sort();
  const distinct = [];
  for (const v of sorted) if (distinct.length === 0 || distinct[distinct.length - 1] !== v) distinct.push(v);
  if (distinct.length <= maxBins) {
    return distinct.slice(1).map((v, i) => (distinct[i] + v) / 2);
  }
  const cuts = [];
  for (let k = 1; k < maxBins; k++) {
    const q = sorted[Math.floor((k * sorted.length) / maxBins)];
    if (q < sorted[sorted.length - 1] && (cuts.length === 0 || cuts[cuts.length - 1] !== q)) cuts.push(q);
  }
  return cuts;
}

/** Index of the first threshold >= x (thresholds ascending); thresholds.length when none. */
function binOf(thresholds, x) {
  let lo = 0;
  let hi = thresholds.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (thresholds[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Fit a boosted ensemble.
 * @param {Float64Array[]} X rows of encoded features
 * @param {ArrayLike<number>} y targets
 * @param {Partial<typeof DEFAULT_PARAMS>} [params]
 * @returns {{ params: typeof DEFAULT_PARAMS, base: number, trees: Tree[], gain: number[] }}
 * @typedef {{ feature: number[], threshold: number[], left: number[], right: number[], value: number[] }} Tree
 *   flat nodes; a leaf has feature -1 and its (shrunk) value
 */
export function trainGbt(X, y, params = {}) {
  const p = { ...DEFAULT_PARAMS, ...params };
  const n = X.length;
  if (n === 0 || y.length !== n) throw new RangeError(`trainGbt: need as many targets as rows (rows ${n}, targets ${y.length})`);
  const d = X[0].length;
  const rng = new Random(p.seed);

  // Column-major bin codes: the histogram loops read one column at a time.
  const thresholds = [];
  const bins = [];
  for (let j = 0; j < d; j++) {
    const col = new Float64Array(n);
    for (let i = 0; i < n; i++) col[i] = X[i][j];
    const t = binThresholds(col, p.maxBins);
    const codes = new Uint8Array(n);
    for (let i = 0; i < n; i++) codes[i] = binOf(t, col[i]);
    thresholds.push(t);
    bins.push(codes);
  }

  let base = 0;
  for (let i = 0; i < n; i++) base += y[i];
  base /= n;
  const pred = new Float64Array(n).fill(base);
  const grad = new Float64Array(n);
  const gain = new Array(d).fill(0);
  const trees = [];
  const B = p.maxBins + 1;

  const sampleSize = Math.max(1, Math.round(n * p.subsample));
  const all = Int32Array.from({ length: n }, (_, i) => i);

  for (let round = 0; round < p.rounds; round++) {
    for (let i = 0; i < n; i++) grad[i] = pred[i] - y[i];
    const sample = p.subsample < 1 ? Int32Array.from(rng.shuffle(Array.from(all)).slice(0, sampleSize)) : all;
    const tree = { feature: [], threshold: [], left: [], right: [], value: [] };
    // Each node keeps its split as bin codes too, so the training rows are scored without
    // re-binning: bin <= k exactly when value <= thresholds[k].
    const splitBin = [];

    // Gradient sums and row counts per (feature, bin) of a node's rows.
    const histogram = (rows) => {
      const hg = new Float64Array(d * B);
      const hn = new Int32Array(d * B);
      for (let j = 0; j < d; j++) {
        const codes = bins[j];
        const off = j * B;
        for (let r = 0; r < rows.length; r++) {
          const i = rows[r];
          hg[off + codes[i]] += grad[i];
          hn[off + codes[i]]++;
        }
      }
      return { hg, hn };
    };

    const grow = (rows, depth, hist) => {
      const id = tree.feature.length;
      tree.feature.push(-1);
      tree.threshold.push(0);
      tree.left.push(-1);
      tree.right.push(-1);
      tree.value.push(0);
      splitBin.push(-1);
      const H = rows.length;
      let G = 0;
      for (let r = 0; r < H; r++) G += grad[rows[r]];
      const parentScore = (G * G) / (H + p.lambda);
      let bestGain = 1e-9;
      let bestFeature = -1;
      let bestBin = -1;
      if (depth < p.maxDepth && H >= 2 * p.minLeaf) {
        hist ??= histogram(rows);
        for (let j = 0; j < d; j++) {
          const nb = thresholds[j].length;
          const off = j * B;
          let gl = 0;
          let nl = 0;
          for (let k = 0; k < nb; k++) {
            gl += hist.hg[off + k];
            nl += hist.hn[off + k];
            const nr = H - nl;
            if (nl < p.minLeaf) continue;
            if (nr < p.minLeaf) break;
            const gr = G - gl;
            const g = (gl * gl) / (nl + p.lambda) + (gr * gr) / (nr + p.lambda) - parentScore;
            if (g > bestGain) {
              bestGain = g;
              bestFeature = j;
              bestBin = k;
            }
          }
        }
      }
      if (bestFeature < 0) {
        tree.value[id] = (-G / (H + p.lambda)) * p.learningRate;
        return id;
      }
      gain[bestFeature] += bestGain;
      const codes = bins[bestFeature];
      const leftRows = rows.filter((i) => codes[i] <= bestBin);
      const rightRows = rows.filter((i) => codes[i] > bestBin);
      // The histogram subtraction trick: scan only the smaller child; the larger one's
      // histogram is the parent's minus it. Children at the depth limit need none.
      let leftHist;
      let rightHist;
      if (depth + 1 < p.maxDepth) {
        const leftSmaller = leftRows.length <= rightRows.length;
        const small = histogram(leftSmaller ? leftRows : rightRows);
        const large = { hg: hist.hg.slice(), hn: hist.hn.slice() };
        for (let t = 0; t < large.hg.length; t++) {
          large.hg[t] -= small.hg[t];
          large.hn[t] -= small.hn[t];
        }
        [leftHist, rightHist] = leftSmaller ? [small, large] : [large, small];
      }
      tree.feature[id] = bestFeature;
      tree.threshold[id] = thresholds[bestFeature][bestBin];
      splitBin[id] = bestBin;
      tree.left[id] = grow(leftRows, depth + 1, leftHist);
      tree.right[id] = grow(rightRows, depth + 1, rightHist);
      return id;
    };
    grow(sample, 0, undefined);
    trees.push(tree);

    for (let i = 0; i < n; i++) {
      let node = 0;
      while (tree.feature[node] >= 0) {
        node = bins[tree.feature[node]][i] <= splitBin[node] ? tree.left[node] : tree.right[node];
      }
      pred[i] += tree.value[node];
    }
  }
  return { params: p, base, trees, gain };
}

/**
 * Predict one encoded row.
 * @param {{ base: number, trees: { feature: number[], threshold: number[], left: number[], right: number[], value: number[] }[] }} model
 * @param {ArrayLike<number>} x
 */
export function predictGbt(model, x) {
  let out = model.base;
  for (const t of model.trees) {
    let node = 0;
    while (t.feature[node] >= 0) node = x[t.feature[node]] <= t.threshold[node] ? t.left[node] : t.right[node];
    out += t.value[node];
  }
  return out;
}
