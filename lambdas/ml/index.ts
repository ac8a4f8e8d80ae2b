/**
 * Pure evaluation, statistics and drift code of mlship: no I/O, no clock, no environment.
 * The EvaluateModel and CheckDrift handlers read S3, call these functions and write the results.
 *
 * Release (EvaluateModel):
 * ```ts
 * const holdout = parseCsv(holdoutText, 'data/holdout.csv');          // { header, rows: string[][] }
 * const labels = holdout.rows.map((r) => r[holdout.header.indexOf(m.label)]!);
 * // predictions/scores from the staging endpoint: regression `value`, classification `label` and `scores`
 * const evaluation = evaluateModel({ task: m.task, labels, predictions, scores, bootstrap: m.evaluation.bootstrap, seed: 42 });
 * const validation = runGate(m.evaluation.metrics, evaluation.metrics, production?.metrics);   // -> validation.json
 * const train = parseCsv(trainText, 'data/train.csv');
 * const { statistics, constraints } = computeBaseline(csvRecords(train), m.features);            // -> baseline/statistics.json, constraints.json
 * const trainingDrift = prodTrain                                                               // production's data/train.csv, if any
 *   ? detectDataDrift({ reference: toColumns(prodTrain, m.features), current: toColumns(train, m.features), features: m.features, options: m.drift })
 *   : undefined;
 * const report: QualityReport = { model, version, task: m.task, generatedAt, validation, evaluation, production, gates: m.evaluation.metrics, trainingDrift, loadTest, lineage };
 * renderQualityReportHtml(report);                                                              // -> quality-report.html (report -> quality-report.json)
 * ```
 * Drift check (CheckDrift):
 * ```ts
 * const lines = newLineTally();                                                                   // bad lines are counted and skipped
 * const capture = files.flatMap((f) => parseCaptureLines(f.text, f.key, lines));
 * const groundTruth = gtFiles.flatMap((f) => parseGroundTruthLines(f.text, f.key));
 * const report = detectDataDrift({ reference: toColumns(train, m.features), current: captureToColumns(capture, m.features), features: m.features, options: m.drift });
 * const quality = assessDataQuality({ report, capture: lines, options: m.drift.dataQuality });   // verdict 'data-quality' overrides drift
 * const violations = toConstraintViolations(report);                                            // -> constraint_violations.json
 * const concept = conceptDrift({ task: m.task, metric: m.drift.concept.metric, capture, groundTruth, baselineValue: registryMetrics[m.drift.concept.metric],
 *   tolerance: m.drift.concept.tolerance, minLabels: m.drift.concept.minLabels });
 * renderDriftReportHtml(report, { model, generatedAt, window: '7d', concept });                   // -> drift-report.html (report + concept -> drift-report.json)
 * // drifted = report.verdict === 'drift' || concept.verdict === 'drift'
 * ```
 * `m.drift` (the manifest's drift section) is accepted as DriftOptions as it is. Statistics of the
 * captured window for monitoring/.../statistics.json: `computeBaseline(rowsOfCapture, m.features).statistics`.
 * Every input problem throws a subclass of {@link MlInputError} with `name` set.
 */
export * from './types';
export {
  MlInputError,
  EmptyDatasetError,
  LengthMismatchError,
  NonFiniteValueError,
  MissingColumnError,
  UnknownCategoryError,
  InvalidArgumentError,
  ParseError,
} from './errors';

/** `evaluateModel(input: EvaluateInput): EvaluationResult` — metrics, bootstrap std and dummy baseline. */
export { evaluateModel, METRIC_DIRECTIONS } from './evaluate';
/** Metric functions on plain arrays, usable on their own (e.g. by concept drift). */
export { regressionMetrics, classificationMetrics } from './metrics';
/** `runGate(gates, candidate, production?): Validation` — the validation.json document. */
export { runGate } from './gate';
/**
 * `evaluateSlices(input): SliceEvaluation` — per-slice metrics of candidate and production on the same rows, bootstrap
 * intervals, and the per-slice gate (one-sided test beyond the tolerance, Holm or Bonferroni corrected).
 */
export { evaluateSlices } from './slices';
/** `computeBaseline(rows, features, options?): { statistics, constraints }` — one streaming pass, KLL sketches. */
export { computeBaseline, BaselineBuilder, type BaselineState } from './baseline';
/** `KllSketch` — the bounded-memory quantile sketch behind the baseline. */
export { KllSketch } from './kll';
/**
 * `detectDataDrift(input: DriftInput): DriftReport`, `toConstraintViolations(report): ConstraintViolations`.
 * `DriftSession` is the chunked form for windows too large to hold: `new DriftSession(reference, features, options)`,
 * `push(chunk)` for every chunk, then if `needsRefine()` `refine(chunk)` for the same chunks again, then `report()`.
 */
export { detectDataDrift, toConstraintViolations, DriftSession, PREDICTION_COLUMN, type DriftSessionState } from './drift';
/**
 * `statisticsToColumns(statistics, features, maxRows?)`: a drift reference rebuilt from a statistics.json
 * (KLL items by weight, categorical counts, text as `#tokens`/`#length`), for `detectDataDrift({ reference: ... })`.
 */
export { statisticsToColumns } from './from-statistics';
/** Individual drift statistics (exported for tests and the benchmark). */
export { ksTwoSample, chiSquareTest, zTestProportions, wassersteinNormalized, jensenShannon, psi } from './drift-tests';
/**
 * `parseCaptureLines(text, source?, tally?)`, `parseGroundTruthLines(text, source?, tally?)`, `captureToColumns(records, features)`.
 * With a `LineTally` (`newLineTally()`) bad lines are counted and skipped instead of thrown.
 */
export {
  parseCaptureLines,
  parseGroundTruthLines,
  parseCaptureLine,
  parseGroundTruthLine,
  captureToColumns,
  CaptureColumnizer,
  newLineTally,
  mergeLineTally,
  type LineTally,
  type SkippedLine,
} from './capture';
/** `assessDataQuality({ report, capture, groundTruth?, options? }): DataQualityReport` — skipped lines and values, missing shares, the `data-quality` verdict. */
export {
  assessDataQuality,
  DATA_QUALITY_DEFAULTS,
  type DataQualityOptions,
  type DataQualityReport,
  type FeatureQuality,
  type LineQuality,
} from './data-quality';
/** `conceptDrift(input: ConceptDriftInput): ConceptDriftResult`. */
export { conceptDrift, conceptDriftOfJoin, LabelJoin, type JoinedWindow, type LabelJoinState } from './concept';
/** `parseCsv(text, source?): { header, rows }` (RFC 4180, quoted fields) and `toColumns(rows, features, source?)`. */
export { parseCsv, csvRecords, toColumns, type ParsedCsv } from './csv';
/** Self-contained HTML pages (inline CSS and SVG, no network). */
export { renderQualityReportHtml } from './report-html';
export { renderDriftReportHtml } from './drift-html';
