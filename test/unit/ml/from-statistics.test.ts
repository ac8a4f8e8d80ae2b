import { describe, expect, it } from 'vitest';
import {
  InvalidArgumentError,
  MissingColumnError,
  computeBaseline,
  detectDataDrift,
  statisticsToColumns,
  type FeatureSpec,
} from '../../../lambdas/ml/index';
import { mulberry32 } from '../../../lambdas/ml/prng';

const features: FeatureSpec[] = [
  { name: 'x', type: 'numeric', critical: false },
  { name: 'c', type: 'categorical', critical: false },
  { name: 't', type: 'text', critical: false },
];

function rows(n: number, seed: number, shift = 0) {
  const rand = mulberry32(seed);
  return Array.from({ length: n }, (_, i) => ({
    x: i % 50 === 0 ? null : Math.round((rand() * 10 + shift) * 1000) / 1000,
    c: rand() < 0.3 + shift / 20 ? 'red' : 'blue',
    t: Array.from({ length: 1 + Math.floor(rand() * (4 + shift)) }, () => 'word').join(' '),
  }));
}

function columnsOf(data: ReturnType<typeof rows>) {
  return { x: data.map((r) => r.x), c: data.map((r) => r.c), t: data.map((r) => r.t) };
}

describe('Function: statisticsToColumns', () => {
  it('rebuilds the exact reference while the sketch has not compacted', () => {
    // Prepare: 1500 rows < KLL k = 2048, so every value is retained with weight 1.
    const data = rows(1500, 1);
    const { statistics } = computeBaseline(data, features);
    // Act
    const fromStats = detectDataDrift({ reference: statisticsToColumns(statistics, features), current: columnsOf(rows(600, 2)), features });
    const fromData = detectDataDrift({ reference: columnsOf(data), current: columnsOf(rows(600, 2)), features });
    // Assess: same tests, same numbers.
    expect(fromStats.columns.map((c) => [c.column, c.method, c.statistic, c.psi, c.referenceCompleteness])).toEqual(
      fromData.columns.map((c) => [c.column, c.method, c.statistic, c.psi, c.referenceCompleteness]),
    );
  });

  it('approximates a large baseline within the sketch error and still detects a shift', () => {
    const data = rows(60_000, 3);
    const { statistics } = computeBaseline(data, features);
    const reference = statisticsToColumns(statistics, features, 20_000);
    expect(reference.x!.length).toBeGreaterThan(19_000);
    expect(reference.x!.length).toBeLessThan(21_000);
    const same = detectDataDrift({ reference, current: columnsOf(rows(5000, 4)), features });
    const exact = detectDataDrift({ reference: columnsOf(data), current: columnsOf(rows(5000, 4)), features });
    expect(same.verdict).toBe('no-drift');
    expect(Math.abs(same.columns[0]!.statistic - exact.columns[0]!.statistic)).toBeLessThan(0.02);
    expect(detectDataDrift({ reference, current: columnsOf(rows(5000, 5, 2)), features }).verdict).toBe('drift');
  });

  it('names what is missing or malformed', () => {
    const { statistics } = computeBaseline(rows(100, 6), features);
    expect(() => statisticsToColumns(statistics, [{ name: 'y', type: 'numeric', critical: false }])).toThrow(MissingColumnError);
    expect(() => statisticsToColumns({ ...statistics, dataset: { item_count: 0 } }, features)).toThrow(InvalidArgumentError);
  });
});
