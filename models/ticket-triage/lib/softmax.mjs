/**
 * L2-regularized multinomial logistic regression (softmax) on sparse vectors, trained by
 * mini-batch SGD with a decaying step — hand-written because the models take no npm
 * dependencies. It minimizes mean cross-entropy + (lambda / 2) * ||W||^2, the objective of
 * scikit-learn's LogisticRegression(multi_class='multinomial'), and its class scores are
 * probabilities, which is what the drift and evaluation code compare.
 *
 * The L2 shrink of every weight on every step would cost K x F per step; instead the
 * weights are kept as scale * W, so a shrink is one multiplication (the trick of
 * Bottou's SGD and Vowpal Wabbit).
 */
import { Random } from './prng.mjs';

export const DEFAULT_PARAMS = Object.freeze({
  epochs: 12,
  batchSize: 32,
  learningRate: 2,
  decay: 0.5,
  lambda: 1e-5,
  seed: 1,
});

/** Softmax of `z` in place (max-subtracted for stability). */
function softmaxInPlace(z) {
  let max = -Infinity;
  for (const v of z) if (v > max) max = v;
  let sum = 0;
  for (let k = 0; k < z.length; k++) {
    z[k] = Math.exp(z[k] - max);
    sum += z[k];
  }
  for (let k = 0; k < z.length; k++) z[k] /= sum;
  return z;
}

/**
 * Class probabilities of one sparse vector.
 * @param {{ classes: string[], width: number, weights: ArrayLike<number>, bias: ArrayLike<number> }} model
 *   weights are class-major: weights[k * width + j]
 * @param {{ index: Int32Array, value: Float64Array }} x
 * @param {number} [scale] internal: the weights' pending L2 scale during training
 */
export function predictProba(model, x, scale = 1) {
  const K = model.classes.length;
  const z = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    let s = 0;
    const base = k * model.width;
    for (let t = 0; t < x.index.length; t++) s += model.weights[base + x.index[t]] * x.value[t];
    z[k] = s * scale + model.bias[k];
  }
  return softmaxInPlace(z);
}

/**
 * Fit the classifier.
 * @param {{ index: Int32Array, value: Float64Array }[]} X
 * @param {string[]} y class labels
 * @param {number} width number of columns
 * @param {Partial<typeof DEFAULT_PARAMS>} [params]
 */
export function trainSoftmax(X, y, width, params = {}) {
  const p = { ...DEFAULT_PARAMS, ...params };
  const n = X.length;
  if (n === 0 || y.length !== n) throw new RangeError(`trainSoftmax: need as many labels as rows (rows ${n}, labels ${y.length})`);
  const classes = [...new Set(y)].sort();
  const K = classes.length;
  const target = Int32Array.from(y, (label) => classes.indexOf(label));
  const model = { classes, width, weights: new Float64Array(K * width), bias: new Float64Array(K) };
  // Start the bias at the log class priors: the untrained model is the best constant.
  for (let k = 0; k < K; k++) model.bias[k] = Math.log(target.filter((t) => t === k).length / n);
  const rng = new Random(p.seed);
  const order = Array.from({ length: n }, (_, i) => i);
  let scale = 1;
  let step = 0;
  const gradBias = new Float64Array(K);
  for (let epoch = 0; epoch < p.epochs; epoch++) {
    rng.shuffle(order);
    for (let start = 0; start < n; start += p.batchSize) {
      const lr = p.learningRate / (1 + p.decay * (step++ * p.batchSize) / n);
      const batch = order.slice(start, start + p.batchSize);
      // Gradients are taken at the current weights, then applied, as in plain mini-batch SGD.
      const updates = batch.map((i) => {
        const prob = predictProba(model, X[i], scale);
        prob[target[i]] -= 1;
        return prob;
      });
      scale *= 1 - lr * p.lambda;
      if (scale < 1e-9) {
        for (let j = 0; j < model.weights.length; j++) model.weights[j] *= scale;
        scale = 1;
      }
      gradBias.fill(0);
      const m = batch.length;
      batch.forEach((i, b) => {
        const x = X[i];
        for (let k = 0; k < K; k++) {
          const g = updates[b][k];
          gradBias[k] += g;
          if (g === 0) continue;
          const base = k * width;
          const c = (lr * g) / (m * scale);
          for (let t = 0; t < x.index.length; t++) model.weights[base + x.index[t]] -= c * x.value[t];
        }
      });
      for (let k = 0; k < K; k++) model.bias[k] -= (lr * gradBias[k]) / m;
    }
  }
  for (let j = 0; j < model.weights.length; j++) model.weights[j] *= scale;
  return { params: p, classes, width, weights: Array.from(model.weights), bias: Array.from(model.bias) };
}
