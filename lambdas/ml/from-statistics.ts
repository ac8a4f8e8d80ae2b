/**
 * A drift reference rebuilt from a Model Monitor statistics.json (our computeBaseline's output),
 * so the drift check can compare captured data with production's baseline without its training
 * data: numeric features from the KLL sketch's weighted items, categorical ones from their value
 * counts, text features as their `#tokens` / `#length` columns. Missing values come back as
 * missing, so completeness is preserved. Numbers are approximate within the sketch's rank error.
 */
import { InvalidArgumentError, MissingColumnError } from './errors';
import { mulberry32 } from './prng';
import type { ColumnValues, FeatureSpec, ModelMonitorStatistics, NumericalFeatureStatistics, StringFeatureStatistics } from './types';

/**
 * @param maxRows at most this many rows per column are materialised; larger baselines are scaled
 *   down with deterministic stochastic rounding of the weights. @default 100000
 * @throws MissingColumnError when a feature has no statistics, InvalidArgumentError on a malformed document
 */
export function statisticsToColumns(
  statistics: ModelMonitorStatistics,
  features: readonly FeatureSpec[],
  maxRows = 100_000,
): Record<string, ColumnValues> {
  const byName = new Map(statistics.features.map((f) => [f.name, f]));
  const itemCount = statistics.dataset?.item_count;
  if (!Number.isInteger(itemCount) || itemCount < 1)
    throw new InvalidArgumentError(`statistics.json: dataset.item_count must be a positive integer, got ${itemCount}`);
  const scale = Math.min(1, maxRows / itemCount);
  const rand = mulberry32(7);
  const scaled = (w: number) => {
    const x = w * scale;
    const whole = Math.floor(x);
    return whole + (rand() < x - whole ? 1 : 0);
  };
  const out: Record<string, ColumnValues> = {};
  const numeric = (name: string) => {
    const s = byName.get(name) as NumericalFeatureStatistics | undefined;
    if (!s) throw new MissingColumnError(name, 'statistics.json');
    const ns = s.numerical_statistics;
    const data = ns?.distribution?.kll?.sketch?.data;
    if (!Array.isArray(data)) throw new InvalidArgumentError(`statistics.json: feature "${name}" has no KLL sketch data`);
    const values: number[] = [];
    data.forEach((level, h) => {
      for (const v of level) for (let k = scaled(2 ** h); k > 0; k--) values.push(v);
    });
    for (let k = scaled(ns.common.num_missing); k > 0; k--) values.push(NaN);
    out[name] = Float64Array.from(values);
  };
  for (const f of features) {
    if (f.type === 'numeric') numeric(f.name);
    else if (f.type === 'text') {
      numeric(`${f.name}#tokens`);
      numeric(`${f.name}#length`);
    } else {
      const s = byName.get(f.name) as StringFeatureStatistics | undefined;
      if (!s) throw new MissingColumnError(f.name, 'statistics.json');
      const buckets = s.string_statistics?.distribution?.categorical?.buckets;
      if (!Array.isArray(buckets)) throw new InvalidArgumentError(`statistics.json: feature "${f.name}" has no categorical buckets`);
      const values: (string | null)[] = [];
      for (const b of buckets) for (let k = scaled(b.count); k > 0; k--) values.push(b.value);
      for (let k = scaled(s.string_statistics.common.num_missing); k > 0; k--) values.push(null);
      out[f.name] = values;
    }
  }
  return out;
}
