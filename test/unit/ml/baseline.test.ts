import { describe, expect, it } from 'vitest';
import {
  EmptyDatasetError,
  KllSketch,
  MissingColumnError,
  NonFiniteValueError,
  computeBaseline,
  type FeatureSpec,
  type NumericalFeatureStatistics,
  type StringFeatureStatistics,
} from '../../../lambdas/ml/index';
import { ref } from './fixtures';

const f = (name: string, type: FeatureSpec['type']): FeatureSpec => ({ name, type, critical: false });

describe('Class: KllSketch', () => {
  describe('Method: quantile', () => {
    it('is exact while nothing was compacted', () => {
      const s = new KllSketch(200);
      for (const x of [5, 1, 4, 2, 3]) s.update(x);
      expect(s.quantiles([0, 0.2, 0.5, 1])).toEqual([1, 1, 3, 5]);
      expect(s.rank(3)).toBe(3);
    });

    it('keeps the rank error within 1% and memory bounded on 20,000 values (NumPy reference)', () => {
      // Prepare
      const { values, quantiles } = ref.baseline as { values: number[]; quantiles: Record<string, number> };
      const sorted = Float64Array.from(values).sort();
      const s = new KllSketch(200);
      // Act
      for (const x of values) s.update(x);
      // Assess: compare ranks, not values; KLL's guarantee is on rank. Seeded coin flips: deterministic.
      expect(s.retained).toBeLessThan(200 / (1 - 0.64) + 64);
      for (const [q, expected] of Object.entries(quantiles)) {
        const est = s.quantile(Number(q));
        const rankOf = (v: number) => sorted.findIndex((x) => x > v) / sorted.length;
        expect(Math.abs(rankOf(est) - rankOf(expected)), `q=${q}`).toBeLessThan(0.01);
      }
    });
  });
});

describe('Class: KllSketch, merged batches (issue 17)', () => {
  describe('Method: merge', () => {
    // A split drift check merges one sketch per batch. KLL's compaction flips a seeded coin, so a merged
    // sketch is not the one a single pass keeps: the test holds it to KLL's rank error instead (~1.65/k,
    // here k = 200: 1 %), and to being the same sketch every time the same batches are merged.
    const values = Array.from(
      { length: 50_000 },
      (_, i) => Math.sin(i * 12.9898) * 43758.5453 - Math.floor(Math.sin(i * 12.9898) * 43758.5453),
    );
    const merged = () => {
      const total = new KllSketch(200);
      for (let b = 0; b < 5; b++) {
        const part = new KllSketch(200);
        for (const x of values.slice(b * 10_000, (b + 1) * 10_000)) part.update(x);
        total.merge(part.exportState());
      }
      return total;
    };

    it('answers quantiles within the rank error of one pass, deterministically, with bounded memory', () => {
      // Prepare
      const single = new KllSketch(200);
      for (const x of values) single.update(x);
      const sorted = Float64Array.from(values).sort();
      const rankOf = (x: number) => sorted.findIndex((v) => v > x) / sorted.length;

      // Act
      const a = merged();
      const b = merged();

      // Assess
      expect(a.count).toBe(50_000);
      expect([a.min, a.max]).toEqual([single.min, single.max]);
      expect(a.levels()).toEqual(b.levels());
      for (const q of [0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99]) expect(Math.abs(rankOf(a.quantile(q)) - q)).toBeLessThan(0.01);
      expect(a.retained).toBeLessThan(1000);
    });
  });
});

describe('Function: computeBaseline', () => {
  it('writes Model Monitor statistics matching NumPy for a numeric column', () => {
    // Prepare
    const { values, mean, std, sum, min, max } = ref.baseline as {
      values: number[];
      mean: number;
      std: number;
      sum: number;
      min: number;
      max: number;
    };
    // Act
    const { statistics, constraints } = computeBaseline(
      values.map((x) => ({ x })),
      [f('x', 'numeric')],
    );
    // Assess
    const s = statistics.features[0] as NumericalFeatureStatistics;
    expect(statistics.dataset.item_count).toBe(values.length);
    expect(s.inferred_type).toBe('Fractional');
    const n = s.numerical_statistics;
    expect(n.common).toEqual({ num_present: values.length, num_missing: 0 });
    expect(n.mean).toBeCloseTo(mean, 9);
    expect(n.std_dev).toBeCloseTo(std, 9);
    expect(n.sum).toBeCloseTo(sum, 6);
    expect([n.min, n.max]).toEqual([min, max]);
    expect(n.distribution.kll.buckets).toHaveLength(10);
    expect(n.distribution.kll.buckets.reduce((a, b) => a + b.count, 0)).toBe(values.length);
    expect(n.distribution.kll.sketch.parameters).toEqual({ c: 0.64, k: 2048 });
    expect(constraints.features[0]).toMatchObject({
      name: 'x',
      inferred_type: 'Fractional',
      completeness: 1,
      num_constraints: { is_non_negative: true },
    });
  });

  it('counts missing values, categories, integral types and text lengths in one pass', () => {
    // Prepare: a generator, so the rows are consumed once and never held.
    function* rows() {
      for (let i = 0; i < 1000; i++)
        yield {
          n: i % 10 === 0 ? '' : String((i % 7) - 3),
          c: i % 4 === 0 ? null : ['red', 'green', 'blue'][i % 3]!,
          t: i % 2 ? 'late parcel again' : 'refund',
        };
    }
    // Act
    const { statistics, constraints } = computeBaseline(rows(), [f('n', 'numeric'), f('c', 'categorical'), f('t', 'text')]);
    // Assess
    const [n, c, tokens] = statistics.features as [NumericalFeatureStatistics, StringFeatureStatistics, NumericalFeatureStatistics];
    expect(n.inferred_type).toBe('Integral');
    expect(n.numerical_statistics.common).toEqual({ num_present: 900, num_missing: 100 });
    expect(c.string_statistics.common).toEqual({ num_present: 750, num_missing: 250 });
    expect(c.string_statistics.distinct_count).toBe(3);
    expect(c.string_statistics.distribution.categorical.buckets.reduce((a, b) => a + b.count, 0)).toBe(750);
    expect(tokens.name).toBe('t#tokens');
    expect(tokens.numerical_statistics.mean).toBe(2);
    expect(statistics.features.map((x) => x.name)).toEqual(['n', 'c', 't#tokens', 't#length']);
    expect(constraints.features.find((x) => x.name === 'c')).toMatchObject({
      completeness: 0.75,
      string_constraints: { domains: ['blue', 'green', 'red'] },
    });
    expect(constraints.features.find((x) => x.name === 'n')!.num_constraints).toEqual({ is_non_negative: false });
    expect(constraints.monitoring_config.distribution_constraints.comparison_threshold).toBe(0.1);
  });

  it('handles a constant column', () => {
    const { statistics } = computeBaseline(
      Array.from({ length: 50 }, () => ({ x: 4 })),
      [f('x', 'numeric')],
    );
    const n = (statistics.features[0] as NumericalFeatureStatistics).numerical_statistics;
    expect([n.mean, n.std_dev, n.min, n.max]).toEqual([4, 0, 4, 4]);
    expect(n.distribution.kll.buckets.reduce((a, b) => a + b.count, 0)).toBe(50);
  });

  it.each([
    ['no rows', [], EmptyDatasetError],
    ['a missing column', [{ y: 1 }], MissingColumnError],
    ['a non-number', [{ x: 1 }, { x: 'abc' }], NonFiniteValueError],
    ['Infinity', [{ x: Infinity }], NonFiniteValueError],
  ] as const)('throws a named error on %s', (_, rows, Err) => {
    expect(() => computeBaseline(rows as never, [f('x', 'numeric')])).toThrow(Err);
  });
});
