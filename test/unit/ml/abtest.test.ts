import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  abVerdict,
  normalQuantile,
  planAbTest,
  requestLoss,
  sampleSizeMeans,
  sampleSizeProportions,
  twoProportionTest,
  twoSampleMeanTest,
} from '../../../lambdas/ml/abtest';

const ref: any = JSON.parse(readFileSync(fileURLToPath(new URL('../../fixtures/abtest/reference.json', import.meta.url)), 'utf8'));

describe('Function: normalQuantile', () => {
  it.each(ref.quantiles as { p: number; z: number }[])('agrees with scipy.stats.norm.ppf at p = $p', ({ p, z }) => {
    expect(normalQuantile(p)).toBeCloseTo(z, 12);
  });

  it('refuses a probability outside (0, 1)', () => {
    expect(() => normalQuantile(1)).toThrow(/p must be in \(0, 1\), got 1/);
  });
});

describe('Function: sample sizes per arm (pre-registered)', () => {
  it.each(ref.proportions as { p1: number; p2: number; alpha: number; power: number; n: number }[])(
    'two proportions $p1 -> $p2 at alpha $alpha, power $power: $n',
    ({ n, ...input }) => {
      expect(sampleSizeProportions(input)).toBe(n);
    },
  );

  it.each(ref.means as { sigma: number; delta: number; alpha: number; power: number; n: number }[])(
    'two means, sigma $sigma, delta $delta at alpha $alpha, power $power: $n',
    ({ n, ...input }) => {
      expect(sampleSizeMeans(input)).toBe(n);
    },
  );
});

describe('Function: the tests at the horizon', () => {
  it('two-proportion z-test of the error rates agrees with the SciPy reference', () => {
    const r = ref.proportionTest;
    const t = twoProportionTest(r.production, r.candidate, r.alpha);
    expect(t.difference).toBeCloseTo(r.difference, 12);
    expect(t.z).toBeCloseTo(r.z, 10);
    expect(t.pValue).toBeCloseTo(r.pValue, 10);
    expect(t.interval[0]).toBeCloseTo(r.interval[0], 10);
    expect(t.interval[1]).toBeCloseTo(r.interval[1], 10);
  });

  it('two-sample z-test of the squared errors agrees with the SciPy reference', () => {
    const r = ref.meanTest;
    const t = twoSampleMeanTest(r.production, r.candidate, r.alpha);
    expect(t.difference).toBeCloseTo(r.difference, 10);
    expect(t.z).toBeCloseTo(r.z, 10);
    expect(t.pValue).toBeCloseTo(r.pValue, 10);
    expect(t.interval).toEqual([expect.closeTo(r.interval[0], 10), expect.closeTo(r.interval[1], 10)]);
  });
});

describe('Function: planAbTest and abVerdict', () => {
  it('plans an rmse test on squared errors: the effect is (rmse + mde)² − rmse²', () => {
    const r = ref.rmsePlan;
    const plan = planAbTest({
      metric: 'rmse',
      baseline: r.baseline,
      sigma: r.sigma,
      sigmaSource: 'test',
      minDetectableEffect: r.mde,
      alpha: r.alpha,
      power: r.power,
    });
    expect(plan.lossEffect).toBeCloseTo(r.lossEffect, 12);
    expect(plan.nPerArm).toBe(r.n);
    expect(plan.method).toMatch(/two-sample z-test/);
  });

  it('plans an accuracy test as two error proportions', () => {
    const r = ref.accuracyPlan;
    const plan = planAbTest({
      metric: 'accuracy',
      baseline: r.baseline,
      sigma: null,
      sigmaSource: null,
      minDetectableEffect: r.mde,
      alpha: r.alpha,
      power: r.power,
    });
    expect(plan).toMatchObject({ method: 'two-proportion z-test', nPerArm: r.n });
  });

  it('refuses a mean test without the standard deviation it is sized from', () => {
    expect(() =>
      planAbTest({ metric: 'mae', baseline: 1, sigma: null, sigmaSource: null, minDetectableEffect: 0.1, alpha: 0.05, power: 0.8 }),
    ).toThrow(/mae needs the standard deviation/);
  });

  it('fails a significantly worse candidate and passes one that is not', () => {
    const plan = planAbTest({
      metric: 'accuracy',
      baseline: 0.9,
      sigma: null,
      sigmaSource: null,
      minDetectableEffect: 0.05,
      alpha: 0.05,
      power: 0.8,
    });
    const r = ref.proportionTest;
    expect(abVerdict(plan, r.production, r.candidate)).toMatchObject({
      verdict: 'fail',
      reason: expect.stringMatching(/significantly worse/),
    });
    // The same difference the other way round: the candidate is better, which never fails
    expect(abVerdict(plan, r.candidate, r.production).verdict).toBe('pass');
    expect(abVerdict(plan, r.production, r.production).verdict).toBe('pass');
  });

  it('reads each metric as a per-request loss', () => {
    expect(requestLoss('accuracy', 'a', 'b')).toBe(1);
    expect(requestLoss('accuracy', 'a', 'a')).toBe(0);
    expect(requestLoss('mae', 3, 1)).toBe(2);
    expect(requestLoss('rmse', 3, 1)).toBe(4);
    expect(requestLoss('mape', 3, 2)).toBe(0.5);
    expect(requestLoss('mape', 3, 0)).toBeUndefined();
  });
});
