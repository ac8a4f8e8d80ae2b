/**
 * Pure evaluation, statistics and drift code of mlship: no I/O, no clock, no environment.
 * The EvaluateModel and CheckDrift handlers read S3, call these functions and write the results.
 *
 * Release (EvaluateModel):
 * ```ts
 * const { header, rows } = parseCsv(holdoutText, 'data/holdout.csv');
 * const evaluation = evaluateModel({ task, labels, predictions, scores, bootstrap: m.evaluation.bootstrap, seed: 42 });
 * const validation = runGate(m.evaluation.metrics, evaluation.metrics, production?.metrics);   // -> validation.json
 * const { statistics, constraints } = computeBaseline(trainRows, m.features);                  // -> baseline/*.json
 * const trainingDrift = detectDataDrift({ reference: prodTrainColumns, current: toColumns(trainRows, m.features), features: m.features, options: m.drift });
 * const report: QualityReport = { model, version, task, generatedAt, validation, evaluation, production, gates, trainingDrift, loadTest, lineage };
 * renderQualityReportHtml(report);                                                              // -> quality-report.html
 * ```
 * Drift check (CheckDrift):
 * ```ts
 * const capture = parseCaptureLines(jsonlText, key);  const truth = parseGroundTruthLines(gtText, key);
 * const current = captureToColumns(capture, m.features);
 * const report = detectDataDrift({ reference: toColumns(trainRows, m.features), current, features: m.features, options: m.drift });
 * const violations = toConstraintViolations(report);                                              // -> constraint_violations.json
 * const concept = conceptDrift({ task, metric: m.drift.concept.metric, capture, groundTruth: truth, baselineValue, tolerance: m.drift.concept.tolerance, minLabels: m.drift.concept.minLabels });
 * renderDriftReportHtml(report, { model, generatedAt, concept });                                  // -> drift-report.html
 * ```
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
/** `computeBaseline(rows, features, options?): { statistics, constraints }` — one streaming pass, KLL sketches. */
export { computeBaseline, BaselineBuilder } from './baseline';
/** `KllSketch` — the bounded-memory quantile sketch behind the baseline. */
export { KllSketch } from './kll';
/** `detectDataDrift(input: DriftInput): DriftReport`, `toConstraintViolations(report): ConstraintViolations`. */
export { detectDataDrift, toConstraintViolations } from './drift';
/** Individual drift statistics (exported for tests and the benchmark). */
export { ksTwoSample, chiSquareTest, zTestProportions, wassersteinNormalized, jensenShannon, psi } from './drift-tests';
/** `parseCaptureLines(text, source?)`, `parseGroundTruthLines(text, source?)`, `captureToColumns(records, features)`. */
export { parseCaptureLines, parseGroundTruthLines, captureToColumns } from './capture';
/** `conceptDrift(input: ConceptDriftInput): ConceptDriftResult`. */
export { conceptDrift } from './concept';
/** `parseCsv(text, source?): { header, rows }` (RFC 4180, quoted fields) and `toColumns(rows, features, source?)`. */
export { parseCsv, csvRecords, toColumns, type ParsedCsv } from './csv';
/** Self-contained HTML pages (inline CSS and SVG, no network). */
export { renderQualityReportHtml } from './report-html';
export { renderDriftReportHtml } from './drift-html';
