import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { evaluateSlices, MissingColumnError, type MetricGate, type SliceEvaluationInput } from '../../../lambdas/ml/index';
import { adjustPValues, normalSf } from '../../../lambdas/ml/slices';
import { close } from './fixtures';

/** Reference values made by test/fixtures/ml/make-slice-fixtures.py with SciPy/NumPy. */
const ref: any = JSON.parse(readFileSync(fileURLToPath(new URL('../../fixtures/ml/slices.json', import.meta.url)), 'utf8'));

const gate = (direction: 'higher' | 'lower', tolerance: MetricGate['tolerance']): MetricGate => ({ direction, tolerance });
const GATE = { minRows: 50, alpha: 0.05, correction: 'holm' as const };

function regressionInput(over: Partial<SliceEvaluationInput> = {}): SliceEvaluationInput {
  const r = ref.regression;
  return {
    task: 'regression',
    specs: [
      { feature: 'region' },
      { feature: 'distance', buckets: r.buckets.map((name: string, i: number) => ({ name, below: r.edges[i] })) },
    ],
    columns: { region: r.region, distance: r.distance.map(String) },
    labels: r.labels,
    candidate: { predictions: r.candidate },
    production: { predictions: r.production },
    gates: { mae: gate('lower', { relative: 0.05 }), rmse: gate('lower', { relative: 0.05 }) },
    gate: GATE,
    bootstrap: 2000,
    seed: 7,
    ...over,
  };
}

describe('Function: evaluateSlices', () => {
  describe('Method: slice statistics against NumPy/SciPy', () => {
    it('cuts categorical values and named numeric buckets into the same slices, counts and metrics as NumPy', () => {
      // Act
      const result = evaluateSlices(regressionInput());

      // Assess
      expect(result.slices).toHaveLength(ref.regression.slices.length);
      for (const s of ref.regression.slices) {
        const got = result.slices.find((x) => x.name === `${s.feature}=${s.value}`)!;
        expect(got, `${s.feature}=${s.value}`).toBeDefined();
        expect(got.n).toBe(s.n);
        for (const metric of ['mae', 'rmse']) {
          expect(close(got.metrics[metric]!.value, s.candidate[metric], 1e-12), `${got.name} ${metric}`).toBe(true);
          expect(close(got.metrics[metric]!.production!, s.production[metric], 1e-12), `${got.name} production ${metric}`).toBe(true);
        }
      }
    });

    it('gives percentile bootstrap intervals and paired delta errors that agree with scipy.stats.bootstrap', () => {
      // Act
      const result = evaluateSlices(regressionInput());

      // Assess: 2,000 resamples against SciPy's 20,000; the Monte Carlo error is ~2 % of the width.
      for (const s of ref.regression.slices) {
        const m = result.slices.find((x) => x.name === `${s.feature}=${s.value}`)!.metrics.mae!;
        const [low, high] = s.maeInterval;
        const width = high - low;
        expect(Math.abs(m.low! - low), `${s.value} low`).toBeLessThan(0.1 * width);
        expect(Math.abs(m.high! - high), `${s.value} high`).toBeLessThan(0.1 * width);
        expect(Math.abs(m.deltaStd! - s.maeDeltaStandardError) / s.maeDeltaStandardError, `${s.value} se`).toBeLessThan(0.1);
      }
    });

    it('computes the one-sided normal tail as scipy.stats.norm.sf', () => {
      ref.normalSf.z.forEach((z: number, i: number) => expect(close(normalSf(z), ref.normalSf.sf[i], 1e-10), `z=${z}`).toBe(true));
    });

    it('adjusts p-values as Holm and Bonferroni do', () => {
      const { p, holm, bonferroni } = ref.adjust;
      adjustPValues(p, 'holm').forEach((v, i) => expect(close(v, holm[i], 1e-12), `holm ${i}`).toBe(true));
      adjustPValues(p, 'bonferroni').forEach((v, i) => expect(close(v, bonferroni[i], 1e-12), `bonferroni ${i}`).toBe(true));
    });
  });

  describe('Method: the gate per slice', () => {
    it('fails a model that is better on average but worse on one region, naming the slice, worst first', () => {
      // Act
      const result = evaluateSlices(regressionInput());

      // Assess
      expect(result.slices[0]!.name).toBe('region=islands');
      expect(result.failures[0]!.message).toMatch(/^MAE \+65 % on region=islands, n=253 /);
      expect(result.failures[0]!.message).toMatch(/Holm-adjusted p/);
      for (const name of ['region=north', 'region=south']) expect(result.slices.find((s) => s.name === name)!.ok, name).toBe(true);
      const deltas = result.slices.map((s) => s.worstRelativeDelta!);
      expect(deltas).toEqual([...deltas].sort((a, b) => b - a));
    });

    it('reports but does not gate slices under the minimum size', () => {
      // Act
      const result = evaluateSlices(regressionInput({ gate: { ...GATE, minRows: 200 } }));

      // Assess
      const long = result.slices.find((s) => s.name === 'distance=long')!;
      expect(long).toMatchObject({ n: 130, gated: false, ok: true });
      expect(long.metrics.mae!.adjustedP).toBeUndefined();
      expect(result.failures.map((f) => f.message).join('\n')).not.toMatch(/distance=long/);
      expect(result.notes.join('\n')).toMatch(/fewer than 200 rows/);
    });

    it('fails a classifier on the channel where its accuracy dropped, and passes the channels where it improved', () => {
      // Prepare
      const c = ref.classification;

      // Act
      const result = evaluateSlices({
        task: 'classification',
        specs: [{ feature: 'channel' }],
        columns: { channel: c.channel },
        labels: c.labels,
        candidate: { predictions: c.candidate },
        production: { predictions: c.production },
        gates: { accuracy: gate('higher', { absolute: 0.01 }), macro_f1: gate('higher', { absolute: 0.015 }) },
        gate: { ...GATE, correction: 'bonferroni' },
        bootstrap: 500,
        seed: 1,
      });

      // Assess
      for (const s of c.slices) {
        const got = result.slices.find((x) => x.name === `channel=${s.value}`)!;
        expect(got.n).toBe(s.n);
        for (const metric of ['accuracy', 'macro_f1']) {
          expect(close(got.metrics[metric]!.value, s.candidate[metric], 1e-12)).toBe(true);
          expect(close(got.metrics[metric]!.production!, s.production[metric], 1e-12)).toBe(true);
        }
      }
      expect(result.slices[0]!.name).toBe('channel=phone');
      expect(result.failures.map((f) => f.message)).toEqual([
        expect.stringMatching(/^accuracy -26 % on channel=phone, n=133 .*Bonferroni-adjusted p/),
        expect.stringMatching(/^macro_f1 -26 % on channel=phone, n=133 /),
      ]);
    });

    it('without production reports the slices and gates none of them', () => {
      const result = evaluateSlices(regressionInput({ production: undefined }));
      expect(result.failures).toEqual([]);
      expect(result.slices.every((s) => s.metrics.mae!.production === undefined)).toBe(true);
      expect(result.notes.join('\n')).toMatch(/no production/);
    });

    it('names the missing column of a slice', () => {
      expect(() => evaluateSlices(regressionInput({ columns: { region: ref.regression.region } }))).toThrow(MissingColumnError);
    });
  });
});
