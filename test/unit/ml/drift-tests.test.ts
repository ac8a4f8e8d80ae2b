import { describe, expect, it } from 'vitest';
import {
  categoricalShares,
  chiSquareTest,
  jensenShannon,
  ksTwoSample,
  psi,
  psiNumeric,
  wasserstein,
  wassersteinNormalized,
  zTestProportions,
} from '../../../lambdas/ml/drift-tests';
import { EmptyDatasetError } from '../../../lambdas/ml/errors';
import { NumericCurrent, NumericReference } from '../../../lambdas/ml/numeric-column';
import { close, ref } from './fixtures';

type NumCase = {
  name: string;
  reference: number[];
  current: number[];
  wasserstein: number;
  wassersteinNormalized: number;
  psi: number;
  jensenShannon: number | null;
  ksStatistic: number;
};
type KsCase = { name: string; reference: number[]; current: number[]; statistic: number; pValue: number };
type CatCase = {
  name: string;
  reference: Record<string, number>;
  current: Record<string, number>;
  chi2: number | null;
  pValue: number;
  jensenShannon: number;
};
const toMap = (o: Record<string, number>) => new Map(Object.entries(o));

/** Pass 1 and pass 2 of the streaming column, as DriftSession drives it. */
function streamed(reference: number[], current: number[], opts: { wasserstein: boolean; jensenShannon: boolean }) {
  const col = new NumericCurrent(new NumericReference(Float64Array.from(reference).sort()));
  for (const x of current) col.push(x);
  if (col.beginRefine(opts)) for (const x of current) col.refine(x);
  return col;
}

describe('Module: drift-tests', () => {
  describe('Method: ksTwoSample', () => {
    it.each(ref.ks as KsCase[])('matches scipy ks_2samp: $name', ({ reference, current, statistic, pValue }) => {
      // Act
      const r = ksTwoSample(reference, current);
      // Assess
      expect(r.statistic).toBeCloseTo(statistic, 12);
      expect(close(r.pValue, pValue, 1e-7)).toBe(true);
    });
    it('throws EmptyDatasetError on an empty sample', () => {
      expect(() => ksTwoSample([], [1])).toThrow(EmptyDatasetError);
    });
  });

  describe('Method: wasserstein / wassersteinNormalized', () => {
    it.each(ref.numeric as NumCase[])('matches scipy wasserstein_distance / np.std: $name', (c) => {
      expect(close(wasserstein(c.reference, c.current), c.wasserstein, 1e-10)).toBe(true);
      expect(close(wassersteinNormalized(c.reference, c.current), c.wassersteinNormalized, 1e-10)).toBe(true);
    });
    it('gives the textbook value for shifted point masses', () => {
      expect(wasserstein([0, 1, 3], [5, 6, 8])).toBeCloseTo(5, 14);
      expect(wasserstein([0, 10], [0, 10])).toBe(0);
    });
  });

  describe('Class: NumericCurrent (streaming)', () => {
    it.each(ref.numeric as NumCase[])('KS statistic, Wasserstein and PSI match SciPy/NumPy in two bounded passes: $name', (c) => {
      // Act
      const col = streamed(c.reference, c.current, { wasserstein: true, jensenShannon: c.jensenShannon !== null });
      // Assess
      expect(col.ksStatistic()).toBeCloseTo(c.ksStatistic, 12);
      expect(close(col.wasserstein(), c.wasserstein, 1e-9)).toBe(true);
      const r = col.ref;
      expect(
        close(
          psi(
            r.psiCounts.map((x) => x / r.n),
            col.psiCounts.map((x) => x / col.n),
          ),
          c.psi,
          1e-9,
        ),
      ).toBe(true);
      if (c.jensenShannon !== null) {
        const s = col.sturgesShares();
        const fill = (a: number[]) => categoricalShares(new Map(a.map((v, i) => [String(i), v])), new Map()).reference;
        expect(close(jensenShannon(fill(s.reference), fill(s.current)), c.jensenShannon, 1e-9)).toBe(true);
      }
    });
    it('holds only the values of crossing gaps in pass 2', () => {
      // Prepare: current far above the reference: no gap crosses, nothing is held.
      const reference = Array.from({ length: 1000 }, (_, i) => i);
      const col = streamed(
        reference,
        reference.map((x) => x + 5000),
        { wasserstein: true, jensenShannon: false },
      );
      // Assess
      expect(col.refineHeld).toBe(0);
      expect(col.wasserstein()).toBeCloseTo(5000, 9);
    });
  });

  describe('Method: psiNumeric', () => {
    it.each(ref.numeric as NumCase[])('matches the NumPy decile PSI: $name', (c) => {
      expect(close(psiNumeric(c.reference, c.current), c.psi, 1e-9)).toBe(true);
    });
    it('is 0 for identical samples and finite when a bin is empty', () => {
      const a = Array.from({ length: 100 }, (_, i) => i);
      expect(psiNumeric(a, a)).toBe(0);
      expect(
        Number.isFinite(
          psiNumeric(
            a,
            a.map(() => 1000),
          ),
        ),
      ).toBe(true);
    });
  });

  describe('Method: chiSquareTest', () => {
    it.each(ref.categorical as CatCase[])('matches scipy chisquare with Evidently’s expected counts: $name', (c) => {
      const r = chiSquareTest(toMap(c.reference), toMap(c.current));
      if (c.chi2 === null) expect(r.statistic).toBe(Infinity);
      else expect(close(r.statistic, c.chi2, 1e-10)).toBe(true);
      expect(close(r.pValue, c.pValue, 1e-8)).toBe(true);
    });
    it('gives p = 1 for a single category on both sides', () => {
      expect(chiSquareTest(new Map([['a', 5]]), new Map([['a', 9]])).pValue).toBe(1);
    });
  });

  describe('Method: jensenShannon (categorical shares)', () => {
    it.each(ref.categorical as CatCase[])('matches scipy jensenshannon on Evidently’s filled shares: $name', (c) => {
      const s = categoricalShares(toMap(c.reference), toMap(c.current));
      expect(close(jensenShannon(s.reference, s.current), c.jensenShannon, 1e-10)).toBe(true);
    });
    it('is 0 for equal distributions and sqrt(ln 2) for disjoint ones', () => {
      expect(jensenShannon([0.5, 0.5], [0.5, 0.5])).toBe(0);
      expect(jensenShannon([1, 0], [0, 1])).toBeCloseTo(Math.sqrt(Math.LN2), 14);
    });
  });

  describe('Method: zTestProportions', () => {
    it.each(ref.ztest as { name: string; reference: Record<string, number>; current: Record<string, number>; z: number; pValue: number }[])(
      'matches the NumPy/SciPy two-proportion Z-test: $name',
      (c) => {
        const r = zTestProportions(toMap(c.reference), toMap(c.current));
        expect(close(r.statistic, c.z, 1e-10)).toBe(true);
        expect(close(r.pValue, c.pValue, 1e-8)).toBe(true);
      },
    );
    it('gives p = 1 when both samples hold the same single value', () => {
      expect(zTestProportions(new Map([['a', 3]]), new Map([['a', 4]])).pValue).toBe(1);
    });
  });
});
