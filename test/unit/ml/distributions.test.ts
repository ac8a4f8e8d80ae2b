import { describe, expect, it } from 'vitest';
import { chi2Sf, kolmogorovExactSf, kolmogorovSf, logGamma, normalTwoSided, smirnovExactSf } from '../../../lambdas/ml/distributions';
import { ref } from './fixtures';

describe('Module: distributions', () => {
  describe('Method: logGamma', () => {
    it('matches factorials and Γ(1/2) = √π', () => {
      // Prepare / Act / Assess
      expect(logGamma(1)).toBeCloseTo(0, 13);
      expect(logGamma(6)).toBeCloseTo(Math.log(120), 12);
      expect(logGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 12);
      expect(logGamma(101)).toBeCloseTo(363.73937555556347, 9);
    });
  });

  describe('Method: chi2Sf', () => {
    it.each(ref.chi2 as { x: number; df: number; sf: number }[])('chi2.sf($x, $df) matches SciPy', ({ x, df, sf }) => {
      expect(chi2Sf(x, df)).toBeCloseTo(sf, 12);
      expect(Math.abs(chi2Sf(x, df) - sf) / sf).toBeLessThan(1e-9);
    });
  });

  describe('Method: normalTwoSided', () => {
    it.each(ref.normal as { z: number; twoSided: number }[])('2·norm.sf(|$z|) matches SciPy', ({ z, twoSided }) => {
      expect(Math.abs(normalTwoSided(z) - twoSided) / twoSided).toBeLessThan(1e-9);
    });
  });

  describe('Method: kolmogorovSf', () => {
    it.each(ref.kstwobign as { x: number; sf: number }[])('kstwobign.sf($x) matches SciPy', ({ x, sf }) => {
      expect(kolmogorovSf(x)).toBeCloseTo(sf, 12);
    });
  });

  describe('Method: kolmogorovExactSf', () => {
    it.each(ref.kstwo as { d: number; n: number; sf: number }[])('kstwo.sf($d, $n) matches SciPy', ({ d, n, sf }) => {
      // Exact agreement (1e-10) up to n = 140; above, SciPy switches to an asymptotic series
      // (Pelz–Good) that is itself off by ~1e-7, while Marsaglia–Tsang–Wang stays exact.
      expect(Math.abs(kolmogorovExactSf(d, n) - sf)).toBeLessThan(n <= 140 ? 1e-10 : 1e-6);
    });
  });

  describe('Method: smirnovExactSf', () => {
    it('gives the textbook value for n1 = n2 = 3, D = 1 (2 of 20 paths)', () => {
      // Only the two paths that take all of one sample first reach D = 1: 2 / C(6,3) = 0.1.
      expect(smirnovExactSf(1, 3, 3)).toBeCloseTo(0.1, 14);
    });
    it('is 1 when D = 0', () => {
      expect(smirnovExactSf(0, 10, 7)).toBe(1);
    });
  });
});
