import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compareClassification, compareRegression, pairedBootstrap, shadowVerdict } from '../../../lambdas/ml/shadow';
import { close } from './fixtures';

/** Reference values made by test/fixtures/shadow/make-fixtures.py with NumPy. */
const ref: any = JSON.parse(readFileSync(fileURLToPath(new URL('../../fixtures/shadow/reference.json', import.meta.url)), 'utf8'));

describe('Function: compareRegression', () => {
  it("matches NumPy's mean, p95 and max absolute difference and histogram of differences", () => {
    // Act
    const r = compareRegression(ref.regression.production, ref.regression.shadow, 20);

    // Assess
    expect(r.n).toBe(400);
    for (const k of ['meanDifference', 'meanAbsDifference', 'p95AbsDifference', 'maxAbsDifference'] as const)
      expect(close(r[k], ref.regression[k], 1e-9), `${k}: ${r[k]} vs ${ref.regression[k]}`).toBe(true);
    expect(r.histogram.counts).toEqual(ref.regression.histogram.counts);
    r.histogram.edges.forEach((e, i) => expect(close(e, ref.regression.histogram.edges[i], 1e-9)).toBe(true));
  });

  it('refuses pairs of different lengths, naming both', () => {
    expect(() => compareRegression([1, 2], [1])).toThrow(/2 production answers but 1 shadow answers/);
  });
});

describe('Function: compareClassification', () => {
  it('matches the agreement rate and the cross-tabulation (rows production, columns shadow)', () => {
    // Act
    const r = compareClassification(ref.classification.production, ref.classification.shadow);

    // Assess
    expect(close(r.agreement, ref.classification.agreement)).toBe(true);
    expect(r.classes).toEqual(ref.classification.classes);
    expect(r.crossTab).toEqual(ref.classification.crossTab);
  });
});

describe('Function: pairedBootstrap', () => {
  it.each([
    ['regression', 'bootstrapRegression'],
    ['classification', 'bootstrapClassification'],
  ] as const)('matches the %s metric difference and its percentile interval with a fixed seed', (task, key) => {
    // Prepare
    const c = ref[key];

    // Act
    const r = pairedBootstrap({
      task,
      metric: c.metric,
      labels: c.labels,
      production: c.production,
      shadow: c.shadow,
      resamples: c.resamples,
      seed: c.seed,
      level: c.level,
    });

    // Assess
    expect(r.n).toBe(c.labels.length);
    for (const [k, want] of [
      ['production', c.productionValue],
      ['shadow', c.shadowValue],
      ['difference', c.difference],
      ['lower', c.lower],
      ['upper', c.upper],
    ] as const)
      expect(close(r[k], want, 1e-9), `${k}: ${r[k]} vs ${want}`).toBe(true);
  });
});

describe('Function: shadowVerdict', () => {
  const bounds = { minAgreement: 0.9, maxMeanAbsDifference: null, maxP95AbsDifference: null, maxMetricWorsening: 0 };

  it('is insufficient-data under the minimum number of shadowed requests, saying how many arrived', () => {
    const agreement = compareClassification(['a', 'b'], ['a', 'b']);
    const v = shadowVerdict({ agreement, bootstrap: null, minRequests: 10, bounds, metricDirection: 'higher' });
    expect(v.verdict).toBe('insufficient-data');
    expect(v.reasons.join()).toMatch(/2 shadowed requests, fewer than the 10 experiment\.shadow\.minRequests/);
  });

  it('fails a classifier that agrees with production less than the bound', () => {
    const agreement = compareClassification(['a', 'a', 'a', 'a'], ['a', 'b', 'b', 'a']);
    const v = shadowVerdict({ agreement, bootstrap: null, minRequests: 4, bounds, metricDirection: 'higher' });
    expect(v.verdict).toBe('fail');
    expect(v.reasons.join()).toMatch(/agreement 0\.5 is below experiment\.shadow\.bounds\.minAgreement 0\.9/);
  });

  it('fails a regressor whose p95 absolute difference exceeds the bound, and passes one within it', () => {
    const agreement = compareRegression([1, 2, 3, 4], [1.1, 2.1, 3.1, 6]);
    const strict = { ...bounds, maxP95AbsDifference: 0.5 };
    expect(shadowVerdict({ agreement, bootstrap: null, minRequests: 4, bounds: strict, metricDirection: 'lower' }).verdict).toBe('fail');
    const loose = { ...bounds, maxP95AbsDifference: 5 };
    expect(shadowVerdict({ agreement, bootstrap: null, minRequests: 4, bounds: loose, metricDirection: 'lower' }).verdict).toBe('pass');
  });

  it('fails when the whole interval of the ground-truth metric is worse than production by more than the bound', () => {
    const agreement = compareClassification(['a', 'a'], ['a', 'a']);
    const bootstrap = {
      metric: 'accuracy',
      n: 200,
      production: 0.85,
      shadow: 0.77,
      difference: -0.08,
      lower: -0.14,
      upper: -0.02,
      level: 0.9,
      resamples: 400,
      seed: 11,
    };
    const v = shadowVerdict({ agreement, bootstrap, minRequests: 2, bounds, metricDirection: 'higher' });
    expect(v.verdict).toBe('fail');
    expect(v.reasons.join()).toMatch(/accuracy/);
    const unsure = { ...bootstrap, upper: 0.01 };
    expect(shadowVerdict({ agreement, bootstrap: unsure, minRequests: 2, bounds, metricDirection: 'higher' }).verdict).toBe('pass');
  });
});
