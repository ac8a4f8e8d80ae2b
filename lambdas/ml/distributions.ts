/**
 * Special functions behind the drift tests' p-values: log-gamma, the regularised incomplete
 * gamma (chi-squared and normal tails), the Kolmogorov limit distribution, the exact one-sample
 * Kolmogorov distribution (Marsaglia–Tsang–Wang 2003) and the exact two-sample Smirnov
 * distribution (the lattice-path recursion of R's psmirnov / SciPy's "inside" method).
 * Hand-written: no maintained npm package exposes these with SciPy's definitions.
 */

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
  -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (Lanczos, g = 7; relative error ~1e-15). */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const z = x - 1;
  let a = LANCZOS[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i]! / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Regularised upper incomplete gamma Q(a, x) = Γ(a, x)/Γ(a): series below a+1, Lentz's continued fraction above. */
export function gammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  if (!Number.isFinite(x)) return 0;
  const lnPre = a * Math.log(x) - x - logGamma(a);
  if (x < a + 1) {
    let sum = 1 / a;
    let term = sum;
    for (let n = 1; n < 10_000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-17) break;
    }
    return 1 - sum * Math.exp(lnPre);
  }
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 10_000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(lnPre) * h;
}

/** Survival function of the chi-squared distribution with `df` degrees of freedom. */
export function chi2Sf(x: number, df: number): number {
  return gammaQ(df / 2, x / 2);
}

/** Two-sided normal tail 2·(1 − Φ(|z|)) = erfc(|z|/√2) = Q(1/2, z²/2). */
export function normalTwoSided(z: number): number {
  if (Number.isNaN(z)) return NaN;
  return gammaQ(0.5, (z * z) / 2);
}

/** Survival function of the Kolmogorov limit distribution (SciPy's kstwobign.sf). */
export function kolmogorovSf(x: number): number {
  if (x <= 0) return 1;
  if (x < 1) {
    // Small x: the Jacobi-theta form of the CDF converges fast.
    const w = -(Math.PI * Math.PI) / (8 * x * x);
    let s = 0;
    for (let k = 1; k < 100; k += 2) {
      const t = Math.exp(k * k * w);
      s += t;
      if (t < 1e-18) break;
    }
    return 1 - (Math.sqrt(2 * Math.PI) / x) * s;
  }
  let s = 0;
  for (let k = 1; k < 100; k++) {
    const t = Math.exp(-2 * k * k * x * x);
    s += (k % 2 ? 1 : -1) * t;
    if (t < 1e-18) break;
  }
  return 2 * s;
}

/** Largest Durbin matrix (2k−1 square) we exponentiate; beyond it Stephens' approximation is used. */
const MAX_DURBIN_M = 201;

/**
 * P(D_n >= d) of the one-sample Kolmogorov statistic (SciPy's kstwo.sf(d, n)).
 * Marsaglia–Tsang–Wang's Durbin-matrix method, exact to ~1e-13 when the matrix is small; their
 * own tail formula when n·d² is large (p < ~1e-6); Stephens' corrected limit
 * kstwobign.sf((√n + 0.12 + 0.11/√n)·d) when the matrix would be larger than 201² (n·d > 100).
 */
export function kolmogorovExactSf(d: number, n: number): number {
  if (d <= 0) return 1;
  if (d >= 1) return 0;
  const s = d * d * n;
  if (s > 7.24 || (s > 3.76 && n > 99)) return 2 * Math.exp(-(2.000071 + 0.331 / Math.sqrt(n) + 1.409 / n) * s);
  const k = Math.floor(n * d) + 1;
  const m = 2 * k - 1;
  if (m > MAX_DURBIN_M) {
    const sn = Math.sqrt(n);
    return kolmogorovSf((sn + 0.12 + 0.11 / sn) * d);
  }
  const h = k - n * d;
  const H = new Float64Array(m * m);
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) H[i * m + j] = i - j + 1 < 0 ? 0 : 1;
  for (let i = 0; i < m; i++) {
    H[i * m] = H[i * m]! - Math.pow(h, i + 1);
    H[(m - 1) * m + i] = H[(m - 1) * m + i]! - Math.pow(h, m - i);
  }
  H[(m - 1) * m] = H[(m - 1) * m]! + (2 * h - 1 > 0 ? Math.pow(2 * h - 1, m) : 0);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < m; j++) if (i - j + 1 > 0) for (let g = 1; g <= i - j + 1; g++) H[i * m + j] = H[i * m + j]! / g;
  const { matrix: Q, exponent } = matrixPower(H, m, n);
  let v = Q[(k - 1) * m + k - 1]!;
  let e = exponent;
  for (let i = 1; i <= n; i++) {
    v = (v * i) / n;
    if (v < 1e-140) {
      v *= 1e140;
      e -= 140;
    }
  }
  const cdf = v * Math.pow(10, e);
  return Math.min(1, Math.max(0, 1 - cdf));
}

function multiply(A: Float64Array, B: Float64Array, m: number): Float64Array {
  const C = new Float64Array(m * m);
  for (let i = 0; i < m; i++)
    for (let k = 0; k < m; k++) {
      const a = A[i * m + k]!;
      if (a === 0) continue;
      for (let j = 0; j < m; j++) C[i * m + j] = C[i * m + j]! + a * B[k * m + j]!;
    }
  return C;
}

/** A^n with a decimal exponent kept aside to avoid overflow (MTW's mPower). */
function matrixPower(A: Float64Array, m: number, n: number): { matrix: Float64Array; exponent: number } {
  if (n === 1) return { matrix: A.slice(), exponent: 0 };
  const half = matrixPower(A, m, Math.floor(n / 2));
  let V = multiply(half.matrix, half.matrix, m);
  let e = 2 * half.exponent;
  if (n % 2 === 1) V = multiply(A, V, m);
  const mid = Math.floor(m / 2);
  if (V[mid * m + mid]! > 1e140) {
    for (let i = 0; i < V.length; i++) V[i] = V[i]! * 1e-140;
    e += 140;
  }
  return { matrix: V, exponent: e };
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/**
 * Exact two-sided p-value P(D >= d) of the two-sample Smirnov statistic for sample sizes n1, n2
 * (no ties assumed, as SciPy's exact mode): counts the lattice paths from (0,0) to (n1,n2) that
 * stay strictly inside |i/n1 − j/n2| < d, normalised at every step so nothing overflows.
 * O(n1·n2) time, O(min(n1,n2)) memory.
 */
export function smirnovExactSf(d: number, n1: number, n2: number): number {
  const [m, n] = n1 <= n2 ? [n1, n2] : [n2, n1];
  const g = gcd(m, n);
  const lcm = (m / g) * n;
  const h = Math.round(d * lcm);
  if (h === 0) return 1;
  // Integer arithmetic: |i·n − j·m|·(lcm/(m·n)) compared with h, i.e. |i·n − j·m| < h·g.
  const limit = h * g;
  const u = new Float64Array(n + 1);
  for (let j = 0; j <= n; j++) u[j] = j * m < limit ? 1 : 0;
  for (let i = 1; i <= m; i++) {
    const w = i / (i + n);
    u[0] = i * n < limit ? w * u[0]! : 0;
    for (let j = 1; j <= n; j++) {
      u[j] = Math.abs(i * n - j * m) < limit ? w * u[j]! + u[j - 1]! : 0;
    }
  }
  return Math.min(1, Math.max(0, 1 - u[n]!));
}
