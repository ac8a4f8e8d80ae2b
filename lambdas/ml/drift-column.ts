/**
 * One column's drift test: option defaults, Evidently's choice of test, and the per-column result
 * from the accumulators DriftSession fills (see drift.ts).
 */
import { isMissing, tokenCount } from './baseline';
import { categoricalShares, chiSquareTest, fillZeroes, jensenShannon, ksPValue, psi, zTestProportions, type Counts } from './drift-tests';
import { InvalidArgumentError } from './errors';
import type { NumericCurrent, NumericReference } from './numeric-column';
import type { ColumnDrift, DriftMethod, DriftOptions } from './types';
import { DRIFT_METHODS, NUMERIC_ONLY_DRIFT_METHODS } from '../../lib/config/names';

export const P_VALUE_METHODS = new Set<DriftMethod>(['ks', 'chisquare', 'ztest']);
const METHODS = new Set<DriftMethod>(DRIFT_METHODS);
/** Evidently: references up to this many rows get statistical tests, larger ones distances. */
export const SMALL_REFERENCE_ROWS = 1000;
export const PREDICTION_COLUMN = '__prediction__';
export const MAX_TYPE_ERRORS = 20;

export type Kind = ColumnDrift['kind'];
/** DriftOptions with every default applied. */
export type ResolvedDriftOptions = Required<Omit<DriftOptions, 'threshold' | 'methods'>> & {
  threshold: number | null;
  methods: { numeric: DriftMethod; categorical: DriftMethod; text: DriftMethod };
};

/** Apply the defaults and validate the options. */
export function resolveOptions(o: DriftOptions = {}): ResolvedDriftOptions {
  const methods = { numeric: o.methods?.numeric ?? 'auto', categorical: o.methods?.categorical ?? 'auto', text: o.methods?.text ?? 'auto' };
  for (const [type, m] of Object.entries(methods))
    if (!METHODS.has(m)) throw new InvalidArgumentError(`drift.methods.${type}: unknown method "${m}"`);
  if (NUMERIC_ONLY_DRIFT_METHODS.includes(methods.categorical)) {
    throw new InvalidArgumentError(
      `drift.methods.categorical: "${methods.categorical}" needs numbers; use auto, chisquare, ztest, jensenshannon or psi`,
    );
  }
  const r: ResolvedDriftOptions = {
    methods,
    threshold: o.threshold ?? null,
    psiThreshold: o.psiThreshold ?? 0.2,
    datasetDriftShare: o.datasetDriftShare ?? 0.5,
    minSamples: o.minSamples ?? 100,
    bonferroni: o.bonferroni ?? false,
  };
  if (r.threshold !== null && !(r.threshold > 0)) throw new InvalidArgumentError(`drift.threshold must be > 0, got ${r.threshold}`);
  if (!(r.datasetDriftShare > 0 && r.datasetDriftShare <= 1))
    throw new InvalidArgumentError(`drift.datasetDriftShare must be in (0, 1], got ${r.datasetDriftShare}`);
  if (!(r.psiThreshold > 0)) throw new InvalidArgumentError(`drift.psiThreshold must be > 0, got ${r.psiThreshold}`);
  if (!Number.isInteger(r.minSamples) || r.minSamples < 1)
    throw new InvalidArgumentError(`drift.minSamples must be a positive integer, got ${r.minSamples}`);
  return r;
}

/** One tested column and its accumulators. */
export interface ColumnPlan {
  column: string;
  feature: string;
  kind: Kind;
  numeric: boolean;
  critical: boolean;
  method: DriftMethod;
  /** Reference column to read when it differs from `feature` (text from statistics.json: `<name>#tokens`). */
  refKey?: string;
  /** Value extractor from the raw cell (text -> token count / length). */
  read: (v: unknown) => unknown;
  refNumeric?: NumericReference;
  curNumeric?: NumericCurrent;
  refCounts?: Map<string, number>;
  curCounts?: Map<string, number>;
  refMissing: number;
  refRows: number;
  curMissing: number;
  curRows: number;
  typeErrors: { column: string; row: number; value: string }[];
  typeErrorCount: number;
}

export function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string') {
    const x = Number(v.trim());
    return Number.isFinite(x) ? x : undefined;
  }
  return undefined;
}

export const identity = (v: unknown) => v;
export const textTokens = (v: unknown) => (isMissing(v) ? null : tokenCount(String(v)));
export const textLength = (v: unknown) => (isMissing(v) ? null : String(v).length);

/** Evidently get_default_stattest, by type, distinct values and reference size. */
export function resolveMethod(plan: ColumnPlan): Exclude<DriftMethod, 'auto'> {
  if (plan.method !== 'auto') return plan.method;
  const small = plan.refRows - plan.refMissing <= SMALL_REFERENCE_ROWS;
  const nValues = plan.numeric ? plan.curNumeric!.distinctTogether() : new Set([...plan.refCounts!.keys(), ...plan.curCounts!.keys()]).size;
  if (small) {
    if (plan.numeric && nValues > 5) return 'ks';
    return nValues > 2 ? 'chisquare' : 'ztest';
  }
  return plan.numeric && nValues > 5 ? 'wasserstein' : 'jensenshannon';
}

/** A column's test statistic, PSI and the distributions the report draws. */
interface ColumnMeasure {
  statistic: number;
  pValue: number | null;
  psiValue: number;
  distribution: ColumnDrift['distribution'];
  currentCount: number;
  unknownCategories?: string[];
}

function measureNumeric(plan: ColumnPlan, method: Exclude<DriftMethod, 'auto'>): ColumnMeasure {
  const ref = plan.refNumeric!;
  const cur = plan.curNumeric!;
  const psiValue = psi(
    ref.psiCounts.map((c) => c / ref.n),
    cur.psiCounts.map((c) => c / cur.n),
  );
  const e = ref.psiEdges.map((x) => fmtEdge(x));
  const distribution = {
    labels: ref.psiCounts.map((_, i) => (i === 0 ? `< ${e[0] ?? '∞'}` : i === e.length ? `≥ ${e[i - 1]}` : `${e[i - 1]}–${e[i]}`)),
    reference: ref.psiCounts.map((c) => c / ref.n),
    current: cur.psiCounts.map((c) => c / cur.n),
  };
  const measured = { psiValue, distribution, currentCount: cur.n };
  if (method === 'ks') {
    const statistic = cur.ksStatistic();
    return { ...measured, statistic, pValue: ksPValue(statistic, ref.n, cur.n).pValue };
  }
  if (method === 'wasserstein') return { ...measured, statistic: cur.wasserstein() / Math.max(ref.std, 0.001), pValue: null };
  if (method === 'psi') return { ...measured, statistic: psiValue, pValue: null };
  if (method === 'jensenshannon' && ref.distinct > 20) {
    const s = cur.sturgesShares();
    return { ...measured, statistic: jensenShannon(fillZeroes(s.reference), fillZeroes(s.current)), pValue: null };
  }
  return { ...measured, ...countTest(method, ref.counts(), cur.counts()) };
}

function measureCategorical(plan: ColumnPlan, method: Exclude<DriftMethod, 'auto'>, referenceCount: number): ColumnMeasure {
  const refCounts = plan.refCounts!;
  const curCounts = plan.curCounts!;
  const currentCount = [...curCounts.values()].reduce((a, b) => a + b, 0);
  const unknownCategories = [...curCounts.keys()].filter((k) => !refCounts.has(k));
  const shares = categoricalShares(refCounts, curCounts);
  const psiValue = currentCount ? psi(shares.reference, shares.current) : NaN;
  const rows = shares.keys.map((k, i) => ({ k, r: shares.reference[i]!, c: shares.current[i]! })).sort((a, b) => b.r - a.r || b.c - a.c);
  const shown = rows.slice(0, 20);
  const distribution = {
    labels: shown.map((x) => x.k),
    reference: shown.map((x) => (refCounts.get(x.k) ?? 0) / referenceCount),
    current: shown.map((x) => (currentCount ? (curCounts.get(x.k) ?? 0) / currentCount : 0)),
  };
  const measured = { psiValue, distribution, currentCount, unknownCategories };
  if (currentCount === 0) return { ...measured, statistic: NaN, pValue: null };
  if (method === 'psi') return { ...measured, statistic: psiValue, pValue: null };
  return { ...measured, ...countTest(method, refCounts, curCounts) };
}

export function testColumn(
  plan: ColumnPlan,
  method: Exclude<DriftMethod, 'auto'>,
  o: ResolvedDriftOptions,
  bonferroniDivisor: number,
): ColumnDrift {
  const isTest = P_VALUE_METHODS.has(method);
  const threshold =
    (o.threshold ?? (method === 'psi' ? o.psiThreshold : isTest ? 0.05 : 0.1)) / (isTest && o.bonferroni ? bonferroniDivisor : 1);
  const referenceCount = plan.refRows - plan.refMissing;
  const { statistic, pValue, psiValue, distribution, currentCount, unknownCategories } = !plan.numeric
    ? measureCategorical(plan, method, referenceCount)
    : plan.curNumeric!.n === 0
      ? // No current values: no statistic at all (NaN, null in JSON); drifted is null below.
        { statistic: NaN, pValue: null, psiValue: NaN, distribution: { labels: [], reference: [], current: [] }, currentCount: 0 }
      : measureNumeric(plan, method);
  const enough = currentCount >= o.minSamples;
  const score = pValue ?? statistic;
  const testDrifted = enough && (isTest ? score < threshold : score >= threshold);
  const psiDrifted = enough && psiValue >= o.psiThreshold;
  return {
    column: plan.column,
    feature: plan.feature,
    kind: plan.kind,
    method,
    statistic,
    pValue,
    score,
    threshold,
    testDrifted,
    psi: psiValue,
    psiDrifted,
    drifted: enough ? testDrifted || psiDrifted : null,
    critical: plan.critical,
    referenceCount,
    currentCount,
    currentCompleteness: plan.curRows ? currentCount / plan.curRows : 0,
    referenceCompleteness: referenceCount / plan.refRows,
    referenceMissing: plan.refMissing,
    currentMissing: plan.curMissing,
    currentInvalid: plan.typeErrorCount,
    ...(unknownCategories ? { unknownCategories: unknownCategories.slice(0, 20) } : {}),
    distribution,
  };
}

function countTest(method: Exclude<DriftMethod, 'auto'>, ref: Counts, cur: Counts): { statistic: number; pValue: number | null } {
  if (method === 'chisquare') {
    const r = chiSquareTest(ref, cur);
    return { statistic: r.statistic, pValue: r.pValue };
  }
  if (method === 'ztest') {
    const keys = new Set([...ref.keys(), ...cur.keys()]);
    if (keys.size > 2) throw new InvalidArgumentError(`the Z-test needs a binary column, this one has ${keys.size} values`);
    const r = zTestProportions(ref, cur);
    return { statistic: r.statistic, pValue: r.pValue };
  }
  const s = categoricalShares(ref, cur);
  return { statistic: jensenShannon(s.reference, s.current), pValue: null };
}

function fmtEdge(x: number): string {
  return Math.abs(x) >= 1000 || Number.isInteger(x) ? String(Math.round(x * 100) / 100) : x.toPrecision(3);
}
