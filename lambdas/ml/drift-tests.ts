/**
 * The drift statistics, with Evidently's definitions (evidently/calculations/stattests):
 * KS (SciPy ks_2samp, method auto), chi-squared (SciPy chisquare with expected = reference counts
 * scaled to the current size), two-proportion Z, Wasserstein normalised by the reference's
 * population std (floored at 0.001), Jensen–Shannon distance (natural log) on Evidently's binned
 * shares, and PSI on 10 reference-quantile bins with open outer edges and epsilon 1e-4.
 * These array versions sort; drift.ts uses the streaming equivalents in numeric-column.ts.
 */
import { chi2Sf, kolmogorovExactSf, normalTwoSided, smirnovExactSf } from './distributions';
import { EmptyDatasetError } from './errors';

/** SciPy's ks_2samp switches from the exact to the asymptotic p-value above this sample size. */
export const KS_MAX_EXACT_N = 10_000;

/** Two-sided p-value of a two-sample KS statistic, as ks_2samp(method='auto'). */
export function ksPValue(d: number, n1: number, n2: number): { pValue: number; mode: 'exact' | 'asymp' } {
  if (Math.max(n1, n2) <= KS_MAX_EXACT_N) return { pValue: smirnovExactSf(d, n1, n2), mode: 'exact' };
  const [a, b] = n1 >= n2 ? [n1, n2] : [n2, n1];
  const en = (a * b) / (a + b);
  return { pValue: kolmogorovExactSf(d, Math.round(en)), mode: 'asymp' };
}

function sorted(values: ArrayLike<number>, name: string): Float64Array {
  if (values.length === 0) throw new EmptyDatasetError(name);
  return Float64Array.from(values).sort();
}

/** Two-sample Kolmogorov–Smirnov test (two-sided). */
export function ksTwoSample(
  reference: ArrayLike<number>,
  current: ArrayLike<number>,
): { statistic: number; pValue: number; mode: 'exact' | 'asymp' } {
  const a = sorted(reference, 'the reference sample');
  const b = sorted(current, 'the current sample');
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < a.length && j < b.length) {
    const x = Math.min(a[i]!, b[j]!);
    while (i < a.length && a[i] === x) i++;
    while (j < b.length && b[j] === x) j++;
    d = Math.max(d, Math.abs(i / a.length - j / b.length));
  }
  return { statistic: d, ...ksPValue(d, a.length, b.length) };
}

/** 1-Wasserstein distance between two empirical distributions (SciPy wasserstein_distance). */
export function wasserstein(reference: ArrayLike<number>, current: ArrayLike<number>): number {
  const a = sorted(reference, 'the reference sample');
  const b = sorted(current, 'the current sample');
  let i = 0;
  let j = 0;
  let prev = Math.min(a[0]!, b[0]!);
  let area = 0;
  while (i < a.length || j < b.length) {
    const x = j >= b.length || (i < a.length && a[i]! <= b[j]!) ? a[i]! : b[j]!;
    area += Math.abs(i / a.length - j / b.length) * (x - prev);
    prev = x;
    while (i < a.length && a[i] === x) i++;
    while (j < b.length && b[j] === x) j++;
  }
  return area;
}

/** Population standard deviation (NumPy's np.std, ddof 0). */
export function populationStd(values: ArrayLike<number>): number {
  let mean = 0;
  for (let i = 0; i < values.length; i++) mean += values[i]!;
  mean /= values.length;
  let ss = 0;
  for (let i = 0; i < values.length; i++) ss += (values[i]! - mean) ** 2;
  return Math.sqrt(ss / values.length);
}

/** Evidently's wasserstein_distance_norm: W1 / max(std(reference), 0.001). */
export function wassersteinNormalized(reference: ArrayLike<number>, current: ArrayLike<number>): number {
  return wasserstein(reference, current) / Math.max(populationStd(reference), 0.001);
}

export type Counts = ReadonlyMap<string, number>;

/** Union of keys, reference keys first in insertion order, then current-only keys. */
export function unionKeys(reference: Counts, current: Counts): string[] {
  const keys = [...reference.keys()];
  for (const k of current.keys()) if (!reference.has(k)) keys.push(k);
  return keys;
}

function total(c: Counts): number {
  let t = 0;
  for (const v of c.values()) t += v;
  return t;
}

/**
 * Evidently's chi-squared test: observed = current counts, expected = reference counts × n_cur/n_ref,
 * over the union of categories, df = categories − 1. A category absent from the reference gives an
 * infinite statistic and p = 0, as SciPy does. A single category in both gives p = 1 (no test possible).
 */
export function chiSquareTest(reference: Counts, current: Counts): { statistic: number; pValue: number; df: number } {
  const keys = unionKeys(reference, current);
  const nRef = total(reference);
  const nCur = total(current);
  if (nRef === 0) throw new EmptyDatasetError('the reference sample');
  if (nCur === 0) throw new EmptyDatasetError('the current sample');
  const df = keys.length - 1;
  if (df === 0) return { statistic: 0, pValue: 1, df };
  const scale = nCur / nRef;
  let stat = 0;
  for (const k of keys) {
    const expected = (reference.get(k) ?? 0) * scale;
    const observed = current.get(k) ?? 0;
    stat += expected === 0 ? (observed === 0 ? 0 : Infinity) : (observed - expected) ** 2 / expected;
  }
  return { statistic: stat, pValue: Number.isFinite(stat) ? chi2Sf(stat, df) : 0, df };
}

/**
 * Evidently's two-proportion Z-test for a binary column: the share of the first category in each
 * sample, pooled variance, two-sided normal p-value. Both samples holding the same single value: p = 1.
 */
export function zTestProportions(reference: Counts, current: Counts): { statistic: number; pValue: number } {
  const keys = unionKeys(reference, current);
  const n1 = total(reference);
  const n2 = total(current);
  if (n1 === 0) throw new EmptyDatasetError('the reference sample');
  if (n2 === 0) throw new EmptyDatasetError('the current sample');
  if (keys.length === 1) return { statistic: 0, pValue: 1 };
  const key = keys[0]!;
  const p1 = (reference.get(key) ?? 0) / n1;
  const p2 = (current.get(key) ?? 0) / n2;
  const p = (p1 * n1 + p2 * n2) / (n1 + n2);
  const z = (p1 - p2) / Math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2));
  return { statistic: z, pValue: normalTwoSided(z) };
}

/** Evidently's feel_zeroes: a zero share becomes min(non-zero)/1e6 if that minimum is <= 1e-4, else 1e-4. */
export function fillZeroes(shares: number[]): number[] {
  let min = Infinity;
  for (const s of shares) if (s !== 0 && s < min) min = s;
  if (min === Infinity) return shares;
  const fill = min <= 0.0001 ? min / 1e6 : 0.0001;
  return shares.map((s) => (s === 0 ? fill : s));
}

/** SciPy's jensenshannon(p, q) (natural log): the square root of the JS divergence of the normalised vectors. */
export function jensenShannon(p: readonly number[], q: readonly number[]): number {
  const sp = p.reduce((a, b) => a + b, 0);
  const sq = q.reduce((a, b) => a + b, 0);
  let js = 0;
  for (let i = 0; i < p.length; i++) {
    const a = p[i]! / sp;
    const b = q[i]! / sq;
    const m = (a + b) / 2;
    if (a > 0) js += a * Math.log(a / m);
    if (b > 0) js += b * Math.log(b / m);
  }
  return Math.sqrt(Math.max(0, js / 2));
}

/** Shares of each key on both sides after fillZeroes, as Evidently's get_binned_data for categories. */
export function categoricalShares(reference: Counts, current: Counts): { keys: string[]; reference: number[]; current: number[] } {
  const keys = unionKeys(reference, current);
  const n1 = total(reference);
  const n2 = total(current);
  return {
    keys,
    reference: fillZeroes(keys.map((k) => (reference.get(k) ?? 0) / n1)),
    current: fillZeroes(keys.map((k) => (current.get(k) ?? 0) / n2)),
  };
}

/** The PSI epsilon: shares below it are raised to it so an empty bin gives a large but finite term. */
export const PSI_EPSILON = 1e-4;

/** Population stability index Σ (c − r)·ln(c / r) over shares floored at 1e-4. */
export function psi(referenceShares: readonly number[], currentShares: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < referenceShares.length; i++) {
    const r = Math.max(referenceShares[i]!, PSI_EPSILON);
    const c = Math.max(currentShares[i]!, PSI_EPSILON);
    s += (c - r) * Math.log(c / r);
  }
  return s;
}

/**
 * Inner edges of the 10 PSI bins: the reference's deciles (NumPy's default linear interpolation),
 * duplicates removed (ties and constant columns give fewer bins). Bins are left-closed:
 * (−∞, e1), [e1, e2), ..., [e9, +∞).
 */
export function psiEdges(sortedReference: Float64Array, bins = 10): number[] {
  const n = sortedReference.length;
  const edges: number[] = [];
  for (let q = 1; q < bins; q++) {
    const pos = ((n - 1) * q) / bins;
    const lo = Math.floor(pos);
    const frac = pos - lo;
    const v =
      frac === 0 ? sortedReference[lo]! : sortedReference[lo]! + (sortedReference[Math.min(lo + 1, n - 1)]! - sortedReference[lo]!) * frac;
    if (edges.length === 0 || v > edges[edges.length - 1]!) edges.push(v);
  }
  return edges;
}

/** Index of the PSI bin of x: the number of edges <= x. */
export function binIndex(edges: readonly number[], x: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (edges[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** PSI of two numeric samples over the reference's decile bins. */
export function psiNumeric(reference: ArrayLike<number>, current: ArrayLike<number>): number {
  const ref = sorted(reference, 'the reference sample');
  const edges = psiEdges(ref);
  const r = new Array<number>(edges.length + 1).fill(0);
  const c = new Array<number>(edges.length + 1).fill(0);
  for (let i = 0; i < ref.length; i++) r[binIndex(edges, ref[i]!)]!++;
  for (let i = 0; i < current.length; i++) c[binIndex(edges, current[i]!)]!++;
  return psi(
    r.map((x) => x / ref.length),
    c.map((x) => x / current.length),
  );
}

/**
 * NumPy's histogram with bins='sturges' over the concatenation of both samples: the bin count
 * is ceil(ptp / (ptp / (log2(N) + 1))), bins are equal width, the last one closed.
 */
export function sturgesEdges(min: number, max: number, total: number): number[] {
  if (max === min) return [min - 0.5, min + 0.5];
  const width = (max - min) / (Math.log2(total) + 1);
  const nb = Math.max(1, Math.ceil((max - min) / width));
  // np.linspace(first, last, nb + 1)
  const step = (max - min) / nb;
  return Array.from({ length: nb + 1 }, (_, i) => (i === nb ? max : min + i * step));
}

/** np.histogram's bin index for equal-width edges (with its float corrections). */
export function equalBinIndex(edges: readonly number[], x: number): number {
  const nb = edges.length - 1;
  const first = edges[0]!;
  const last = edges[nb]!;
  if (x < first || x > last) return -1;
  let i = Math.floor((x - first) * (nb / (last - first)));
  if (i === nb) i--;
  if (x < edges[i]!) i--;
  else if (i !== nb - 1 && x >= edges[i + 1]!) i++;
  return i;
}
