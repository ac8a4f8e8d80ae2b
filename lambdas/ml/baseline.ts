/**
 * Baseline statistics of the training data in SageMaker Model Monitor's formats
 * (statistics.json, constraints.json), computed in ONE streaming pass with bounded memory:
 * per numeric feature a running sum, Welford mean/variance, min, max and a KLL sketch; per
 * categorical feature value counts capped at `maxCategories`; per text feature the token-count and
 * length distributions (as numeric pseudo-features `<name>#tokens` and `<name>#length`).
 */
import { EmptyDatasetError, InvalidArgumentError, MissingColumnError, NonFiniteValueError } from './errors';
import { KllSketch, type KllState } from './kll';
import type {
  BaselineOptions,
  FeatureConstraint,
  FeatureSpec,
  ModelMonitorConstraints,
  ModelMonitorStatistics,
  NumericalFeatureStatistics,
  StringFeatureStatistics,
} from './types';

/** The "other" bucket of a categorical feature with more distinct values than `maxCategories`. */
export const OTHER_CATEGORY = '__other__';

/** Whitespace tokenisation shared by the baseline and drift: the token count of a text value. */
export function tokenCount(text: string): number {
  const t = text.trim();
  return t === '' ? 0 : t.split(/\s+/).length;
}

export function isMissing(v: unknown): boolean {
  return v === null || v === undefined || v === '' || (typeof v === 'number' && Number.isNaN(v));
}

/** A numeric accumulator as plain JSON (Welford's mean and m2 merge with Chan et al.'s pairwise formula). */
interface NumericState {
  present: number;
  missing: number;
  sum: number;
  mean: number;
  m2: number;
  integral: boolean;
  sketch: KllState;
}

/** A BaselineBuilder's accumulators as plain JSON, for a window split across invocations. */
export interface BaselineState {
  rows: number;
  numeric: Record<string, NumericState>;
  categorical: Record<string, { present: number; missing: number; counts: [string, number][]; overflow: number }>;
  text: Record<string, { tokens: NumericState; length: NumericState; missing: number }>;
}

class NumericAccumulator {
  present = 0;
  missing = 0;
  sum = 0;
  mean = 0;
  m2 = 0;
  integral = true;
  readonly sketch: KllSketch;
  constructor(
    readonly name: string,
    k: number,
    private readonly invalidIsMissing = false,
  ) {
    this.sketch = new KllSketch(k, 0.64, 1);
  }
  add(v: unknown, row: number): void {
    if (isMissing(v)) {
      this.missing++;
      return;
    }
    const x = typeof v === 'number' ? v : typeof v === 'string' ? Number(v.trim()) : NaN;
    if (!Number.isFinite(x)) {
      if (!this.invalidIsMissing) throw new NonFiniteValueError(this.name, row, v);
      this.missing++;
      return;
    }
    this.present++;
    this.sum += x;
    const d = x - this.mean;
    this.mean += d / this.present;
    this.m2 += d * (x - this.mean);
    if (!Number.isInteger(x)) this.integral = false;
    this.sketch.update(x);
  }
  exportState(): NumericState {
    const { present, missing, sum, mean, m2, integral } = this;
    return { present, missing, sum, mean, m2, integral, sketch: this.sketch.exportState() };
  }
  mergeState(o: NumericState): void {
    const n = this.present + o.present;
    if (o.present > 0) {
      const d = o.mean - this.mean;
      this.m2 += o.m2 + (d * d * this.present * o.present) / n;
      this.mean += (d * o.present) / n;
    }
    this.present = n;
    this.missing += o.missing;
    this.sum += o.sum;
    this.integral &&= o.integral;
    this.sketch.merge(o.sketch);
  }
  statistics(buckets: number): NumericalFeatureStatistics {
    const s = this.sketch;
    const kllBuckets = [];
    if (this.present > 0) {
      // Model Monitor materialises equal-width buckets between min and max, counts from the sketch.
      const width = (s.max - s.min) / buckets;
      let prevRank = 0;
      for (let b = 0; b < buckets; b++) {
        const lower = s.min + b * width;
        const upper = b === buckets - 1 ? s.max : s.min + (b + 1) * width;
        const rank = b === buckets - 1 ? this.present : s.rank(upper);
        kllBuckets.push({ lower_bound: lower, upper_bound: upper, count: rank - prevRank });
        prevRank = rank;
      }
    }
    return {
      name: this.name,
      inferred_type: this.integral ? 'Integral' : 'Fractional',
      numerical_statistics: {
        common: { num_present: this.present, num_missing: this.missing },
        mean: this.present ? this.mean : NaN,
        sum: this.sum,
        // Population standard deviation, as Deequ (behind Model Monitor) computes it.
        std_dev: this.present ? Math.sqrt(this.m2 / this.present) : NaN,
        min: this.present ? s.min : NaN,
        max: this.present ? s.max : NaN,
        distribution: { kll: { buckets: kllBuckets, sketch: { parameters: { c: s.c, k: s.k }, data: s.levels() } } },
      },
    };
  }
}

class CategoricalAccumulator {
  present = 0;
  missing = 0;
  readonly counts = new Map<string, number>();
  overflow = 0;
  constructor(
    readonly name: string,
    private readonly maxCategories: number,
  ) {}
  add(v: unknown): void {
    if (isMissing(v)) {
      this.missing++;
      return;
    }
    const key = String(v);
    this.present++;
    const c = this.counts.get(key);
    if (c !== undefined) this.counts.set(key, c + 1);
    else if (this.counts.size < this.maxCategories) this.counts.set(key, 1);
    else this.overflow++;
  }
  mergeState(o: BaselineState['categorical'][string]): void {
    this.present += o.present;
    this.missing += o.missing;
    this.overflow += o.overflow;
    for (const [key, c] of o.counts) {
      const have = this.counts.get(key);
      if (have !== undefined) this.counts.set(key, have + c);
      else if (this.counts.size < this.maxCategories) this.counts.set(key, c);
      else this.overflow += c;
    }
  }
  statistics(): StringFeatureStatistics {
    const buckets = [...this.counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([value, count]) => ({ value, count }));
    if (this.overflow) buckets.push({ value: OTHER_CATEGORY, count: this.overflow });
    return {
      name: this.name,
      inferred_type: this.present ? 'String' : 'Unknown',
      string_statistics: {
        common: { num_present: this.present, num_missing: this.missing },
        // With overflow this is a lower bound: values past the cap are not told apart.
        distinct_count: this.counts.size,
        distribution: { categorical: { buckets } },
      },
    };
  }
}

/** Incremental form of computeBaseline: `add(row)` per row, then `finish()`. Memory is independent of the row count. */
export class BaselineBuilder {
  private rows = 0;
  private readonly numeric = new Map<string, NumericAccumulator>();
  private readonly categorical = new Map<string, CategoricalAccumulator>();
  private readonly text = new Map<string, { tokens: NumericAccumulator; length: NumericAccumulator; missing: number }>();
  private readonly buckets: number;
  private readonly threshold: number;

  constructor(
    private readonly features: readonly FeatureSpec[],
    options: BaselineOptions = {},
  ) {
    if (features.length === 0) throw new InvalidArgumentError('computeBaseline needs at least one feature');
    const k = options.kllK ?? 2048;
    this.buckets = options.buckets ?? 10;
    this.threshold = options.comparisonThreshold ?? 0.1;
    if (!Number.isInteger(this.buckets) || this.buckets < 1)
      throw new InvalidArgumentError(`buckets must be a positive integer, got ${this.buckets}`);
    const maxCategories = options.maxCategories ?? 1000;
    const lenient = options.invalidNumbers === 'missing';
    for (const f of features) {
      if (f.type === 'numeric') this.numeric.set(f.name, new NumericAccumulator(f.name, k, lenient));
      else if (f.type === 'categorical') this.categorical.set(f.name, new CategoricalAccumulator(f.name, maxCategories));
      else
        this.text.set(f.name, {
          tokens: new NumericAccumulator(`${f.name}#tokens`, k),
          length: new NumericAccumulator(`${f.name}#length`, k),
          missing: 0,
        });
    }
  }

  /** Add one row (an object keyed by column name). */
  add(row: Readonly<Record<string, unknown>>): void {
    const r = this.rows++;
    if (r === 0) for (const f of this.features) if (!(f.name in row)) throw new MissingColumnError(f.name, 'the baseline data');
    for (const [name, acc] of this.numeric) acc.add(row[name], r);
    for (const [name, acc] of this.categorical) acc.add(row[name]);
    for (const [name, acc] of this.text) {
      const v = row[name];
      if (isMissing(v)) {
        acc.tokens.add(null, r);
        acc.length.add(null, r);
      } else {
        const s = String(v);
        acc.tokens.add(tokenCount(s), r);
        acc.length.add(s.length, r);
      }
    }
  }

  /** Rows added so far. */
  get rowCount(): number {
    return this.rows;
  }

  /**
   * The accumulators as plain JSON. Merging batches (mergeState, in stream order) gives one pass's
   * counts, sums, min and max; mean and std agree to rounding; the KLL sketches are merged sketches,
   * whose buckets agree with one pass's within the sketch's rank error.
   */
  exportState(): BaselineState {
    const map = <A, S>(m: Map<string, A>, f: (a: A) => S) => Object.fromEntries([...m].map(([k, a]) => [k, f(a)]));
    return {
      rows: this.rows,
      numeric: map(this.numeric, (a) => a.exportState()),
      categorical: map(this.categorical, (a) => ({ present: a.present, missing: a.missing, counts: [...a.counts], overflow: a.overflow })),
      text: map(this.text, (a) => ({ tokens: a.tokens.exportState(), length: a.length.exportState(), missing: a.missing })),
    };
  }

  mergeState(o: BaselineState): void {
    this.rows += o.rows;
    for (const [name, acc] of this.numeric) if (o.numeric[name]) acc.mergeState(o.numeric[name]);
    for (const [name, acc] of this.categorical) if (o.categorical[name]) acc.mergeState(o.categorical[name]);
    for (const [name, acc] of this.text) {
      const t = o.text[name];
      if (!t) continue;
      acc.tokens.mergeState(t.tokens);
      acc.length.mergeState(t.length);
      acc.missing += t.missing;
    }
  }

  finish(): { statistics: ModelMonitorStatistics; constraints: ModelMonitorConstraints } {
    if (this.rows === 0) throw new EmptyDatasetError('the baseline data');
    const stats: ModelMonitorStatistics['features'] = [];
    const cons: FeatureConstraint[] = [];
    const completeness = (present: number) => present / this.rows;
    for (const f of this.features) {
      if (f.type === 'numeric') {
        const acc = this.numeric.get(f.name)!;
        const s = acc.statistics(this.buckets);
        stats.push(s);
        cons.push({
          name: f.name,
          inferred_type: acc.present ? s.inferred_type : 'Unknown',
          completeness: completeness(acc.present),
          num_constraints: { is_non_negative: acc.present > 0 && s.numerical_statistics.min >= 0 },
        });
      } else if (f.type === 'categorical') {
        const acc = this.categorical.get(f.name)!;
        const s = acc.statistics();
        stats.push(s);
        const c: FeatureConstraint = { name: f.name, inferred_type: s.inferred_type, completeness: completeness(acc.present) };
        // A domain is only meaningful when every distinct value was kept.
        if (!acc.overflow) c.string_constraints = { domains: [...acc.counts.keys()].sort() };
        cons.push(c);
      } else {
        const acc = this.text.get(f.name)!;
        stats.push(acc.tokens.statistics(this.buckets), acc.length.statistics(this.buckets));
        cons.push({
          name: f.name,
          inferred_type: acc.tokens.present ? 'String' : 'Unknown',
          completeness: completeness(acc.tokens.present),
        });
      }
    }
    return {
      statistics: { version: 0, dataset: { item_count: this.rows }, features: stats },
      constraints: {
        version: 0,
        features: cons,
        monitoring_config: {
          evaluate_constraints: 'Enabled',
          emit_metrics: 'Enabled',
          // Model Monitor's documented defaults.
          datatype_check_threshold: 0.1,
          domain_content_threshold: 0.1,
          distribution_constraints: {
            perform_comparison: 'Enabled',
            comparison_threshold: this.threshold,
            comparison_method: 'Robust',
            categorical_comparison_threshold: this.threshold,
            categorical_drift_method: 'LInfinity',
          },
        },
      },
    };
  }
}

/**
 * Baseline statistics and constraints of the training data in one pass.
 * @param rows rows keyed by column name (e.g. `csvRecords(parseCsv(text))`); consumed once
 * @throws EmptyDatasetError, MissingColumnError (checked on the first row), NonFiniteValueError (a numeric value that is not a finite number, unless `invalidNumbers: 'missing'`)
 */
export function computeBaseline(
  rows: Iterable<Readonly<Record<string, unknown>>>,
  features: readonly FeatureSpec[],
  options?: BaselineOptions,
) {
  const builder = new BaselineBuilder(features, options);
  for (const row of rows) builder.add(row);
  return builder.finish();
}
