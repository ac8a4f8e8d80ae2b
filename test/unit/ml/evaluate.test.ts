import { describe, expect, it } from 'vitest';
import {
  EmptyDatasetError,
  InvalidArgumentError,
  LengthMismatchError,
  NonFiniteValueError,
  UnknownCategoryError,
  evaluateModel,
} from '../../../lambdas/ml/index';
import { close, ref } from './fixtures';

type RegCase = {
  name: string;
  labels: number[];
  predictions: number[];
  expected: Record<string, number>;
  dummy?: Record<string, number>;
  zeroLabels?: number;
};
type ClsCase = {
  name: string;
  classes: string[];
  labels: string[];
  predictions: string[];
  scores?: Record<string, number>[];
  expected: Record<string, number>;
  confusion: number[][];
  perClass: Record<string, { precision: number; recall: number; f1: number; support: number }>;
  dummy: Record<string, number>;
};

function expectMetrics(actual: Record<string, number>, expected: Record<string, number>) {
  expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort());
  for (const [k, v] of Object.entries(expected)) expect(close(actual[k]!, v, 1e-10), `${k}: ${actual[k]} vs ${v}`).toBe(true);
}

describe('Function: evaluateModel', () => {
  describe('Method: regression', () => {
    it.each(ref.regression as RegCase[])('matches NumPy: $name', (c) => {
      // Act
      const r = evaluateModel({ task: 'regression', labels: c.labels, predictions: c.predictions, bootstrap: 0 });
      // Assess
      expectMetrics(r.metrics, c.expected);
      if (c.dummy) expectMetrics(r.dummy, c.dummy);
      if (c.zeroLabels !== undefined) expect(r.details.mapeExcludedZeroLabels).toBe(c.zeroLabels);
    });

    it('gives the textbook values for a worked example', () => {
      // y = 1..5, predictions off by 0.1, -0.1, 0.2, -0.2, 0.5
      const r = evaluateModel({ task: 'regression', labels: [1, 2, 3, 4, 5], predictions: [1.1, 1.9, 3.2, 3.8, 5.5], bootstrap: 0 });
      expect(r.metrics.mae).toBeCloseTo(0.22, 12);
      expect(r.metrics.rmse).toBeCloseTo(Math.sqrt(0.35 / 5), 12);
      expect(r.metrics.r2).toBeCloseTo(1 - 0.35 / 10, 12);
      expect(r.dummy.r2).toBe(0);
    });

    it('leaves MAPE out and says why when every label is 0', () => {
      const r = evaluateModel({ task: 'regression', labels: [0, 0, 0], predictions: [1, 0, 2], bootstrap: 0 });
      expect(r.metrics.mape).toBeUndefined();
      expect(r.warnings.join()).toContain('mape');
    });

    it('adds residual histogram and predicted-vs-actual points', () => {
      const labels = Array.from({ length: 2000 }, (_, i) => i);
      const r = evaluateModel({ task: 'regression', labels, predictions: labels.map((x) => x + 1), bootstrap: 0 });
      expect(r.details.residualHistogram!.counts.reduce((a, b) => a + b, 0)).toBe(2000);
      expect(r.details.predictedVsActual!.actual.length).toBeLessThanOrEqual(500);
    });
  });

  describe('Method: classification', () => {
    it.each(ref.classification as ClsCase[])('matches NumPy: $name', (c) => {
      const r = evaluateModel({
        task: 'classification',
        labels: c.labels,
        predictions: c.predictions,
        scores: c.scores,
        classes: c.classes,
        bootstrap: 0,
      });
      expectMetrics(r.metrics, c.expected);
      expect(r.details.confusion).toEqual({ labels: c.classes, matrix: c.confusion });
      for (const [cls, m] of Object.entries(c.perClass)) {
        expect(r.details.perClass![cls]!.support).toBe(m.support);
        expect(r.details.perClass![cls]!.f1).toBeCloseTo(m.f1, 12);
      }
      expectMetrics(r.dummy, c.dummy);
    });

    it('warns about zero division instead of inventing a number', () => {
      const c = (ref.classification as ClsCase[]).find((x) => x.name === 'class never predicted')!;
      const r = evaluateModel({ task: 'classification', labels: c.labels, predictions: c.predictions, bootstrap: 0 });
      expect(r.warnings.some((w) => w.includes('"c"') && w.includes('never predicted'))).toBe(true);
    });

    it('leaves ROC AUC out for a single class and keeps log loss', () => {
      const r = evaluateModel({
        task: 'classification',
        labels: ['a', 'a', 'a'],
        predictions: ['a', 'b', 'a'],
        scores: [
          { a: 0.9, b: 0.1 },
          { a: 0.3, b: 0.7 },
          { a: 0.6, b: 0.4 },
        ],
        bootstrap: 0,
      });
      expect(r.metrics.roc_auc).toBeUndefined();
      expect(r.metrics.log_loss).toBeCloseTo(-(Math.log(0.9) + Math.log(0.3) + Math.log(0.6)) / 3, 12);
      expect(r.warnings.join()).toContain('roc_auc');
    });

    it('gives ROC AUC 0.5 for tied scores and 1 for a perfect ranking', () => {
      const labels = ['n', 'y', 'n', 'y'];
      const tied = evaluateModel({
        task: 'classification',
        labels,
        predictions: labels,
        scores: labels.map(() => ({ n: 0.5, y: 0.5 })),
        bootstrap: 0,
      });
      expect(tied.metrics.roc_auc).toBe(0.5);
      const perfect = evaluateModel({
        task: 'classification',
        labels,
        predictions: labels,
        scores: labels.map((l) => (l === 'y' ? { n: 0.2, y: 0.8 } : { n: 0.7, y: 0.3 })),
        bootstrap: 0,
      });
      expect(perfect.metrics.roc_auc).toBe(1);
    });
  });

  describe('Method: bootstrap', () => {
    it('is deterministic for a seed and different for another', () => {
      const c = (ref.regression as RegCase[])[0]!;
      const a = evaluateModel({ task: 'regression', labels: c.labels, predictions: c.predictions, bootstrap: 100, seed: 7 });
      const b = evaluateModel({ task: 'regression', labels: c.labels, predictions: c.predictions, bootstrap: 100, seed: 7 });
      const d = evaluateModel({ task: 'regression', labels: c.labels, predictions: c.predictions, bootstrap: 100, seed: 8 });
      expect(a.std).toEqual(b.std);
      expect(a.std.mae).not.toBe(d.std.mae);
    });

    it('estimates the standard error of accuracy close to sqrt(p(1-p)/n)', () => {
      // Prepare: 1000 rows, 70% correct; the binomial standard error is sqrt(.7·.3/1000) ≈ 0.01449.
      const labels = Array.from({ length: 1000 }, (_, i) => (i % 2 ? 'a' : 'b'));
      const predictions = labels.map((l, i) => (i % 10 < 7 ? l : l === 'a' ? 'b' : 'a'));
      // Act
      const r = evaluateModel({ task: 'classification', labels, predictions, bootstrap: 2000, seed: 3 });
      // Assess: a bootstrap estimate of 2000 resamples is within ~5% of the analytic value.
      expect(r.std.accuracy).toBeGreaterThan(0.01449 * 0.9);
      expect(r.std.accuracy).toBeLessThan(0.01449 * 1.1);
    });

    it('gives std 0 with bootstrap 0', () => {
      const r = evaluateModel({ task: 'regression', labels: [1, 2, 3], predictions: [1, 2, 4], bootstrap: 0 });
      expect(Object.values(r.std).every((v) => v === 0)).toBe(true);
    });
  });

  describe('Method: bad input', () => {
    it.each([
      ['empty labels', { task: 'regression', labels: [], predictions: [] }, EmptyDatasetError],
      ['mismatched lengths', { task: 'regression', labels: [1, 2], predictions: [1] }, LengthMismatchError],
      ['NaN prediction', { task: 'regression', labels: [1, 2], predictions: [1, NaN] }, NonFiniteValueError],
      ['Infinity label', { task: 'regression', labels: [Infinity, 2], predictions: [1, 2] }, NonFiniteValueError],
      ['non-numeric label', { task: 'regression', labels: ['x', 2], predictions: [1, 2] }, NonFiniteValueError],
      ['unknown class', { task: 'classification', labels: ['a', 'z'], predictions: ['a', 'a'], classes: ['a', 'b'] }, UnknownCategoryError],
      ['scores of another length', { task: 'classification', labels: ['a'], predictions: ['a'], scores: [] }, LengthMismatchError],
      ['negative score', { task: 'classification', labels: ['a'], predictions: ['a'], scores: [{ a: -1 }] }, NonFiniteValueError],
      ['bad bootstrap', { task: 'regression', labels: [1], predictions: [1], bootstrap: -1 }, InvalidArgumentError],
    ] as const)('%s throws a named error', (_, input, Err) => {
      expect(() => evaluateModel(input as never)).toThrow(Err);
      try {
        evaluateModel(input as never);
      } catch (e) {
        expect((e as Error).name).toBe(Err.name);
      }
    });
  });
});
