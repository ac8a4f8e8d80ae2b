import { describe, expect, it } from 'vitest';
import { runGate, type MetricGate } from '../../../lambdas/ml/index';

const gate = (g: Partial<MetricGate> & Pick<MetricGate, 'direction'>): MetricGate => ({ tolerance: {}, ...g });

describe('Function: runGate', () => {
  describe('Method: absolute bounds', () => {
    it('passes a metric on the bound and fails one past it, per direction', () => {
      const v = runGate(
        { accuracy: gate({ direction: 'higher', bound: 0.8 }), rmse: gate({ direction: 'lower', bound: 2 }) },
        { accuracy: 0.8, rmse: 2.01 },
      );
      expect(v.validation_ok).toBe(false);
      expect(v.failures).toEqual([expect.objectContaining({ metric: 'rmse', value: 2.01, bound: 2, baseline: null })]);
      expect(v.checks.find((c) => c.metric === 'accuracy')!.ok).toBe(true);
    });
  });

  describe('Method: first version', () => {
    it('skips the comparison and says so', () => {
      const v = runGate({ rmse: gate({ direction: 'lower' }) }, { rmse: 3 });
      expect(v).toMatchObject({ validation_ok: true, comparedWithProduction: false, failures: [] });
      expect(v.notes[0]).toContain('first version');
    });
  });

  describe('Method: missing or non-finite metrics', () => {
    it.each([
      ['missing', {}],
      ['NaN', { r2: NaN }],
      ['Infinity', { r2: Infinity }],
    ])('fails a %s metric', (_, candidate) => {
      const v = runGate({ r2: gate({ direction: 'higher' }) }, candidate as Record<string, number>, { r2: 0.9 });
      expect(v.validation_ok).toBe(false);
      expect(v.failures[0]).toMatchObject({ metric: 'r2', value: null });
    });
  });

  describe('Method: no-regression tolerance', () => {
    it('allows no worsening at all with an empty tolerance', () => {
      expect(runGate({ accuracy: gate({ direction: 'higher' }) }, { accuracy: 0.9 }, { accuracy: 0.9 }).validation_ok).toBe(true);
      expect(runGate({ accuracy: gate({ direction: 'higher' }) }, { accuracy: 0.8999 }, { accuracy: 0.9 }).validation_ok).toBe(false);
    });

    it('applies an absolute tolerance (higher is better)', () => {
      const g = { accuracy: gate({ direction: 'higher', tolerance: { absolute: 0.01 } }) };
      expect(runGate(g, { accuracy: 0.891 }, { accuracy: 0.9 }).validation_ok).toBe(true);
      const v = runGate(g, { accuracy: 0.889 }, { accuracy: 0.9 });
      expect(v.validation_ok).toBe(false);
      expect(v.failures[0]!.bound).toBeCloseTo(0.89, 12);
      expect(v.failures[0]!.baseline).toBe(0.9);
    });

    it('applies a relative tolerance (lower is better)', () => {
      const g = { rmse: gate({ direction: 'lower', tolerance: { relative: 0.05 } }) };
      expect(runGate(g, { rmse: 10.49 }, { rmse: 10 }).validation_ok).toBe(true);
      expect(runGate(g, { rmse: 10.51 }, { rmse: 10 }).validation_ok).toBe(false);
    });

    it('requires both when absolute and relative are given (TFX / MLflow)', () => {
      // relative 10% of 10 = 1.0, absolute 0.2: the stricter 0.2 decides.
      const g = { mae: gate({ direction: 'lower', tolerance: { absolute: 0.2, relative: 0.1 } }) };
      expect(runGate(g, { mae: 10.2 }, { mae: 10 }).validation_ok).toBe(true);
      expect(runGate(g, { mae: 10.3 }, { mae: 10 }).validation_ok).toBe(false);
    });

    it('skips a metric production does not have, with a note', () => {
      const v = runGate({ roc_auc: gate({ direction: 'higher' }) }, { roc_auc: 0.7 }, { accuracy: 0.9 });
      expect(v.validation_ok).toBe(true);
      expect(v.notes.join()).toContain('roc_auc');
    });

    it('checks the bound and the regression independently', () => {
      const v = runGate({ r2: gate({ direction: 'higher', bound: 0.5 }) }, { r2: 0.4 }, { r2: 0.45 });
      expect(v.failures.map((f) => f.bound)).toEqual([0.5, 0.45]);
      expect(v.checks.map((c) => c.kind)).toEqual(['present', 'bound', 'no-regression']);
    });
  });
});
