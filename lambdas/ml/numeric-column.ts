/**
 * Streaming two-sample statistics of one numeric column against a fixed reference, in memory
 * bounded by the reference's distinct values — flat in the number of current rows.
 *
 * The reference's sorted distinct values form a grid. Pass 1 keeps, per grid point, the current
 * rows equal to it and, per gap between two grid points, the rows strictly inside and the sum of
 * their distances to the gap's right end. Between grid points the reference CDF is constant, so
 * the KS statistic is exact from these counts, and so is the Wasserstein integral in every gap
 * where the current CDF stays on one side of the reference CDF. The few gaps where it crosses
 * are flagged; pass 2 (`refine`) collects only their values to integrate them exactly, and builds
 * the Sturges histogram that Jensen–Shannon needs once the current min/max are known.
 */
import { binIndex, equalBinIndex, psiEdges, sturgesEdges } from './drift-tests';

/** Current values not on the reference grid whose counts we keep (enough to tell <= 5 distinct values). */
const MAX_EXTRA_DISTINCT = 64;

export class NumericReference {
  readonly n: number;
  readonly grid: Float64Array;
  /** cum[i] = reference rows <= grid[i]. */
  readonly cum: Float64Array;
  readonly std: number;
  readonly min: number;
  readonly max: number;
  readonly psiEdges: number[];
  readonly psiCounts: number[];
  /** PSI bin of each grid point, and of each open gap after it (−1 when a PSI edge falls inside the gap). */
  readonly gridBin: Int16Array;
  readonly gapBin: Int16Array;
  /** lut[k] = grid points below min + k·step: narrows locate() to a few grid points per lookup. */
  private readonly lut: Int32Array;
  private readonly lutSize: number;
  private readonly invStep: number;

  constructor(readonly sorted: Float64Array) {
    this.n = sorted.length;
    const grid: number[] = [];
    const cum: number[] = [];
    let mean = 0;
    for (let i = 0; i < sorted.length; i++) {
      const x = sorted[i]!;
      mean += x;
      if (grid.length && grid[grid.length - 1] === x) cum[cum.length - 1]!++;
      else {
        grid.push(x);
        cum.push((cum[cum.length - 1] ?? 0) + 1);
      }
    }
    mean /= this.n;
    let ss = 0;
    for (let i = 0; i < sorted.length; i++) ss += (sorted[i]! - mean) ** 2;
    this.std = Math.sqrt(ss / this.n);
    this.grid = Float64Array.from(grid);
    this.cum = Float64Array.from(cum);
    this.min = sorted[0]!;
    this.max = sorted[this.n - 1]!;
    this.psiEdges = psiEdges(sorted);
    this.psiCounts = new Array<number>(this.psiEdges.length + 1).fill(0);
    for (let i = 0; i < sorted.length; i++) this.psiCounts[binIndex(this.psiEdges, sorted[i]!)]!++;
    const g = this.grid;
    this.gridBin = Int16Array.from(g, (x) => binIndex(this.psiEdges, x));
    this.gapBin = new Int16Array(Math.max(0, g.length - 1));
    const edgeSet = new Set(this.psiEdges);
    for (let i = 0; i + 1 < g.length; i++) {
      // Edges in (g[i], g[i+1]] minus the one equal to g[i+1], if any: edges strictly inside the gap.
      const inside = this.gridBin[i + 1]! - this.gridBin[i]! - (edgeSet.has(g[i + 1]!) ? 1 : 0);
      this.gapBin[i] = inside > 0 ? -1 : this.gridBin[i]!;
    }
    this.lutSize = Math.min(1 << 16, Math.max(1, 2 * g.length));
    const step = (this.max - this.min) / this.lutSize;
    this.invStep = step > 0 ? 1 / step : 0;
    this.lut = new Int32Array(this.lutSize + 1);
    let i = 0;
    for (let k = 0; k <= this.lutSize; k++) {
      const start = this.min + k * step;
      while (i < g.length && g[i]! < start) i++;
      this.lut[k] = i;
    }
  }

  /** Index of the largest grid point <= x, or −1. */
  locate(x: number): number {
    const g = this.grid;
    const n = g.length;
    if (x < g[0]!) return -1;
    if (x >= g[n - 1]!) return n - 1;
    let k = Math.floor((x - this.min) * this.invStep);
    if (k >= this.lutSize) k = this.lutSize - 1;
    let lo = this.lut[k]!;
    let hi = this.lut[k + 1]!;
    // The table is a hint computed in floating point: widen until g[lo-1] <= x < g[hi].
    while (lo > 0 && g[lo - 1]! > x) lo--;
    while (hi < n && g[hi]! <= x) hi++;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (g[mid]! <= x) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  get distinct(): number {
    return this.grid.length;
  }

  /** Reference value counts (for columns with few distinct values, tested like categories). */
  counts(): Map<string, number> {
    const m = new Map<string, number>();
    for (let i = 0; i < this.grid.length; i++) m.set(String(this.grid[i]), this.cum[i]! - (i ? this.cum[i - 1]! : 0));
    return m;
  }
}

/**
 * A NumericCurrent's counts as plain JSON, for a window split across invocations (issue 17): each
 * batch exports its state, the reduce merges them in batch order. Counts are added exactly; the
 * distance sums (belowGap, aboveGap, inGap) are float sums added in another grouping than one pass
 * would, so they may differ from a single pass in the last bits (relative 1e-15 or so).
 */
export interface NumericCurrentState {
  n: number;
  min: number | null;
  max: number | null;
  below: number;
  belowGap: number;
  above: number;
  aboveGap: number;
  /** Sparse [index, value] pairs of eq, inCount and inGap (zeros left out). */
  eq: [number, number][];
  inCount: [number, number][];
  inGap: [number, number][];
  psiCounts: number[];
  extra: [number, number][];
  extraOverflow: boolean;
  /** Pass 2: values of the crossing gaps, and the Jensen–Shannon bin counts. */
  crossing: [number, number[]][];
  js: number[] | null;
}

const sparse = (a: Float64Array): [number, number][] => {
  const out: [number, number][] = [];
  a.forEach((v, i) => v !== 0 && out.push([i, v]));
  return out;
};

export class NumericCurrent {
  n = 0;
  min = Infinity;
  max = -Infinity;
  private below = 0;
  private belowGap = 0;
  private above = 0;
  private aboveGap = 0;
  private readonly eq: Float64Array;
  private readonly inCount: Float64Array;
  private readonly inGap: Float64Array;
  readonly psiCounts: number[];
  private readonly extra = new Map<number, number>();
  private extraOverflow = false;
  // pass 2
  private crossingValues = new Map<number, number[]>();
  /** Open intervals (grid[i], grid[i+1]) of the crossing gaps, sorted: pass 2 searches only these. */
  private crossStart = new Float64Array(0);
  private crossEnd = new Float64Array(0);
  private crossGap = new Int32Array(0);
  private jsEdges: number[] | null = null;
  private jsCurrent: number[] | null = null;

  constructor(readonly ref: NumericReference) {
    const g = ref.grid.length;
    this.eq = new Float64Array(g);
    this.inCount = new Float64Array(Math.max(0, g - 1));
    this.inGap = new Float64Array(Math.max(0, g - 1));
    this.psiCounts = new Array<number>(ref.psiEdges.length + 1).fill(0);
  }

  /** Pass 1: one finite current value. */
  push(x: number): void {
    this.n++;
    if (x < this.min) this.min = x;
    if (x > this.max) this.max = x;
    const ref = this.ref;
    const grid = ref.grid;
    const i = ref.locate(x);
    if (i >= 0 && grid[i] === x) {
      this.eq[i]!++;
      this.psiCounts[ref.gridBin[i]!]!++;
      return;
    }
    if (!this.extraOverflow) {
      const c = this.extra.get(x);
      if (c !== undefined) this.extra.set(x, c + 1);
      else if (this.extra.size < MAX_EXTRA_DISTINCT) this.extra.set(x, 1);
      else this.extraOverflow = true;
    }
    if (i < 0) {
      this.below++;
      this.belowGap += grid[0]! - x;
      this.psiCounts[0]!++;
    } else if (i === grid.length - 1) {
      this.above++;
      this.aboveGap += x - grid[i]!;
      this.psiCounts[ref.psiEdges.length]!++;
    } else {
      this.inCount[i]!++;
      this.inGap[i]! += grid[i + 1]! - x;
      const b = ref.gapBin[i]!;
      this.psiCounts[b >= 0 ? b : binIndex(ref.psiEdges, x)]!++;
    }
  }

  /** Distinct values of reference and current together (exact up to MAX_EXTRA_DISTINCT new values). */
  distinctTogether(): number {
    return this.ref.distinct + this.extra.size + (this.extraOverflow ? 1 : 0);
  }

  /** Current value counts keyed like NumericReference.counts (exact only when few distinct values). */
  counts(): Map<string, number> {
    const m = new Map<string, number>();
    this.eq.forEach((c, i) => c && m.set(String(this.ref.grid[i]), c));
    for (const [v, c] of this.extra) m.set(String(v), c);
    return m;
  }

  /** Walks the gaps; calls `visit` with each gap's reference CDF `a` and current CDF at its start and end, in rows. */
  private walk(visit: (i: number, refCum: number, curStart: number, curEnd: number) => void): void {
    let c = this.below;
    const g = this.ref.grid.length;
    for (let i = 0; i < g; i++) {
      c += this.eq[i]!;
      const end = i < g - 1 ? c + this.inCount[i]! : c;
      visit(i, this.ref.cum[i]!, c, end);
      if (i < g - 1) c = end;
    }
  }

  /** The two-sample KS statistic sup |F_ref − F_cur|, exact. */
  ksStatistic(): number {
    const nr = this.ref.n;
    const nc = this.n;
    let d = this.below / nc;
    this.walk((_, a, c0, c1) => {
      d = Math.max(d, Math.abs(a / nr - c0 / nc), Math.abs(a / nr - c1 / nc));
    });
    return d;
  }

  /** The counts of pass 1 (and of pass 2 when it ran) as plain JSON. */
  exportState(): NumericCurrentState {
    return {
      n: this.n,
      min: this.n ? this.min : null,
      max: this.n ? this.max : null,
      below: this.below,
      belowGap: this.belowGap,
      above: this.above,
      aboveGap: this.aboveGap,
      eq: sparse(this.eq),
      inCount: sparse(this.inCount),
      inGap: sparse(this.inGap),
      psiCounts: [...this.psiCounts],
      extra: [...this.extra],
      extraOverflow: this.extraOverflow,
      crossing: [...this.crossingValues].filter(([, v]) => v.length > 0),
      js: this.jsCurrent ? [...this.jsCurrent] : null,
    };
  }

  /** Pass 1: add another batch's counts (batches in stream order keep the first-seen extra values of one pass). */
  mergeState(o: NumericCurrentState): void {
    this.n += o.n;
    if (o.min !== null && o.min < this.min) this.min = o.min;
    if (o.max !== null && o.max > this.max) this.max = o.max;
    this.below += o.below;
    this.belowGap += o.belowGap;
    this.above += o.above;
    this.aboveGap += o.aboveGap;
    for (const [i, v] of o.eq) this.eq[i]! += v;
    for (const [i, v] of o.inCount) this.inCount[i]! += v;
    for (const [i, v] of o.inGap) this.inGap[i]! += v;
    o.psiCounts.forEach((c, i) => (this.psiCounts[i]! += c));
    if (o.extraOverflow) this.extraOverflow = true;
    for (const [x, c] of o.extra) {
      if (this.extraOverflow) break;
      const have = this.extra.get(x);
      if (have !== undefined) this.extra.set(x, have + c);
      else if (this.extra.size < MAX_EXTRA_DISTINCT) this.extra.set(x, c);
      else this.extraOverflow = true;
    }
  }

  /** Pass 2: add another batch's crossing-gap values and Jensen–Shannon counts (after beginRefine on the merged pass 1). */
  mergeRefineState(o: NumericCurrentState): void {
    for (const [gap, values] of o.crossing) {
      const into = this.crossingValues.get(gap)!;
      for (const v of values) into.push(v);
    }
    if (o.js && this.jsCurrent) o.js.forEach((c, i) => (this.jsCurrent![i]! += c));
  }

  /** Sets up pass 2: which gaps need their values, and the Jensen–Shannon bins if wanted. Returns whether pass 2 is needed. */
  beginRefine(opts: { wasserstein: boolean; jensenShannon: boolean }): boolean {
    const nr = this.ref.n;
    const nc = this.n;
    if (opts.wasserstein) {
      const g = this.ref.grid.length;
      const gaps: number[] = [];
      this.walk((i, a, c0, c1) => {
        // Integer comparison of c/nc against a/nr: no rounding in the decision.
        if (i < g - 1 && c0 * nr < a * nc && c1 * nr > a * nc) {
          gaps.push(i);
          this.crossingValues.set(i, []);
        }
      });
      this.crossGap = Int32Array.from(gaps);
      this.crossStart = Float64Array.from(gaps, (i) => this.ref.grid[i]!);
      this.crossEnd = Float64Array.from(gaps, (i) => this.ref.grid[i + 1]!);
    }
    if (opts.jensenShannon) {
      this.jsEdges = sturgesEdges(Math.min(this.ref.min, this.min), Math.max(this.ref.max, this.max), nr + nc);
      this.jsCurrent = new Array<number>(this.jsEdges.length - 1).fill(0);
    }
    return this.crossingValues.size > 0 || this.jsEdges !== null;
  }

  /** Pass 2: the same values again. */
  refine(x: number): void {
    if (this.jsEdges) this.jsCurrent![equalBinIndex(this.jsEdges, x)]!++;
    const starts = this.crossStart;
    if (starts.length === 0) return;
    let lo = 0;
    let hi = starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    // lo − 1 is the last gap starting strictly below x; x must also lie strictly before its end.
    const j = lo - 1;
    if (j >= 0 && x < this.crossEnd[j]!) this.crossingValues.get(this.crossGap[j]!)!.push(x);
  }

  /** Values held by pass 2 (for the memory claim). */
  get refineHeld(): number {
    let s = 0;
    for (const v of this.crossingValues.values()) s += v.length;
    return s;
  }

  /** The 1-Wasserstein distance ∫|F_ref − F_cur|, exact after pass 2. */
  wasserstein(): number {
    const nr = this.ref.n;
    const nc = this.n;
    const grid = this.ref.grid;
    let area = this.belowGap / nc + this.aboveGap / nc;
    const g = grid.length;
    this.walk((i, refCum, c0, c1) => {
      if (i === g - 1) return;
      const a = refCum / nr;
      const w = grid[i + 1]! - grid[i]!;
      if (c0 * nr >= refCum * nc) area += (c0 / nc - a) * w + this.inGap[i]! / nc;
      else if (c1 * nr <= refCum * nc) area += (a - c0 / nc) * w - this.inGap[i]! / nc;
      else {
        const values = (this.crossingValues.get(i) ?? []).sort((x, y) => x - y);
        let prev = grid[i]!;
        let c = c0;
        for (const v of values) {
          area += Math.abs(c / nc - a) * (v - prev);
          prev = v;
          c++;
        }
        area += Math.abs(c / nc - a) * (grid[i + 1]! - prev);
      }
    });
    return area;
  }

  /** Shares of the Sturges bins on both sides (after pass 2 with jensenShannon). */
  sturgesShares(): { edges: number[]; reference: number[]; current: number[] } {
    const edges = this.jsEdges!;
    const ref = new Array<number>(edges.length - 1).fill(0);
    for (let i = 0; i < this.ref.sorted.length; i++) ref[equalBinIndex(edges, this.ref.sorted[i]!)]!++;
    return { edges, reference: ref.map((c) => c / this.ref.n), current: this.jsCurrent!.map((c) => c / this.n) };
  }
}
