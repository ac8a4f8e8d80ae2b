/**
 * Data drift of captured (current) data against the training (reference) data, per column and
 * for the dataset, with Evidently's default test choice (evidently get_default_stattest):
 * reference <= 1000 non-missing rows: KS for numeric with > 5 distinct values, chi-squared for
 * more than 2 values, Z-test for binary; larger references: normalised Wasserstein for numeric with
 * > 5 distinct values, Jensen–Shannon otherwise. PSI is computed for every column beside the test.
 * A column drifts when its test OR its PSI says so. Text columns are tested through their
 * token-count and length distributions. The dataset drifts when the share of drifted features
 * reaches `datasetDriftShare` or a critical feature drifts; fewer current rows than `minSamples`
 * give the verdict `insufficient-data` and no dataset decision.
 */
import { isMissing, tokenCount } from './baseline';
import {
  categoricalShares,
  chiSquareTest,
  fillZeroes,
  jensenShannon,
  ksPValue,
  psi,
  zTestProportions,
  type Counts,
} from './drift-tests';
import { EmptyDatasetError, InvalidArgumentError, LengthMismatchError, MissingColumnError } from './errors';
import { NumericCurrent, NumericReference } from './numeric-column';
import type { ColumnDrift, ColumnValues, Columns, ConstraintViolations, DriftInput, DriftMethod, DriftOptions, DriftReport, FeatureSpec, Task } from './types';

const P_VALUE_METHODS = new Set<DriftMethod>(['ks', 'chisquare', 'ztest']);
const METHODS = new Set<DriftMethod>(['auto', 'ks', 'wasserstein', 'psi', 'chisquare', 'jensenshannon', 'ztest']);
/** Evidently: references up to this many rows get statistical tests, larger ones distances. */
export const SMALL_REFERENCE_ROWS = 1000;
export const PREDICTION_COLUMN = '__prediction__';
const MAX_TYPE_ERRORS = 20;

type Kind = ColumnDrift['kind'];
type Resolved = Required<Omit<DriftOptions, 'threshold' | 'methods'>> & { threshold: number | null; methods: { numeric: DriftMethod; categorical: DriftMethod; text: DriftMethod } };

function resolveOptions(o: DriftOptions = {}): Resolved {
  const methods = { numeric: o.methods?.numeric ?? 'auto', categorical: o.methods?.categorical ?? 'auto', text: o.methods?.text ?? 'auto' };
  for (const [type, m] of Object.entries(methods)) if (!METHODS.has(m)) throw new InvalidArgumentError(`drift.methods.${type}: unknown method "${m}"`);
  const r: Resolved = {
    methods,
    threshold: o.threshold ?? null,
    psiThreshold: o.psiThreshold ?? 0.2,
    datasetDriftShare: o.datasetDriftShare ?? 0.5,
    minSamples: o.minSamples ?? 100,
    bonferroni: o.bonferroni ?? false,
  };
  if (r.threshold !== null && !(r.threshold > 0)) throw new InvalidArgumentError(`drift.threshold must be > 0, got ${r.threshold}`);
  if (!(r.datasetDriftShare > 0 && r.datasetDriftShare <= 1)) throw new InvalidArgumentError(`drift.datasetDriftShare must be in (0, 1], got ${r.datasetDriftShare}`);
  if (!(r.psiThreshold > 0)) throw new InvalidArgumentError(`drift.psiThreshold must be > 0, got ${r.psiThreshold}`);
  if (!Number.isInteger(r.minSamples) || r.minSamples < 1) throw new InvalidArgumentError(`drift.minSamples must be a positive integer, got ${r.minSamples}`);
  return r;
}

interface ColumnPlan {
  column: string;
  feature: string;
  kind: Kind;
  numeric: boolean;
  critical: boolean;
  method: DriftMethod;
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

function columnLength(cols: Columns, name: string): number | null {
  let len: number | null = null;
  for (const [col, values] of Object.entries(cols)) {
    if (len !== null && values.length !== len) throw new LengthMismatchError({ name: `${name}.${Object.keys(cols)[0]}`, length: len }, { name: `${name}.${col}`, length: values.length });
    len = values.length;
  }
  return len;
}

function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string') {
    const x = Number(v.trim());
    return Number.isFinite(x) ? x : undefined;
  }
  return undefined;
}

const identity = (v: unknown) => v;
const textTokens = (v: unknown) => (isMissing(v) ? null : tokenCount(String(v)));
const textLength = (v: unknown) => (isMissing(v) ? null : String(v).length);

/**
 * Drift in chunks: `push(chunk)` the current data once (pass 1), then, if `needsRefine()`, push the
 * same chunks again through `refine(chunk)` (pass 2), then `report()`. Memory is bounded by the
 * reference and the number of categories, not by the current rows. detectDataDrift is the
 * one-chunk use of it.
 */
export class DriftSession {
  private readonly options: Resolved;
  private readonly plans: ColumnPlan[] = [];
  private readonly missingColumns: string[] = [];
  private extraColumns: string[] = [];
  private readonly referenceRows: number;
  private currentRows = 0;
  private refining = false;
  private refineRows = 0;
  private refineNeeded: boolean | null = null;

  constructor(reference: Columns, private readonly features: readonly FeatureSpec[], options?: DriftOptions, predictionTask?: Task) {
    this.options = resolveOptions(options);
    if (features.length === 0) throw new InvalidArgumentError('drift needs at least one feature');
    const refLen = columnLength(reference, 'reference');
    if (!refLen) throw new EmptyDatasetError('the reference data');
    this.referenceRows = refLen;
    const columns: Omit<ColumnPlan, 'refMissing' | 'refRows' | 'curMissing' | 'curRows' | 'typeErrors' | 'typeErrorCount'>[] = [];
    for (const f of features) {
      if (!(f.name in reference)) throw new MissingColumnError(f.name, 'the reference data');
      if (f.type === 'text') {
        columns.push({ column: `${f.name}#tokens`, feature: f.name, kind: 'text-tokens', numeric: true, critical: f.critical, method: this.options.methods.text, read: textTokens });
        columns.push({ column: `${f.name}#length`, feature: f.name, kind: 'text-length', numeric: true, critical: f.critical, method: this.options.methods.text, read: textLength });
      } else {
        const numeric = f.type === 'numeric';
        columns.push({ column: f.name, feature: f.name, kind: numeric ? 'numeric' : 'categorical', numeric, critical: f.critical, method: numeric ? this.options.methods.numeric : this.options.methods.categorical, read: identity });
      }
    }
    if (predictionTask) {
      if (!(PREDICTION_COLUMN in reference)) throw new MissingColumnError(PREDICTION_COLUMN, 'the reference data');
      const numeric = predictionTask === 'regression';
      columns.push({ column: PREDICTION_COLUMN, feature: PREDICTION_COLUMN, kind: 'prediction', numeric, critical: false, method: numeric ? this.options.methods.numeric : this.options.methods.categorical, read: identity });
    }
    for (const c of columns) {
      const plan: ColumnPlan = { ...c, refMissing: 0, refRows: refLen, curMissing: 0, curRows: 0, typeErrors: [], typeErrorCount: 0 };
      const values = reference[c.feature]!;
      if (c.numeric) {
        const xs: number[] = [];
        for (let i = 0; i < values.length; i++) {
          const v = c.read(values[i]);
          if (isMissing(v)) plan.refMissing++;
          else {
            const x = toNumber(v);
            if (x === undefined) throw new InvalidArgumentError(`the reference data: column "${c.column}" row ${i} is ${JSON.stringify(v)}, not a finite number`);
            xs.push(x);
          }
        }
        if (xs.length === 0) throw new EmptyDatasetError(`the reference column "${c.column}" (all values missing)`);
        plan.refNumeric = new NumericReference(Float64Array.from(xs).sort());
        plan.curNumeric = new NumericCurrent(plan.refNumeric);
      } else {
        plan.refCounts = new Map();
        plan.curCounts = new Map();
        for (let i = 0; i < values.length; i++) {
          const v = values[i];
          if (isMissing(v)) plan.refMissing++;
          else plan.refCounts.set(String(v), (plan.refCounts.get(String(v)) ?? 0) + 1);
        }
        if (plan.refCounts.size === 0) throw new EmptyDatasetError(`the reference column "${c.column}" (all values missing)`);
      }
      this.plans.push(plan);
    }
  }

  /** Pass 1: a chunk of current rows (columnar). */
  push(current: Columns): void {
    if (this.refining) throw new InvalidArgumentError('push() after refine(): pass 1 is over');
    const len = columnLength(current, 'current') ?? 0;
    const known = new Set([...this.features.map((f) => f.name), PREDICTION_COLUMN]);
    if (this.currentRows === 0) this.extraColumns = Object.keys(current).filter((c) => !known.has(c));
    for (const plan of this.plans) {
      const values = current[plan.feature];
      if (!values) {
        if (!this.missingColumns.includes(plan.feature)) this.missingColumns.push(plan.feature);
        continue;
      }
      plan.curRows += len;
      if (plan.numeric && values instanceof Float64Array && plan.read === identity) {
        // Fast path for typed columns: NaN is missing, ±Infinity a type error.
        const acc = plan.curNumeric!;
        for (let i = 0; i < len; i++) {
          const x = values[i]!;
          if (x - x === 0) acc.push(x);
          else if (Number.isNaN(x)) plan.curMissing++;
          else {
            plan.typeErrorCount++;
            if (plan.typeErrors.length < MAX_TYPE_ERRORS) plan.typeErrors.push({ column: plan.column, row: this.currentRows + i, value: String(x) });
          }
        }
      } else if (plan.numeric) {
        const acc = plan.curNumeric!;
        for (let i = 0; i < len; i++) {
          const v = plan.read(values[i]);
          if (isMissing(v)) {
            plan.curMissing++;
            continue;
          }
          const x = toNumber(v);
          if (x === undefined) {
            plan.typeErrorCount++;
            if (plan.typeErrors.length < MAX_TYPE_ERRORS) plan.typeErrors.push({ column: plan.column, row: this.currentRows + i, value: String(v) });
            continue;
          }
          acc.push(x);
        }
      } else {
        const counts = plan.curCounts!;
        for (let i = 0; i < len; i++) {
          const v = values[i];
          if (isMissing(v)) plan.curMissing++;
          else {
            const key = String(v);
            counts.set(key, (counts.get(key) ?? 0) + 1);
          }
        }
      }
    }
    this.currentRows += len;
  }

  private resolveMethod(plan: ColumnPlan): Exclude<DriftMethod, 'auto'> {
    if (plan.method !== 'auto') return plan.method;
    const small = this.nonMissingReference(plan) <= SMALL_REFERENCE_ROWS;
    const nValues = plan.numeric ? plan.curNumeric!.distinctTogether() : new Set([...plan.refCounts!.keys(), ...plan.curCounts!.keys()]).size;
    if (small) {
      if (plan.numeric && nValues > 5) return 'ks';
      return nValues > 2 ? 'chisquare' : 'ztest';
    }
    return plan.numeric && nValues > 5 ? 'wasserstein' : 'jensenshannon';
  }

  private nonMissingReference(plan: ColumnPlan): number {
    return plan.refRows - plan.refMissing;
  }

  /** Whether pass 2 is needed (Wasserstein gaps where the CDFs cross, or numeric Jensen–Shannon bins). */
  needsRefine(): boolean {
    if (this.refineNeeded !== null) return this.refineNeeded;
    let needed = false;
    for (const plan of this.plans) {
      if (!plan.numeric || plan.curNumeric!.n === 0) continue;
      const method = this.resolveMethod(plan);
      const js = method === 'jensenshannon' && plan.refNumeric!.distinct > 20;
      if (plan.curNumeric!.beginRefine({ wasserstein: method === 'wasserstein', jensenShannon: js })) needed = true;
    }
    this.refineNeeded = needed;
    return needed;
  }

  /** Pass 2: the same chunks again, in any order. */
  refine(current: Columns): void {
    if (!this.needsRefine()) return;
    this.refining = true;
    for (const plan of this.plans) {
      const values = current[plan.feature];
      if (!values || !plan.numeric) continue;
      const acc = plan.curNumeric!;
      if (values instanceof Float64Array && plan.read === identity) {
        for (let i = 0; i < values.length; i++) {
          const x = values[i]!;
          if (x - x === 0) acc.refine(x);
        }
        continue;
      }
      for (let i = 0; i < values.length; i++) {
        const x = toNumber(plan.read(values[i]));
        if (x !== undefined) acc.refine(x);
      }
    }
    this.refineRows += columnLength(current, 'current') ?? 0;
  }

  private testColumn(plan: ColumnPlan, bonferroniDivisor: number): ColumnDrift {
    const o = this.options;
    const method = this.resolveMethod(plan);
    const isTest = P_VALUE_METHODS.has(method);
    const threshold = (o.threshold ?? (method === 'psi' ? o.psiThreshold : isTest ? 0.05 : 0.1)) / (isTest && o.bonferroni ? bonferroniDivisor : 1);
    let statistic: number;
    let pValue: number | null = null;
    let psiValue: number;
    let distribution: ColumnDrift['distribution'];
    let unknownCategories: string[] | undefined;
    let currentCount: number;
    const referenceCount = this.nonMissingReference(plan);
    if (plan.numeric) {
      const ref = plan.refNumeric!;
      const cur = plan.curNumeric!;
      currentCount = cur.n;
      psiValue = psi(ref.psiCounts.map((c) => c / ref.n), cur.psiCounts.map((c) => c / cur.n));
      const e = ref.psiEdges.map((x) => fmtEdge(x));
      distribution = {
        labels: ref.psiCounts.map((_, i) => (i === 0 ? `< ${e[0] ?? '∞'}` : i === e.length ? `≥ ${e[i - 1]}` : `${e[i - 1]}–${e[i]}`)),
        reference: ref.psiCounts.map((c) => c / ref.n),
        current: cur.psiCounts.map((c) => c / cur.n),
      };
      if (method === 'ks') {
        statistic = cur.ksStatistic();
        pValue = ksPValue(statistic, ref.n, cur.n).pValue;
      } else if (method === 'wasserstein') {
        statistic = cur.wasserstein() / Math.max(ref.std, 0.001);
      } else if (method === 'psi') {
        statistic = psiValue;
      } else if (method === 'jensenshannon' && ref.distinct > 20) {
        const s = cur.sturgesShares();
        statistic = jensenShannon(fillZeroes(s.reference), fillZeroes(s.current));
      } else {
        ({ statistic, pValue } = this.countTest(method, ref.counts(), cur.counts()));
      }
    } else {
      const refCounts = plan.refCounts!;
      const curCounts = plan.curCounts!;
      currentCount = [...curCounts.values()].reduce((a, b) => a + b, 0);
      unknownCategories = [...curCounts.keys()].filter((k) => !refCounts.has(k));
      const shares = categoricalShares(refCounts, curCounts);
      psiValue = currentCount ? psi(shares.reference, shares.current) : 0;
      const rows = shares.keys.map((k, i) => ({ k, r: shares.reference[i]!, c: shares.current[i]! })).sort((a, b) => b.r - a.r || b.c - a.c);
      const shown = rows.slice(0, 20);
      distribution = {
        labels: shown.map((x) => x.k),
        reference: shown.map((x) => (refCounts.get(x.k) ?? 0) / referenceCount),
        current: shown.map((x) => (currentCount ? (curCounts.get(x.k) ?? 0) / currentCount : 0)),
      };
      if (currentCount === 0) statistic = NaN;
      else if (method === 'psi') statistic = psiValue;
      else ({ statistic, pValue } = this.countTest(method, refCounts, curCounts));
    }
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
      ...(unknownCategories ? { unknownCategories: unknownCategories.slice(0, 20) } : {}),
      distribution,
    };
  }

  private countTest(method: Exclude<DriftMethod, 'auto'>, ref: Counts, cur: Counts): { statistic: number; pValue: number | null } {
    if (method === 'chisquare' || method === 'ks') {
      // KS on a column with few distinct values is Evidently's chi-squared choice; 'ks' asked for explicitly on categories is meaningless.
      const r = chiSquareTest(ref, cur);
      return { statistic: r.statistic, pValue: r.pValue };
    }
    if (method === 'ztest') {
      const keys = new Set([...ref.keys(), ...cur.keys()]);
      if (keys.size > 2) throw new InvalidArgumentError(`the Z-test needs a binary column, this one has ${keys.size} values`);
      const r = zTestProportions(ref, cur);
      return { statistic: r.statistic, pValue: r.pValue };
    }
    if (method === 'wasserstein') {
      throw new InvalidArgumentError('Wasserstein distance needs a numeric column');
    }
    const s = categoricalShares(ref, cur);
    return { statistic: jensenShannon(s.reference, s.current), pValue: null };
  }

  /** The drift report after pass 1 (and pass 2 when needsRefine()). */
  report(): DriftReport {
    if (this.needsRefine() && this.refineRows !== this.currentRows) {
      throw new InvalidArgumentError(`refine() saw ${this.refineRows} rows but push() saw ${this.currentRows}: pass 2 must see the same rows`);
    }
    const o = this.options;
    const present = this.plans.filter((p) => !this.missingColumns.includes(p.feature));
    const tested = present.filter((p) => P_VALUE_METHODS.has(this.resolveMethod(p))).length;
    const columns = present.map((p) => this.testColumn(p, Math.max(1, tested)));
    const insufficient = this.currentRows < o.minSamples;
    const byFeature = new Map<string, boolean | null>();
    for (const c of columns) {
      if (c.kind === 'prediction') continue;
      const prev = byFeature.get(c.feature);
      byFeature.set(c.feature, prev === true || c.drifted === true ? true : prev === null || c.drifted === null ? null : false);
    }
    const decided = [...byFeature.values()].filter((d) => d !== null);
    const driftedFeatures = [...byFeature].filter(([, d]) => d === true).map(([f]) => f);
    const driftShare = decided.length ? driftedFeatures.length / this.features.length : 0;
    const driftedCritical = this.features.filter((f) => f.critical && driftedFeatures.includes(f.name)).map((f) => f.name);
    const datasetDrift = insufficient ? null : driftShare >= o.datasetDriftShare || driftedCritical.length > 0;
    const verdict = insufficient ? 'insufficient-data' : datasetDrift ? 'drift' : 'no-drift';
    const message = insufficient
      ? `${this.currentRows} current rows, fewer than the minimum of ${o.minSamples}: no drift verdict`
      : `${driftedFeatures.length} of ${this.features.length} features drifted (share ${driftShare.toFixed(2)}, dataset threshold ${o.datasetDriftShare})` +
        (driftedCritical.length ? `; critical feature(s) drifted: ${driftedCritical.join(', ')}` : '') +
        (this.missingColumns.length ? `; missing in the current data: ${this.missingColumns.join(', ')}` : '');
    return {
      verdict,
      datasetDrift,
      driftShare,
      driftedColumns: columns.filter((c) => c.drifted).map((c) => c.column),
      driftedCritical,
      referenceRows: this.referenceRows,
      currentRows: this.currentRows,
      options: o,
      columns,
      schema: { missingColumns: [...this.missingColumns], extraColumns: this.extraColumns, typeErrors: this.plans.flatMap((p) => p.typeErrors) },
      message,
    };
  }

  /** Number of type errors per column (all of them, not just the listed ones). */
  typeErrorCounts(): Record<string, number> {
    return Object.fromEntries(this.plans.filter((p) => p.typeErrorCount).map((p) => [p.column, p.typeErrorCount]));
  }
}

function fmtEdge(x: number): string {
  return Math.abs(x) >= 1000 || Number.isInteger(x) ? String(Math.round(x * 100) / 100) : x.toPrecision(3);
}

/**
 * Drift of the current data against the reference, per column and for the dataset.
 * @throws EmptyDatasetError (empty reference or a reference column with no values), MissingColumnError
 *   (a feature absent from the reference), LengthMismatchError (ragged columns), InvalidArgumentError (bad options)
 * An empty or short current window is not an error: the verdict is `insufficient-data`.
 * A feature absent from the current data is listed in `schema.missingColumns` (missing_column_check).
 */
export function detectDataDrift(input: DriftInput): DriftReport {
  const reference: Record<string, ColumnValues> = { ...input.reference };
  const current: Record<string, ColumnValues> = { ...input.current };
  if (input.predictions) {
    reference[PREDICTION_COLUMN] = input.predictions.reference;
    current[PREDICTION_COLUMN] = input.predictions.current;
  }
  const session = new DriftSession(reference, input.features, input.options, input.predictions?.task);
  session.push(current);
  if (session.needsRefine()) session.refine(current);
  return session.report();
}

/**
 * SageMaker Model Monitor `constraint_violations.json` for a drift report: baseline_drift_check per
 * drifted column, missing_column_check, extra_column_check, data_type_check (values of the wrong
 * type), completeness_check (current completeness below the reference's), categorical_values_check
 * (categories outside the training domain).
 */
export function toConstraintViolations(report: DriftReport): ConstraintViolations {
  const violations: ConstraintViolations['violations'] = [];
  for (const f of report.schema.missingColumns) violations.push({ feature_name: f, constraint_check_type: 'missing_column_check', description: `Feature "${f}" is in the baseline but not in the current data` });
  for (const f of report.schema.extraColumns) violations.push({ feature_name: f, constraint_check_type: 'extra_column_check', description: `Column "${f}" is in the current data but not in the baseline` });
  const typeErrors = new Map<string, { count: number; example: string }>();
  for (const t of report.schema.typeErrors) {
    const e = typeErrors.get(t.column);
    typeErrors.set(t.column, { count: (e?.count ?? 0) + 1, example: e?.example ?? t.value });
  }
  for (const [col, { count, example }] of typeErrors) {
    violations.push({ feature_name: col, constraint_check_type: 'data_type_check', description: `Column "${col}": ${count}${count >= MAX_TYPE_ERRORS ? '+' : ''} value(s) are not numbers, e.g. ${JSON.stringify(example)}` });
  }
  for (const c of report.columns) {
    if (c.kind === 'text-length') continue; // one completeness/drift line per text feature is enough for completeness
    if (c.currentCompleteness + 1e-12 < c.referenceCompleteness) {
      violations.push({ feature_name: c.column, constraint_check_type: 'completeness_check', description: `Completeness ${c.currentCompleteness.toFixed(4)} is below the baseline's ${c.referenceCompleteness.toFixed(4)}` });
    }
    if (c.unknownCategories?.length) {
      violations.push({ feature_name: c.column, constraint_check_type: 'categorical_values_check', description: `Values outside the baseline domain: ${c.unknownCategories.map((v) => JSON.stringify(v)).join(', ')}` });
    }
  }
  for (const c of report.columns) {
    if (!c.drifted) continue;
    const how = c.pValue !== null ? `${c.method} p-value ${c.pValue.toPrecision(4)} < ${c.threshold.toPrecision(3)}` : `${c.method} ${c.statistic.toPrecision(4)} >= ${c.threshold.toPrecision(3)}`;
    violations.push({
      feature_name: c.column,
      constraint_check_type: 'baseline_drift_check',
      description: `Drift: ${c.testDrifted ? how : `${c.method} within threshold`}; PSI ${c.psi.toFixed(4)}${c.psiDrifted ? ` >= ${report.options.psiThreshold}` : ''}`,
    });
  }
  return { violations };
}
