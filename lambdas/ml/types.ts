import type { DriftMethodName } from '../../lib/config/names';

/**
 * Types of the pure ML API (see index.ts). Field names of the JSON documents written to S3
 * (validation.json, statistics.json, constraints.json, constraint_violations.json) follow the
 * formats their readers expect: snake_case where SageMaker Model Monitor or the gate contract
 * say so, camelCase for our own documents.
 */
import type { FeatureSpec, MetricGate } from '../../lib/config/manifest';
import type { AbPlan, LossSpread } from './abtest';

export type { FeatureSpec, MetricGate };

export type Task = 'regression' | 'classification';

/** Metric names, the same as the manifest's `evaluation.metrics` keys (one list: lib/config/names.ts). */
export type { ClassificationMetric, RegressionMetric } from '../../lib/config/names';

/** Per-row class scores as the model server returns them: `{"billing": 0.81, ...}`. */
export type ClassScores = Readonly<Record<string, number>>;

// ---------------------------------------------------------------- evaluation

export interface EvaluateInput {
  task: Task;
  /** True labels: numbers for regression, class names (or numbers, compared as strings) for classification. */
  labels: readonly (number | string)[];
  /** Predictions aligned with labels: `value` for regression, `label` for classification. */
  predictions: readonly (number | string)[];
  /** Classification only: per-row class scores; enables log_loss and roc_auc. Rows are renormalised to sum 1. */
  scores?: readonly ClassScores[];
  /**
   * Classification only: the known classes. A label or prediction outside them throws
   * UnknownCategoryError. @default the sorted union of labels, predictions and score keys
   */
  classes?: readonly string[];
  /** Bootstrap resamples for the standard deviation of each metric; 0 gives std 0. @default 200 */
  bootstrap?: number;
  /** Seed of the deterministic PRNG (mulberry32) driving the bootstrap. @default 42 */
  seed?: number;
  /**
   * Labels the dummy (best constant) predictor is fitted on, e.g. the training labels.
   * @default the evaluation labels themselves (an in-sample, hence optimistic, dummy)
   */
  dummyLabels?: readonly (number | string)[];
}

export interface PerClassMetrics {
  precision: number;
  recall: number;
  f1: number;
  /** Number of true rows of the class. */
  support: number;
}

/** A histogram: `counts[i]` rows fall in `[edges[i], edges[i+1])` (the last bin is closed). */
export interface Histogram {
  edges: number[];
  counts: number[];
}

export interface EvaluationDetails {
  /** Classification: rows = true class, columns = predicted class, in `labels` order. */
  confusion?: { labels: string[]; matrix: number[][] };
  perClass?: Record<string, PerClassMetrics>;
  /** Regression: histogram of residuals (prediction - label). */
  residualHistogram?: Histogram;
  /** Regression: at most 500 evenly sampled (actual, predicted) points for a scatter plot. */
  predictedVsActual?: { actual: number[]; predicted: number[] };
  /** Regression: rows left out of MAPE because their label is 0. */
  mapeExcludedZeroLabels?: number;
}

export interface EvaluationResult {
  task: Task;
  /** Rows evaluated. */
  n: number;
  /** Metric name -> value. A metric that is undefined for the data (e.g. roc_auc with one class) is absent and explained in `warnings`. */
  metrics: Record<string, number>;
  /** Metric name -> bootstrap standard deviation (ddof 1); 0 when bootstrap is 0. */
  std: Record<string, number>;
  /** The same metrics of the best-constant dummy (mean predictor / majority class with the class prior as scores). */
  dummy: Record<string, number>;
  details: EvaluationDetails;
  /** Bootstrap resamples used and the seed, for reproducibility. */
  bootstrap: { resamples: number; seed: number };
  /** Why a metric is missing or degenerate (zero division, single class, zero labels in MAPE). */
  warnings: string[];
}

// ---------------------------------------------------------------- gate

export interface GateCheck {
  metric: string;
  /**
   * `present`: the metric exists and is finite; `bound`: the absolute bound; `no-regression`: against production;
   * `slice`: no significant regression against production on one slice (lambdas/ml/slices.ts).
   */
  kind: 'present' | 'bound' | 'no-regression' | 'slice';
  ok: boolean;
  value: number | null;
  /** The absolute bound (kind bound) or the least acceptable value against production (kind no-regression). */
  bound: number | null;
  /** Production's value (kind no-regression). */
  baseline: number | null;
  message: string;
}

export interface GateFailure {
  metric: string;
  value: number | null;
  bound: number | null;
  baseline: number | null;
  message: string;
}

/** The document written as `reports/<model>/<version>/validation.json`. */
export interface Validation {
  validation_ok: boolean;
  /** False for the first version (no production metrics): the no-regression checks were skipped. */
  comparedWithProduction: boolean;
  failures: GateFailure[];
  checks: GateCheck[];
  /** Human-readable notes, e.g. "no production version: no-regression comparison skipped". */
  notes: string[];
}

// ---------------------------------------------------------------- evaluation by slice (slices.ts)

/** One slicing, as the manifest's `evaluation.slices` entry. */
export interface SliceSpec {
  feature: string;
  /** Named buckets of a numeric feature: values below `below` (and at or above the previous edge); the last takes the rest. */
  buckets?: readonly { name: string; below?: number }[];
}

/** The manifest's `evaluation.sliceGate`. */
export interface SliceGateOptions {
  minRows: number;
  alpha: number;
  correction: 'holm' | 'bonferroni';
}

export interface ModelOutputs {
  predictions: readonly (number | string)[];
  scores?: readonly ClassScores[];
}

export interface SliceEvaluationInput {
  task: Task;
  specs: readonly SliceSpec[];
  /** Raw values per sliced feature, row-aligned with `labels`; null: the row is in none of that feature's slices. */
  columns: Readonly<Record<string, readonly (string | null)[]>>;
  labels: readonly (number | string)[];
  candidate: ModelOutputs;
  /** Production's outputs on the same rows; without it nothing is gated. */
  production?: ModelOutputs;
  /** The manifest's `evaluation.metrics`: the metrics and tolerances gated per slice. */
  gates: Readonly<Record<string, MetricGate>>;
  gate: SliceGateOptions;
  bootstrap: number;
  seed: number;
}

export interface SliceMetric {
  value: number;
  /** 95 % percentile bootstrap interval of the candidate's value (absent without resamples). */
  low?: number;
  high?: number;
  production?: number;
  /** candidate − production. */
  delta?: number;
  /** The delta as a fraction of production's value. */
  relativeDelta?: number;
  /** Bootstrap standard deviation of the paired delta. */
  deltaStd?: number;
  /** The tolerated worsening (the metric's gate tolerance against production's slice value). */
  allowed?: number;
  /** One-sided p-value of "worse by more than allowed" and its corrected value (gated slices only). */
  p?: number;
  adjustedP?: number;
  ok: boolean;
}

export interface SliceReport {
  /** `feature=value`, e.g. `origin_region=islands`. */
  name: string;
  feature: string;
  value: string;
  n: number;
  gated: boolean;
  ok: boolean;
  /** The largest worsening against production among the gated metrics, as a fraction (the sort key, worst first). */
  worstRelativeDelta?: number;
  metrics: Record<string, SliceMetric>;
}

export interface SliceEvaluation {
  slices: SliceReport[];
  failures: GateFailure[];
  notes: string[];
  correction: 'holm' | 'bonferroni';
  alpha: number;
  minRows: number;
  resamples: number;
  seed: number;
}

// ---------------------------------------------------------------- Model Monitor formats

export type InferredType = 'Integral' | 'Fractional' | 'String' | 'Unknown';

export interface KllBucket {
  lower_bound: number;
  upper_bound: number;
  count: number;
}

export interface NumericalFeatureStatistics {
  name: string;
  inferred_type: 'Integral' | 'Fractional';
  numerical_statistics: {
    common: { num_present: number; num_missing: number };
    mean: number;
    sum: number;
    std_dev: number;
    min: number;
    max: number;
    distribution: {
      kll: {
        buckets: KllBucket[];
        sketch: { parameters: { c: number; k: number }; data: number[][] };
      };
    };
  };
}

export interface StringFeatureStatistics {
  name: string;
  inferred_type: 'String' | 'Unknown';
  string_statistics: {
    common: { num_present: number; num_missing: number };
    distinct_count: number;
    distribution: { categorical: { buckets: { value: string; count: number }[] } };
  };
}

/** SageMaker Model Monitor `statistics.json`. */
export interface ModelMonitorStatistics {
  version: 0;
  dataset: { item_count: number };
  features: (NumericalFeatureStatistics | StringFeatureStatistics)[];
}

export interface FeatureConstraint {
  name: string;
  inferred_type: InferredType;
  /** Share of rows with a value; a current share below it is a completeness_check violation. */
  completeness: number;
  num_constraints?: { is_non_negative: boolean };
  string_constraints?: { domains: string[] };
  monitoringConfigOverrides?: Record<string, unknown>;
}

/** SageMaker Model Monitor `constraints.json`. */
export interface ModelMonitorConstraints {
  version: 0;
  features: FeatureConstraint[];
  monitoring_config: {
    evaluate_constraints: 'Enabled' | 'Disabled';
    emit_metrics: 'Enabled' | 'Disabled';
    datatype_check_threshold: number;
    domain_content_threshold: number;
    distribution_constraints: {
      perform_comparison: 'Enabled' | 'Disabled';
      comparison_threshold: number;
      comparison_method: 'Robust' | 'Simple';
      categorical_comparison_threshold: number;
      categorical_drift_method: 'LInfinity' | 'ChiSquared';
    };
  };
}

export type ConstraintCheckType =
  | 'data_type_check'
  | 'completeness_check'
  | 'baseline_drift_check'
  | 'missing_column_check'
  | 'extra_column_check'
  | 'categorical_values_check';

/** SageMaker Model Monitor `constraint_violations.json`. */
export interface ConstraintViolations {
  violations: { feature_name: string; constraint_check_type: ConstraintCheckType; description: string }[];
}

export interface BaselineOptions {
  /** KLL sketch size parameter k (accuracy ~ 1.65/k of rank). @default 2048, Model Monitor's */
  kllK?: number;
  /** Quantile buckets materialised in statistics.json. @default 10, Model Monitor's */
  buckets?: number;
  /** At most this many distinct categorical values are counted per feature; the rest is "__other__". @default 1000 */
  maxCategories?: number;
  /** Drift threshold written into constraints.json `distribution_constraints`. @default 0.1 */
  comparisonThreshold?: number;
  /**
   * A numeric value that is not a finite number: `throw` (training data must be clean) or count it
   * as missing (statistics of captured traffic, whose bad values the drift report counts). @default 'throw'
   */
  invalidNumbers?: 'throw' | 'missing';
}

// ---------------------------------------------------------------- data drift

/**
 * One column of values: numbers for numeric features (NaN, null, undefined = missing; a string that
 * is not a number is a data_type_check violation), strings for categorical and text (null, undefined
 * and '' = missing; numbers are compared as strings).
 */
export type ColumnValues = Float64Array | readonly (number | string | null | undefined)[];

/** Columnar data: feature name -> values. */
export type Columns = Readonly<Record<string, ColumnValues>>;

export type DriftMethod = DriftMethodName;

/** The manifest's `drift` section (structurally): only these fields are read. */
export interface DriftOptions {
  methods?: { numeric?: DriftMethod; categorical?: DriftMethod; text?: DriftMethod };
  /** p-value threshold of statistical tests, distance threshold otherwise. @default 0.05 for tests, 0.1 for distances */
  threshold?: number;
  /** PSI at or above which a feature drifts. @default 0.2 */
  psiThreshold?: number;
  /** Share of drifted features at or above which the dataset drifts. @default 0.5 */
  datasetDriftShare?: number;
  /** Fewer current rows than this: verdict `insufficient-data`. @default 100 */
  minSamples?: number;
  /** Divide p-value thresholds by the number of tested columns. @default false */
  bonferroni?: boolean;
}

export interface DriftInput {
  /** The training (reference) data. */
  reference: Columns;
  /** The captured (current) data of the window. */
  current: Columns;
  /** The manifest's features; `critical` ones make the dataset drift on their own. */
  features: readonly FeatureSpec[];
  options?: DriftOptions;
  /** Model outputs: regression values or predicted labels; drift of the prediction distribution is reported as the column `__prediction__`. */
  predictions?: { reference: ColumnValues; current: ColumnValues; task: Task };
}

/** One tested column: a feature, a derived text column (`<name>#tokens`, `<name>#length`) or `__prediction__`. */
export interface ColumnDrift {
  column: string;
  /** The manifest feature it comes from (`__prediction__` for the prediction). */
  feature: string;
  kind: 'numeric' | 'categorical' | 'text-tokens' | 'text-length' | 'prediction';
  /** The test actually used (auto resolved). */
  method: Exclude<DriftMethod, 'auto'>;
  /** The test's statistic: D for KS, chi2, z, normalised Wasserstein distance, JS distance or PSI. NaN (null in JSON) when the column has no current values. */
  statistic: number;
  /** p-value for ks, chisquare, ztest; null for distances. */
  pValue: number | null;
  /** The value compared with the threshold: the p-value for tests, the statistic for distances. */
  score: number;
  /** The threshold after Bonferroni correction, when applied. */
  threshold: number;
  /** Whether the method's decision was drift. */
  testDrifted: boolean;
  /** Population stability index over 10 reference-quantile bins (numeric) or categories. */
  psi: number;
  psiDrifted: boolean;
  /** testDrifted || psiDrifted; null when the column has too few non-missing current values. */
  drifted: boolean | null;
  critical: boolean;
  referenceCount: number;
  currentCount: number;
  /** Share of current rows with a value. */
  currentCompleteness: number;
  referenceCompleteness: number;
  /** Reference rows without a value (the baseline's missing share is referenceMissing / (referenceCount + referenceMissing)). */
  referenceMissing: number;
  /** Current rows without a value (null, undefined, '' or NaN). */
  currentMissing: number;
  /** Current values skipped as not a finite number (e.g. "NaN", "Infinity", "abc"): data_type_check. */
  currentInvalid: number;
  /** Categorical: current values never seen in the reference (at most 20 shown). */
  unknownCategories?: string[];
  /** For the report's chart: shares per bin/category of each side. */
  distribution: { labels: string[]; reference: number[]; current: number[] };
}

export interface DriftReport {
  verdict: 'drift' | 'no-drift' | 'insufficient-data';
  /** True/false when there is a verdict; null when insufficient data. */
  datasetDrift: boolean | null;
  /** Drifted columns / tested columns (prediction excluded from the share). */
  driftShare: number;
  driftedColumns: string[];
  /** Critical features that drifted. */
  driftedCritical: string[];
  referenceRows: number;
  currentRows: number;
  options: Required<Omit<DriftOptions, 'threshold' | 'methods'>> & {
    threshold: number | null;
    methods: { numeric: DriftMethod; categorical: DriftMethod; text: DriftMethod };
  };
  columns: ColumnDrift[];
  /** Features declared but absent from current (missing_column_check) and columns present but undeclared. */
  schema: { missingColumns: string[]; extraColumns: string[]; typeErrors: { column: string; row: number; value: string }[] };
  message: string;
}

// ---------------------------------------------------------------- concept drift

/** One data-capture line (SageMaker format), decoded. */
export interface CaptureRecord {
  eventId: string;
  /** The caller-supplied InferenceId; the join key. */
  inferenceId: string | null;
  inferenceTime: string | null;
  /** The request's instances (objects keyed by feature, or CSV rows as arrays). */
  instances: unknown[];
  /** The response's predictions: `{value}` or `{label, scores}`. */
  predictions: { value?: number; label?: string; scores?: Record<string, number> }[];
}

/** One ground-truth line (Model Monitor format). `labels` is the CSV `data` split into fields. */
export interface GroundTruthRecord {
  /** eventMetadata.eventId, which carries the capture's inferenceId. */
  eventId: string;
  labels: string[];
}

export interface ConceptDriftInput {
  task: Task;
  /** The evaluation metric compared (manifest drift.concept.metric). */
  metric: string;
  capture: readonly CaptureRecord[];
  groundTruth: readonly GroundTruthRecord[];
  /** The metric's value at evaluation time (from the registry). */
  baselineValue: number;
  /** Allowed worsening, as the gate's tolerance. @default {} (any worsening is drift) */
  tolerance?: { absolute?: number; relative?: number };
  /** Fewer joined labels than this: `insufficient-data`. @default 50 */
  minLabels?: number;
  /** @default the metric's natural direction (lower for mae, rmse, mape, log_loss; higher otherwise) */
  direction?: 'higher' | 'lower';
}

export interface ConceptDriftResult {
  verdict: 'drift' | 'no-drift' | 'insufficient-data';
  metric: string;
  /** The metric over the joined window; null when it could not be computed. */
  value: number | null;
  baseline: number;
  /** The least acceptable value (higher-is-better) or the largest (lower-is-better). */
  limit: number;
  direction: 'higher' | 'lower';
  /** Rows with both a prediction and a label. */
  joined: number;
  /** Capture records with an inferenceId but no ground truth, and without an inferenceId at all. */
  unlabeled: number;
  withoutInferenceId: number;
  /** Ground-truth records matching no capture. */
  orphanLabels: number;
  /** Records whose label count differs from the prediction count; skipped. */
  misaligned: number;
  /**
   * Present when the window had more labels than the join's budget: the share of inferenceIds (a
   * deterministic hash sample) the metric and the counts above were computed on.
   */
  labelShare?: number;
  message: string;
}

// ---------------------------------------------------------------- quality report

export interface LoadTestSummary {
  ok: boolean;
  rps: number;
  requests: number;
  errorRate: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  bounds?: { p99Ms: number; maxErrorRate: number };
}

/** The document written as `reports/<model>/<version>/quality-report.json`; rendered by renderQualityReportHtml. */
export interface QualityReport {
  model: string;
  version: string;
  task: Task;
  /** ISO 8601; passed in (the pure code reads no clock). */
  generatedAt: string;
  validation: Validation;
  evaluation: EvaluationResult;
  /** The production version's metrics, when there is one. */
  production?: { version: string; metrics: Record<string, number> };
  /** Regression: the spread of the per-request losses the A/B test (experiment.ab) is sized from. */
  lossSpread?: LossSpread;
  /**
   * With experiment.ab: the A/B test after the approval, planned here so the approver sees the
   * plan they approve and StartAbTest runs exactly it (or why there is no plan).
   */
  ab?: { plan: AbPlan | null; reason: string | null; trafficPercent: number; maxDuration: number; onTimeout: 'rollback' | 'promote' };
  /** The gates the validation was run with (for the table's bounds). */
  gates?: Record<string, MetricGate>;
  /** Drift of this version's training data against production's baseline. */
  trainingDrift?: DriftReport;
  /** Evaluation by slice, worst slice first, when the manifest declares `evaluation.slices`. */
  slices?: SliceEvaluation;
  loadTest?: LoadTestSummary;
  lineage: {
    commit: string;
    imageDigest?: string;
    /** File name -> sha256 digest, e.g. data/train.csv. */
    dataDigests?: Record<string, string>;
    trigger?: string;
    executionArn?: string;
  };
}
