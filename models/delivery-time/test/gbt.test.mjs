import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { binThresholds, predictGbt, trainGbt } from '../lib/gbt.mjs';
import { Random } from '../lib/prng.mjs';

const mse = (model, X, y) => X.reduce((s, x, i) => s + (predictGbt(model, x) - y[i]) ** 2, 0) / X.length;

describe('Module: gbt', () => {
  describe('Method: binThresholds', () => {
    it('cuts between distinct values when there are few of them', () => {
      assert.deepEqual(binThresholds(Float64Array.from([0, 1, 1, 0, 3]), 32), [0.5, 2]);
    });

    it('cuts at most maxBins - 1 quantiles of a continuous column', () => {
      const values = Float64Array.from({ length: 1000 }, (_, i) => i);
      const t = binThresholds(values, 4);
      assert.deepEqual(t, [250, 500, 750]);
    });

    it('has no cut for a constant column', () => {
      assert.deepEqual(binThresholds(Float64Array.from([2, 2, 2]), 32), []);
    });
  });

  describe('Method: trainGbt', () => {
    it('learns a step function exactly', () => {
      // Prepare: y = 10 when x0 > 5, else 0; x1 is noise the trees must ignore.
      const rng = new Random(3);
      const X = Array.from({ length: 400 }, () => Float64Array.from([rng.between(0, 10), rng.between(0, 10)]));
      const y = X.map((x) => (x[0] > 5 ? 10 : 0));
      // Act
      const model = trainGbt(X, y, { rounds: 60, learningRate: 0.3, maxDepth: 2, minLeaf: 5, subsample: 1 });
      // Assess
      assert.ok(Math.abs(predictGbt(model, [9, 1]) - 10) < 0.1, `high side ${predictGbt(model, [9, 1])}`);
      assert.ok(Math.abs(predictGbt(model, [1, 9])) < 0.1, `low side ${predictGbt(model, [1, 9])}`);
      assert.equal(model.trees[0].feature[0], 0, 'the first split is on x0');
      assert.ok(model.gain[0] > 100 * model.gain[1], `gain ${model.gain}`);
    });

    it('starts from the mean and fits an interaction a linear model cannot', () => {
      // Prepare: y = x0 * x1 on [0,1]^2
      const rng = new Random(4);
      const X = Array.from({ length: 2000 }, () => Float64Array.from([rng.uniform(), rng.uniform()]));
      const y = X.map((x) => x[0] * x[1]);
      const mean = y.reduce((s, v) => s + v, 0) / y.length;
      const variance = y.reduce((s, v) => s + (v - mean) ** 2, 0) / y.length;
      // Act
      const model = trainGbt(X, y, { rounds: 100 });
      // Assess
      assert.ok(Math.abs(model.base - mean) < 1e-12);
      assert.ok(mse(model, X, y) < 0.05 * variance, `mse ${mse(model, X, y)} vs variance ${variance}`);
    });

    it('lowers the training error as rounds are added', () => {
      const rng = new Random(5);
      const X = Array.from({ length: 500 }, () => Float64Array.from([rng.between(-3, 3)]));
      const y = X.map((x) => Math.sin(x[0]) + rng.normal(0, 0.1));
      const errors = [5, 20, 80].map((rounds) => mse(trainGbt(X, y, { rounds }), X, y));
      assert.ok(errors[0] > errors[1] && errors[1] > errors[2], `errors ${errors}`);
    });

    it('respects minLeaf: no leaf is grown from fewer rows', () => {
      const X = Array.from({ length: 50 }, (_, i) => Float64Array.from([i]));
      const y = X.map((x) => (x[0] === 49 ? 100 : 0));
      const model = trainGbt(X, y, { rounds: 1, learningRate: 1, minLeaf: 10, subsample: 1, maxDepth: 4 });
      // The outlier cannot be isolated: every leaf holds >= 10 rows, so its prediction is diluted.
      assert.ok(predictGbt(model, [49]) < 20, `prediction ${predictGbt(model, [49])}`);
    });

    it('is deterministic for a seed and varies with it when subsampling', () => {
      const rng = new Random(6);
      const X = Array.from({ length: 300 }, () => Float64Array.from([rng.uniform(), rng.uniform()]));
      const y = X.map((x) => x[0] + 2 * x[1] + rng.normal(0, 0.1));
      const a = trainGbt(X, y, { rounds: 10, seed: 1, subsample: 0.7 });
      const b = trainGbt(X, y, { rounds: 10, seed: 1, subsample: 0.7 });
      const c = trainGbt(X, y, { rounds: 10, seed: 2, subsample: 0.7 });
      assert.deepEqual(JSON.stringify(a.trees), JSON.stringify(b.trees));
      assert.notDeepEqual(JSON.stringify(a.trees), JSON.stringify(c.trees));
    });

    it('rejects mismatched targets', () => {
      assert.throws(() => trainGbt([Float64Array.from([1])], [1, 2]), /rows 1, targets 2/);
    });
  });
});
