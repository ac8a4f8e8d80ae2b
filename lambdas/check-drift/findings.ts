/**
 * What one drift check found, from the scanned window: data drift, data quality and concept drift,
 * the verdict they add up to, the Model Monitor-format reports under `monitoring/<model>/<run>/`,
 * and the result the workflow carries on. Shared by the single pass and the reduce of a split window.
 */
import {
  assessDataQuality,
  conceptDriftOfJoin,
  parseCsv,
  renderDriftReportHtml,
  toColumns,
  toConstraintViolations,
  type ConceptDriftResult,
  type DataQualityReport,
  type DriftReport,
  type JoinedWindow,
  type ModelMonitorStatistics,
} from '../ml';
import { bundleFileUri } from '../shared/bundle';
import { SourceNotFoundError } from '../shared/errors';
import { keys, parseS3Uri, s3Uri } from '../shared/names';
import type { readProductionVersion } from '../shared/registry';
import { getText, putBody, putJson } from '../shared/s3json';
import type { CheckDriftDeps, CheckDriftInput, CheckDriftResult, DataQualitySummary, Verdict } from './result';
import type { ScannedWindow } from './scan';

function describe(data: DriftReport, concept: ConceptDriftResult | undefined, quality: DataQualityReport): string {
  const parts = quality.verdict === 'data-quality' ? [quality.message, data.message] : [data.message];
  if (concept) parts.push(concept.message);
  if (
    quality.verdict !== 'data-quality' &&
    (quality.capture.skipped || quality.groundTruth.skipped || quality.features.some((f) => f.skipped))
  )
    parts.push(quality.message);
  return parts.join(' ');
}

function summarize(q: DataQualityReport): DataQualitySummary {
  return {
    verdict: q.verdict,
    captureLines: q.capture.total,
    skippedLines: q.capture.skipped,
    skippedLineShare: q.capture.share,
    skippedValues: Object.fromEntries(q.features.filter((f) => f.skipped).map((f) => [f.feature, f.skipped])),
    groundTruthLines: q.groundTruth.total,
    skippedGroundTruthLines: q.groundTruth.skipped,
    alerts: q.alerts,
  };
}

export function noProductionResult(input: CheckDriftInput, to: number): CheckDriftResult {
  const seconds = input.since ? Math.round((to - Date.parse(input.since)) / 1000) : (input.window ?? 0);
  return {
    verdict: 'insufficient-data',
    retrain: false,
    reason: `${input.model} has no production version: nothing to check`,
    run: input.executionName,
    reportUri: null,
    version: null,
    window: { from: new Date(to - seconds * 1000).toISOString(), to: new Date(to).toISOString(), seconds },
    dataDrift: null,
    conceptDrift: null,
    dataQuality: null,
    split: null,
  };
}

export type VersionRecord = NonNullable<Awaited<ReturnType<typeof readProductionVersion>>>['record'];

/** The production version's training data: the reference of the check. */
export async function readReference(deps: CheckDriftDeps, record: VersionRecord) {
  const trainUri = record.training?.dataUri ?? bundleFileUri(record, 'data/train.csv');
  const train = parseS3Uri(trainUri);
  const trainText = await getText(deps.s3, train.bucket, train.key);
  if (trainText === undefined) throw new SourceNotFoundError(`${trainUri} (the reference data of the drift check) does not exist`);
  return toColumns(parseCsv(trainText, trainUri), record.manifest.features, trainUri);
}

/** A damaged window's drift verdict is computed on a biased sample: its quality is the verdict. */
function overallVerdict(data: DriftReport, concept: ConceptDriftResult | undefined, quality: DataQualityReport): Verdict {
  if (quality.verdict === 'data-quality') return 'data-quality';
  if (data.verdict === 'drift' || concept?.verdict === 'drift') return 'drift';
  if (data.verdict === 'insufficient-data' && (concept?.verdict ?? 'insufficient-data') === 'insufficient-data') return 'insufficient-data';
  return 'no-drift';
}

/** The production version's reference and the window's current data, as read for one check. */
export interface CheckWindow {
  model: string;
  run: string;
  record: VersionRecord;
  from: number;
  to: number;
  current: ScannedWindow;
}

/** What one check found: written out as reports, then summed up for the workflow. */
interface DriftFindings {
  model: string;
  run: string;
  record: VersionRecord;
  generatedAt: string;
  window: { from: string; to: string; seconds: number };
  statistics: ModelMonitorStatistics | undefined;
  data: DriftReport;
  concept: ConceptDriftResult | undefined;
  quality: DataQualityReport;
  verdict: Verdict;
  reason: string;
}

/** The metric the production version recorded at its evaluation: concept drift's baseline (none, no concept check). */
export const conceptBaseline = (record: VersionRecord): number | undefined =>
  record.evaluation?.metrics[record.manifest.drift.concept.metric];

/** Concept drift against the metric the production version recorded at its evaluation; none without that figure. */
function conceptDriftOf(record: VersionRecord, join: JoinedWindow | undefined): ConceptDriftResult | undefined {
  const m = record.manifest;
  const baselineValue = conceptBaseline(record);
  if (baselineValue === undefined || !join) return undefined;
  return conceptDriftOfJoin(
    {
      task: m.task,
      metric: m.drift.concept.metric,
      baselineValue,
      tolerance: m.drift.concept.tolerance,
      minLabels: m.drift.concept.minLabels,
      direction: m.evaluation.metrics[m.drift.concept.metric]?.direction,
    },
    join,
  );
}

/** Data drift, data quality and concept drift of the window, and the verdict they add up to. */
export function analyseWindow(w: CheckWindow): DriftFindings {
  const m = w.record.manifest;
  const { data, join, captureLines, truthLines } = w.current;
  const quality = assessDataQuality({ report: data, capture: captureLines, groundTruth: truthLines, options: m.drift.dataQuality });
  const concept = conceptDriftOf(w.record, join);
  const generatedAt = new Date(w.to).toISOString();
  return {
    model: w.model,
    run: w.run,
    record: w.record,
    generatedAt,
    window: { from: new Date(w.from).toISOString(), to: generatedAt, seconds: Math.round((w.to - w.from) / 1000) },
    statistics: w.current.statistics,
    data,
    concept,
    quality,
    verdict: overallVerdict(data, concept, quality),
    reason: describe(data, concept, quality),
  };
}

/**
 * Model Monitor-format statistics and violations plus the drift report (JSON + HTML) under
 * `monitoring/<model>/<run>/`. Returns the HTML report's URI.
 */
export async function writeReports(deps: CheckDriftDeps, f: DriftFindings): Promise<string> {
  const key = (file: string) => keys.monitoring(f.model, f.run, file);
  const { data, concept, quality, generatedAt } = f;
  if (f.statistics) await putJson(deps.s3, deps.bucket, key('statistics.json'), f.statistics);
  await putJson(deps.s3, deps.bucket, key('constraint_violations.json'), toConstraintViolations(data));
  await putJson(deps.s3, deps.bucket, key('drift-report.json'), {
    model: f.model,
    version: f.record.version,
    run: f.run,
    generatedAt,
    window: f.window,
    verdict: f.verdict,
    reason: f.reason,
    data,
    concept: concept ?? null,
    dataQuality: quality,
  });
  const windowText = `${f.window.from} – ${generatedAt}`;
  await putBody(
    deps.s3,
    deps.bucket,
    key('drift-report.html'),
    renderDriftReportHtml(data, { model: f.model, generatedAt, window: windowText, concept, quality }),
    'text/html; charset=utf-8',
  );
  return s3Uri(deps.bucket, key('drift-report.html'));
}

/** The counts and verdicts the workflow carries on. */
export function toResult(f: DriftFindings, reportUri: string): CheckDriftResult {
  const { data, concept } = f;
  return {
    verdict: f.verdict,
    retrain: f.verdict === 'drift' && f.record.manifest.drift.retraining.enabled,
    reason: f.reason,
    run: f.run,
    reportUri,
    version: f.record.version,
    window: { ...f.window },
    dataDrift: {
      verdict: data.verdict,
      driftShare: data.driftShare,
      driftedColumns: data.driftedColumns,
      currentRows: data.currentRows,
      referenceRows: data.referenceRows,
    },
    conceptDrift: concept
      ? {
          verdict: concept.verdict,
          metric: concept.metric,
          value: concept.value,
          baseline: concept.baseline,
          joined: concept.joined,
          ...(concept.labelShare !== undefined ? { labelShare: concept.labelShare } : {}),
        }
      : null,
    dataQuality: summarize(f.quality),
    split: null,
  };
}
