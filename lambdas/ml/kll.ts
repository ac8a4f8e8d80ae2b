/**
 * KLL quantile sketch (Karnin, Lang, Liberty 2016) with lazy compaction, the sketch SageMaker
 * Model Monitor writes into statistics.json. Hand-written: the npm ports of DataSketches are
 * either unmaintained or WebAssembly builds, and the algorithm is short.
 *
 * Level h holds items of weight 2^h. Level h's capacity is max(2, ceil(k * c^(H-1-h))) for H
 * levels, so the top level holds ~k items and the total stays ~k/(1-c), whatever the stream length.
 * When the sketch is over its total capacity, the lowest full level is sorted and every other
 * item (random offset) moves up a level with double weight. Rank error is about 1.65/k with
 * high probability. The coin flips use a seeded PRNG, so a baseline is reproducible.
 */
import { InvalidArgumentError } from './errors';
import { mulberry32 } from './prng';

/** A KLL sketch as plain JSON: count, extremes and the compactor levels. */
export interface KllState {
  n: number;
  min: number | null;
  max: number | null;
  levels: number[][];
}

export class KllSketch {
  /** compactors[h] holds items of weight 2^h. */
  private readonly compactors: number[][] = [[]];
  private size = 0;
  private n = 0;
  private minValue = Infinity;
  private maxValue = -Infinity;
  private readonly random: () => number;
  /** Total capacity of the current levels; changes only when a level is added. */
  private limit: number;

  constructor(
    readonly k = 2048,
    readonly c = 0.64,
    seed = 1,
  ) {
    if (!Number.isInteger(k) || k < 8) throw new InvalidArgumentError(`KLL k must be an integer >= 8, got ${k}`);
    if (!(c > 0.5 && c < 1)) throw new InvalidArgumentError(`KLL c must be in (0.5, 1), got ${c}`);
    this.random = mulberry32(seed);
    this.limit = this.maxSize();
  }

  /** Number of values seen. */
  get count(): number {
    return this.n;
  }
  get min(): number {
    return this.minValue;
  }
  get max(): number {
    return this.maxValue;
  }
  /** Number of items retained (bounded by ~k/(1-c) + levels). */
  get retained(): number {
    return this.size;
  }

  private capacity(h: number): number {
    const depth = this.compactors.length - 1 - h;
    return Math.max(2, Math.ceil(this.k * Math.pow(this.c, depth)));
  }

  private maxSize(): number {
    let s = 0;
    for (let h = 0; h < this.compactors.length; h++) s += this.capacity(h);
    return s;
  }

  update(x: number): void {
    if (!Number.isFinite(x)) throw new InvalidArgumentError(`KLL sketch values must be finite, got ${x}`);
    this.n++;
    if (x < this.minValue) this.minValue = x;
    if (x > this.maxValue) this.maxValue = x;
    this.compactors[0]!.push(x);
    this.size++;
    if (this.size >= this.limit) this.compress();
  }

  private compress(): void {
    for (let h = 0; h < this.compactors.length; h++) {
      const level = this.compactors[h]!;
      if (level.length < this.capacity(h)) continue;
      if (h + 1 === this.compactors.length) {
        this.compactors.push([]);
        this.limit = this.maxSize();
      }
      level.sort((a, b) => a - b);
      // An odd item stays behind so the total weight is preserved exactly.
      const keep = level.length % 2 === 1 ? level.pop() : undefined;
      const offset = this.random() < 0.5 ? 0 : 1;
      const up = this.compactors[h + 1]!;
      for (let i = offset; i < level.length; i += 2) up.push(level[i]!);
      // L items leave this level, L/2 arrive one level up.
      this.size -= level.length / 2;
      level.length = 0;
      if (keep !== undefined) level.push(keep);
      if (this.size < this.limit) return;
    }
  }

  /** Retained items with their weights, sorted by value. */
  private weighted(): { values: Float64Array; cumulative: Float64Array } {
    const items: [number, number][] = [];
    this.compactors.forEach((level, h) => {
      const w = 2 ** h;
      for (const v of level) items.push([v, w]);
    });
    items.sort((a, b) => a[0] - b[0]);
    const values = new Float64Array(items.length);
    const cumulative = new Float64Array(items.length);
    let acc = 0;
    items.forEach(([v, w], i) => {
      values[i] = v;
      acc += w;
      cumulative[i] = acc;
    });
    return { values, cumulative };
  }

  /** Estimated q-quantile (q in [0, 1]): the smallest retained value whose cumulative weight reaches q·n. */
  quantile(q: number): number {
    return this.quantiles([q])[0]!;
  }

  quantiles(qs: readonly number[]): number[] {
    if (this.n === 0) return qs.map(() => NaN);
    const { values, cumulative } = this.weighted();
    const total = cumulative[cumulative.length - 1]!;
    return qs.map((q) => {
      if (q <= 0) return this.minValue;
      if (q >= 1) return this.maxValue;
      const target = q * total;
      let lo = 0;
      let hi = values.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cumulative[mid]! >= target) hi = mid;
        else lo = mid + 1;
      }
      return values[lo]!;
    });
  }

  /** Estimated number of values <= x. */
  rank(x: number): number {
    let r = 0;
    this.compactors.forEach((level, h) => {
      for (const v of level) if (v <= x) r += 2 ** h;
    });
    return r;
  }

  /** The sketch as plain JSON, for merging a split window's batches. */
  exportState(): KllState {
    return { n: this.n, min: this.n ? this.minValue : null, max: this.n ? this.maxValue : null, levels: this.levels() };
  }

  /**
   * Add another sketch's items (standard KLL merge: level h onto level h, then compaction until
   * under capacity). Deterministic for a given order of merges (this sketch's seeded coin), but not
   * the sketch one pass over the same values would keep: quantiles agree within the rank error (~1.65/k).
   */
  merge(o: KllState): void {
    if (o.n === 0) return;
    this.n += o.n;
    if (o.min! < this.minValue) this.minValue = o.min!;
    if (o.max! > this.maxValue) this.maxValue = o.max!;
    o.levels.forEach((items, h) => {
      while (this.compactors.length <= h) this.compactors.push([]);
      const level = this.compactors[h]!;
      for (const v of items) level.push(v);
      this.size += items.length;
    });
    this.limit = this.maxSize();
    while (this.size >= this.limit) this.compress();
  }

  /** The compactor levels, as statistics.json's `sketch.data`. */
  levels(): number[][] {
    return this.compactors.map((l) => [...l]);
  }
}
