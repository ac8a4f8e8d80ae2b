/**
 * Seeded pseudo-random numbers. Hand-written because the models take no npm dependencies:
 * mulberry32 is a tiny, well-studied 32-bit generator, good enough for synthetic data and
 * shuffling, and the same seed gives the same stream on every Node.js version.
 */

/** @param {number} seed any integer @returns {() => number} uniform numbers in [0, 1) */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return function next() {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Distribution helpers over one uniform source, so a caller holds a single seeded stream. */
export class Random {
  /** @param {number} seed */
  constructor(seed) {
    this.uniform = mulberry32(seed);
  }

  /** Uniform in [lo, hi). */
  between(lo, hi) {
    return lo + (hi - lo) * this.uniform();
  }

  /** Integer in [lo, hi]. */
  int(lo, hi) {
    return lo + Math.floor(this.uniform() * (hi - lo + 1));
  }

  /** Standard normal by Box-Muller (one draw per call keeps the stream simple to reason about). */
  normal(mean = 0, sd = 1) {
    const u = 1 - this.uniform();
    const v = this.uniform();
    return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** True with probability p. */
  chance(p) {
    return this.uniform() < p;
  }

  /** One of `items`, uniformly. */
  pick(items) {
    return items[Math.floor(this.uniform() * items.length)];
  }

  /**
   * One key of `weights` (an object of non-negative numbers), with probability proportional
   * to its weight.
   */
  weighted(weights) {
    const entries = Object.entries(weights);
    const total = entries.reduce((s, [, w]) => s + w, 0);
    let r = this.uniform() * total;
    for (const [key, w] of entries) {
      r -= w;
      if (r < 0) return key;
    }
    return entries[entries.length - 1][0];
  }

  /** Fisher-Yates shuffle in place; returns the array. */
  shuffle(items) {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.uniform() * (i + 1));
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }
}

/** Mix two weight tables: (1 - t) * a + t * b, key by key. */
export function blend(a, b, t) {
  const out = {};
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    out[key] = (1 - t) * (a[key] ?? 0) + t * (b[key] ?? 0);
  }
  return out;
}
