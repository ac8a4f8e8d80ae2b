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
import { isMissing } from './baseline';
import {
  MAX_TYPE_ERRORS,
  P_VALUE_METHODS,
  PREDICTION_COLUMN,
  identity,
  resolveMethod,
  resolveOptions,
  testColumn,
  textLength,
  textTokens,
  toNumber,
  type ColumnPlan,
  type ResolvedDriftOptions,
} from './drift-column';
import { EmptyDatasetError, InvalidArgumentError, LengthMismatchError, MissingColumnError, NonFiniteValueError } from './errors';
import { NumericCurrent, NumericReference, type NumericCurrentState } from './numeric-column';
import type { ColumnValues, Columns, DriftInput, DriftOptions, DriftReport, FeatureSpec, Task } from './types';

export { PREDICTION_COLUMN, SMALL_REFERENCE_ROWS } from './drift-column';
export { toConstraintViolations } from './violations';

function columnLength(cols: Columns, name: string): number | null {
  let len: number | null = null;
  for (const [col, values] of Object.entries(cols)) {
    if (len !== null && values.length !== len)
      throw new LengthMismatchError(
        { name: `${name}.${Object.keys(cols)[0]}`, length: len },
        { name: `${name}.${col}`, length: values.length },
      );
    len = values.length;
  }
  return len;
}

/** A column's plan before the reference is read: what to test and how, no counts yet. */
type ColumnSpec = Omit<ColumnPlan, 'refMissing' | 'refRows' | 'curMissing' | 'curRows' | 'typeErrors' | 'typeErrorCount'>;

/** The columns a text feature is tested through: its token count and its length. */
function textColumns(f: FeatureSpec, reference: Columns, methods: ResolvedDriftOptions['methods']): ColumnSpec[] {
  // A reference rebuilt from statistics.json carries the derived columns instead of the text.
  const derived = !(f.name in reference) && `${f.name}#tokens` in reference && `${f.name}#length` in reference;
  return [
    {
      column: `${f.name}#tokens`,
      feature: f.name,
      kind: 'text-tokens',
      numeric: true,
      critical: f.critical,
      method: methods.text,
      read: textTokens,
      ...(derived ? { refKey: `${f.name}#tokens` } : {}),
    },
    {
      column: `${f.name}#length`,
      feature: f.name,
      kind: 'text-length',
      numeric: true,
      critical: f.critical,
      method: methods.text,
      read: textLength,
      ...(derived ? { refKey: `${f.name}#length` } : {}),
    },
  ];
}

/** The column(s) a feature is tested through; throws when the reference lacks it. */
function featureColumns(f: FeatureSpec, reference: Columns, methods: ResolvedDriftOptions['methods']): ColumnSpec[] {
  if (!(f.name in reference) && !(f.type === 'text' && `${f.name}#tokens` in reference))
    throw new MissingColumnError(f.name, 'the reference data');
  if (f.type === 'text') return textColumns(f, reference, methods);
  const numeric = f.type === 'numeric';
  return [
    {
      column: f.name,
      feature: f.name,
      kind: numeric ? 'numeric' : 'categorical',
      numeric,
      critical: f.critical,
      method: numeric ? methods.numeric : methods.categorical,
      read: identity,
    },
  ];
}

/** The prediction column, numeric for regression and categorical otherwise. */
function predictionColumn(reference: Columns, predictionTask: Task, methods: ResolvedDriftOptions['methods']): ColumnSpec {
  if (!(PREDICTION_COLUMN in reference)) throw new MissingColumnError(PREDICTION_COLUMN, 'the reference data');
  const numeric = predictionTask === 'regression';
  return {
    column: PREDICTION_COLUMN,
    feature: PREDICTION_COLUMN,
    kind: 'prediction',
    numeric,
    critical: false,
    method: numeric ? methods.numeric : methods.categorical,
    read: identity,
  };
}

/** What planColumns reads: the reference, the features, the resolved methods and the prediction task if any. */
interface ColumnPlanning {
  reference: Columns;
  features: readonly FeatureSpec[];
  methods: ResolvedDriftOptions['methods'];
  predictionTask: Task | undefined;
}

/** Every column to test, features first and the prediction last; checks all are in the reference before any is read. */
function planColumns({ reference, features, methods, predictionTask }: ColumnPlanning): ColumnSpec[] {
  const columns = features.flatMap((f) => featureColumns(f, reference, methods));
  if (predictionTask) columns.push(predictionColumn(reference, predictionTask, methods));
  return columns;
}

/** Typed numeric reference: NaN is missing, ±Infinity an error. */
function readTypedNumericReference(plan: ColumnPlan, values: Float64Array): void {
  const xs = new Float64Array(values.length);
  let k = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    if (x - x === 0) xs[k++] = x;
    else if (Number.isNaN(x)) plan.refMissing++;
    else throw new NonFiniteValueError(`reference.${plan.column}`, i, x);
  }
  if (k === 0) throw new EmptyDatasetError(`the reference column "${plan.column}" (all values missing)`);
  plan.refNumeric = new NumericReference(xs.slice(0, k).sort());
  plan.curNumeric = new NumericCurrent(plan.refNumeric);
}

/** Numeric reference from raw cells, through `read` (text -> token count / length). */
function readNumericReference(plan: ColumnPlan, values: ColumnValues, read: (v: unknown) => unknown): void {
  const xs: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = read(values[i]);
    if (isMissing(v)) plan.refMissing++;
    else {
      const x = toNumber(v);
      if (x === undefined) throw new NonFiniteValueError(`reference.${plan.column}`, i, v);
      xs.push(x);
    }
  }
  if (xs.length === 0) throw new EmptyDatasetError(`the reference column "${plan.column}" (all values missing)`);
  plan.refNumeric = new NumericReference(Float64Array.from(xs).sort());
  plan.curNumeric = new NumericCurrent(plan.refNumeric);
}

/** Categorical reference: counts per category. */
function readCategoricalReference(plan: ColumnPlan, values: ColumnValues): void {
  plan.refCounts = new Map();
  plan.curCounts = new Map();
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (isMissing(v)) plan.refMissing++;
    else plan.refCounts.set(String(v), (plan.refCounts.get(String(v)) ?? 0) + 1);
  }
  if (plan.refCounts.size === 0) throw new EmptyDatasetError(`the reference column "${plan.column}" (all values missing)`);
}

/** A column's plan with its reference read in. */
function loadReference(c: ColumnSpec, values: ColumnValues): ColumnPlan {
  const plan: ColumnPlan = {
    ...c,
    refMissing: 0,
    refRows: values.length,
    curMissing: 0,
    curRows: 0,
    typeErrors: [],
    typeErrorCount: 0,
  };
  const read = c.refKey ? identity : c.read;
  if (c.numeric && values instanceof Float64Array && read === identity) readTypedNumericReference(plan, values);
  else if (c.numeric) readNumericReference(plan, values, read);
  else readCategoricalReference(plan, values);
  return plan;
}

/** A DriftSession's current-side counts as plain JSON: what one batch of a split window hands the reduce. */
export interface DriftSessionState {
  currentRows: number;
  refineRows: number;
  missingColumns: string[];
  extraColumns: string[];
  plans: {
    column: string;
    curMissing: number;
    curRows: number;
    typeErrors: ColumnPlan['typeErrors'];
    typeErrorCount: number;
    numeric: NumericCurrentState | null;
    counts: [string, number][] | null;
  }[];
}

/**
 * Drift in chunks: `push(chunk)` the current data once (pass 1), then, if `needsRefine()`, push the
 * same chunks again through `refine(chunk)` (pass 2), then `report()`. Memory is bounded by the
 * reference and the number of categories, not by the current rows. detectDataDrift is the
 * one-chunk use of it.
 */
export class DriftSession {
  private readonly options: ResolvedDriftOptions;
  private readonly plans: ColumnPlan[] = [];
  private readonly missingColumns: string[] = [];
  private extraColumns: string[] = [];
  private readonly referenceRows: number;
  private currentRows = 0;
  private refining = false;
  private refineRows = 0;
  private refineNeeded: boolean | null = null;

  constructor(
    reference: Columns,
    private readonly features: readonly FeatureSpec[],
    options?: DriftOptions,
    predictionTask?: Task,
  ) {
    this.options = resolveOptions(options);
    if (features.length === 0) throw new InvalidArgumentError('drift needs at least one feature');
    // Reference columns are compared one by one, never row by row, so they may differ in length
    // (statisticsToColumns rounds each column's weights on its own); current columns may not.
    const refLen = Math.max(0, ...Object.values(reference).map((v) => v.length));
    if (!refLen) throw new EmptyDatasetError('the reference data');
    this.referenceRows = refLen;
    const columns = planColumns({ reference, features, methods: this.options.methods, predictionTask });
    for (const c of columns) this.plans.push(loadReference(c, reference[c.refKey ?? c.feature]!));
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
            if (plan.typeErrors.length < MAX_TYPE_ERRORS)
              plan.typeErrors.push({ column: plan.column, row: this.currentRows + i, value: String(x) });
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
            if (plan.typeErrors.length < MAX_TYPE_ERRORS)
              plan.typeErrors.push({ column: plan.column, row: this.currentRows + i, value: String(v) });
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

  /**
   * For chunks that carry every feature's column (CaptureColumnizer, null where absent): the window's
   * missing features (no instance had them) and extra keys, known only after the last chunk. Call
   * before needsRefine() and report(); the result is then the one detectDataDrift gives the whole window.
   */
  declareColumns(columns: { missing: readonly string[]; extra: readonly string[] }): void {
    for (const m of columns.missing) if (!this.missingColumns.includes(m)) this.missingColumns.push(m);
    this.extraColumns = [...new Set([...this.extraColumns, ...columns.extra])];
  }

  /** Whether pass 2 is needed (Wasserstein gaps where the CDFs cross, or numeric Jensen–Shannon bins). */
  needsRefine(): boolean {
    if (this.refineNeeded !== null) return this.refineNeeded;
    let needed = false;
    for (const plan of this.plans) {
      if (!plan.numeric || plan.curNumeric!.n === 0) continue;
      const method = resolveMethod(plan);
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

  /** The drift report after pass 1 (and pass 2 when needsRefine()). */
  report(): DriftReport {
    if (this.needsRefine() && this.refineRows !== this.currentRows) {
      throw new InvalidArgumentError(
        `refine() saw ${this.refineRows} rows but push() saw ${this.currentRows}: pass 2 must see the same rows`,
      );
    }
    const o = this.options;
    const present = this.plans.filter((p) => !this.missingColumns.includes(p.feature));
    const tested = present.filter((p) => P_VALUE_METHODS.has(resolveMethod(p))).length;
    const columns = present.map((p) => testColumn(p, resolveMethod(p), o, Math.max(1, tested)));
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
      schema: {
        missingColumns: [...this.missingColumns],
        extraColumns: this.extraColumns,
        typeErrors: this.plans.flatMap((p) => p.typeErrors),
      },
      message,
    };
  }

  /**
   * The current side as plain JSON (the reference is not in it: every batch builds it from the same
   * training data). A split window: each batch pushes its chunks and exports; the reduce builds a
   * session on the reference and merges the batches in stream order with mergeState; if it then
   * needsRefine(), each batch builds a session from that merged state, refines its chunks and
   * exports again, and the reduce adds those with mergeRefineState. The report equals one pass's
   * but for float sums grouped otherwise (see NumericCurrentState).
   */
  exportState(): DriftSessionState {
    return {
      currentRows: this.currentRows,
      refineRows: this.refineRows,
      missingColumns: [...this.missingColumns],
      extraColumns: [...this.extraColumns],
      plans: this.plans.map((p) => ({
        column: p.column,
        curMissing: p.curMissing,
        curRows: p.curRows,
        typeErrors: p.typeErrors,
        typeErrorCount: p.typeErrorCount,
        numeric: p.curNumeric ? p.curNumeric.exportState() : null,
        counts: p.curCounts ? [...p.curCounts] : null,
      })),
    };
  }

  /** Pass 1: add a batch's state after those before it (type-error rows are renumbered as one pass numbers them). */
  mergeState(o: DriftSessionState): void {
    if (this.refining) throw new InvalidArgumentError('mergeState() after refine(): pass 1 is over');
    this.checkSamePlans(o);
    o.plans.forEach((s, k) => {
      const plan = this.plans[k]!;
      plan.curMissing += s.curMissing;
      plan.curRows += s.curRows;
      plan.typeErrorCount += s.typeErrorCount;
      for (const e of s.typeErrors)
        if (plan.typeErrors.length < MAX_TYPE_ERRORS) plan.typeErrors.push({ ...e, row: e.row + this.currentRows });
      if (s.numeric) plan.curNumeric!.mergeState(s.numeric);
      for (const [key, c] of s.counts ?? []) plan.curCounts!.set(key, (plan.curCounts!.get(key) ?? 0) + c);
    });
    for (const m of o.missingColumns) if (!this.missingColumns.includes(m)) this.missingColumns.push(m);
    this.extraColumns = [...new Set([...this.extraColumns, ...o.extraColumns])];
    this.currentRows += o.currentRows;
  }

  /** Pass 2: add a batch's refine() state (a session built from the merged pass 1 with mergeState). */
  mergeRefineState(o: DriftSessionState): void {
    if (!this.needsRefine()) return;
    this.checkSamePlans(o);
    this.refining = true;
    o.plans.forEach((s, k) => s.numeric && this.plans[k]!.curNumeric?.mergeRefineState(s.numeric));
    this.refineRows += o.refineRows;
  }

  private checkSamePlans(o: DriftSessionState): void {
    const mine = this.plans.map((p) => p.column).join(',');
    const theirs = o.plans.map((p) => p.column).join(',');
    if (mine !== theirs) throw new InvalidArgumentError(`a batch state with columns ${theirs} cannot merge into a session with ${mine}`);
  }

  /** Current values held for pass 2 (those in gaps where the CDFs cross): the only memory that grows with the current rows. */
  heldValues(): number {
    return this.plans.reduce((a, p) => a + (p.curNumeric?.refineHeld ?? 0), 0);
  }

  /** Number of type errors per column (all of them, not just the listed ones). */
  typeErrorCounts(): Record<string, number> {
    return Object.fromEntries(this.plans.filter((p) => p.typeErrorCount).map((p) => [p.column, p.typeErrorCount]));
  }
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
