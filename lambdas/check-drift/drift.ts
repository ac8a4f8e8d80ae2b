import type { S3Client } from '@aws-sdk/client-s3';
import {
  assessDataQuality,
  captureToColumns,
  computeBaseline,
  conceptDrift,
  detectDataDrift,
  newLineTally,
  parseCaptureLines,
  parseCsv,
  parseGroundTruthLines,
  renderDriftReportHtml,
  toColumns,
  toConstraintViolations,
  type CaptureRecord,
  type ConceptDriftResult,
  type DataQualityReport,
  type DriftReport,
  type GroundTruthRecord,
} from '../ml';
import { bundleFileUri } from '../shared/bundle';
import { SourceNotFoundError } from '../shared/errors';
import { endpointName, EVALUATION_INFERENCE_PREFIX, keys, parseS3Uri, s3Uri } from '../shared/names';
import { readProductionVersion } from '../shared/registry';
import { getText, listObjects, putBody, putJson } from '../shared/s3json';
import { keyInWindow, timeInWindow } from './window';

export interface CheckDriftDeps {
  s3: S3Client;
  bucket: string;
  now: () => Date;
}

export interface CheckDriftInput {
  model: string;
  /** Seconds back from now; @default the manifest's drift.window */
  window?: number;
  /**
   * The window's start (ISO 8601) instead of `window` seconds back: for a check over traffic
   * sent at a known time, whenever the check itself gets to run (the demo's drifted traffic).
   */
  since?: string;
  executionId: string;
  executionName: string;
}

/** `data-quality`: the window is too damaged (or a feature stopped arriving) for a drift verdict to mean anything. */
export type Verdict = 'drift' | 'no-drift' | 'insufficient-data' | 'data-quality';

/** The counts the workflow carries on: what was skipped, and the alerts. */
export interface DataQualitySummary {
  verdict: DataQualityReport['verdict'];
  captureLines: number;
  skippedLines: number;
  skippedLineShare: number;
  /** Skipped values per feature (only features with any). */
  skippedValues: Record<string, number>;
  groundTruthLines: number;
  skippedGroundTruthLines: number;
  alerts: string[];
}

export interface CheckDriftResult {
  verdict: Verdict;
  /** Drift, and the manifest wants retraining (TriggerRetraining still checks cooldown and running releases). */
  retrain: boolean;
  reason: string;
  run: string;
  reportUri: string | null;
  version: string | null;
  window: { from: string; to: string; seconds: number };
  dataDrift: {
    verdict: DriftReport['verdict'];
    driftShare: number;
    driftedColumns: string[];
    currentRows: number;
    referenceRows: number;
  } | null;
  conceptDrift: { verdict: ConceptDriftResult['verdict']; metric: string; value: number | null; baseline: number; joined: number } | null;
  dataQuality: DataQualitySummary | null;
}

/** Read every object of a prefix whose hour overlaps the window. */
async function readWindow(deps: CheckDriftDeps, prefix: string, from: number, to: number): Promise<{ key: string; text: string }[]> {
  const files: { key: string; text: string }[] = [];
  for await (const obj of listObjects(deps.s3, deps.bucket, prefix)) {
    if (!keyInWindow(obj.key, from, to)) continue;
    const text = await getText(deps.s3, deps.bucket, obj.key);
    if (text !== undefined) files.push({ key: obj.key, text });
  }
  return files;
}

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

function noProductionResult(input: CheckDriftInput, to: number): CheckDriftResult {
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
  };
}

type VersionRecord = NonNullable<Awaited<ReturnType<typeof readProductionVersion>>>['record'];

/** The production version's training data: the reference of the check. */
async function readReference(deps: CheckDriftDeps, record: VersionRecord) {
  const trainUri = record.training?.dataUri ?? bundleFileUri(record, 'data/train.csv');
  const train = parseS3Uri(trainUri);
  const trainText = await getText(deps.s3, train.bucket, train.key);
  if (trainText === undefined) throw new SourceNotFoundError(`${trainUri} (the reference data of the drift check) does not exist`);
  return toColumns(parseCsv(trainText, trainUri), record.manifest.features, trainUri);
}

/**
 * The production endpoint's captured requests of the window (the release's own evaluation
 * traffic left out) and the ground truth of the window. Bad lines are skipped and counted,
 * never fatal: one torn line would otherwise fail every check until it ages out of the window.
 * Their share is judged by assessDataQuality.
 */
async function readCurrentWindow(deps: CheckDriftDeps, model: string, endpoint: string, from: number, to: number) {
  const captureLines = newLineTally();
  const truthLines = newLineTally();
  const capture: CaptureRecord[] = [];
  for (const file of await readWindow(deps, `${keys.capture(model)}${endpoint}/`, from, to)) {
    for (const r of parseCaptureLines(file.text, file.key, captureLines)) {
      if (timeInWindow(r.inferenceTime, from, to) && !r.inferenceId?.startsWith(EVALUATION_INFERENCE_PREFIX)) capture.push(r);
    }
  }
  const truth: GroundTruthRecord[] = [];
  for (const file of await readWindow(deps, keys.groundTruth(model), from, to))
    truth.push(...parseGroundTruthLines(file.text, file.key, truthLines));
  return { capture, truth, captureLines, truthLines };
}

/** A damaged window's drift verdict is computed on a biased sample: its quality is the verdict. */
function overallVerdict(
  data: ReturnType<typeof detectDataDrift>,
  concept: ReturnType<typeof conceptDrift> | undefined,
  quality: ReturnType<typeof assessDataQuality>,
): Verdict {
  if (quality.verdict === 'data-quality') return 'data-quality';
  if (data.verdict === 'drift' || concept?.verdict === 'drift') return 'drift';
  if (data.verdict === 'insufficient-data' && (concept?.verdict ?? 'insufficient-data') === 'insufficient-data') return 'insufficient-data';
  return 'no-drift';
}

/**
 * The drift check of one model: the production version's training data is the reference,
 * the production endpoint's captured requests of the window are the current data, and
 * ground truth joined on inferenceId gives concept drift against the evaluation metric.
 * Writes Model Monitor-format statistics and violations plus a drift report under
 * `monitoring/<model>/<run>/`. The statistics are lambdas/ml's; this only moves data.
 */
export async function checkDrift(deps: CheckDriftDeps, input: CheckDriftInput): Promise<CheckDriftResult> {
  const run = input.executionName;
  const to = deps.now().getTime();
  const production = await readProductionVersion(deps, input.model);
  if (!production) return noProductionResult(input, to);
  const { record, pointer } = production;
  const m = record.manifest;
  const from = input.since ? Date.parse(input.since) : to - (input.window ?? m.drift.window) * 1000;
  const seconds = Math.round((to - from) / 1000);

  const reference = await readReference(deps, record);

  const endpoint = pointer.endpointName || endpointName(input.model, 'production');
  const { capture, truth, captureLines, truthLines } = await readCurrentWindow(deps, input.model, endpoint, from, to);

  const current = captureToColumns(capture, m.features);
  const data = detectDataDrift({ reference, current, features: m.features, options: m.drift });
  const quality = assessDataQuality({ report: data, capture: captureLines, groundTruth: truthLines, options: m.drift.dataQuality });
  const baselineValue = record.evaluation?.metrics[m.drift.concept.metric];
  const concept =
    baselineValue === undefined
      ? undefined
      : conceptDrift({
          task: m.task,
          metric: m.drift.concept.metric,
          capture,
          groundTruth: truth,
          baselineValue,
          tolerance: m.drift.concept.tolerance,
          minLabels: m.drift.concept.minLabels,
          direction: m.evaluation.metrics[m.drift.concept.metric]?.direction,
        });

  const verdict = overallVerdict(data, concept, quality);
  const reason = describe(data, concept, quality);
  const generatedAt = new Date(to).toISOString();
  const key = (file: string) => keys.monitoring(input.model, run, file);

  const rows =
    data.currentRows > 0
      ? Array.from({ length: data.currentRows }, (_, i) =>
          Object.fromEntries(m.features.map((f) => [f.name, current[f.name]?.[i] ?? null])),
        )
      : [];
  if (rows.length > 0)
    await putJson(
      deps.s3,
      deps.bucket,
      key('statistics.json'),
      computeBaseline(rows, m.features, { invalidNumbers: 'missing' }).statistics,
    );
  await putJson(deps.s3, deps.bucket, key('constraint_violations.json'), toConstraintViolations(data));
  await putJson(deps.s3, deps.bucket, key('drift-report.json'), {
    model: input.model,
    version: record.version,
    run,
    generatedAt,
    window: { from: new Date(from).toISOString(), to: generatedAt, seconds },
    verdict,
    reason,
    data,
    concept: concept ?? null,
    dataQuality: quality,
  });
  const windowText = `${new Date(from).toISOString()} – ${generatedAt}`;
  await putBody(
    deps.s3,
    deps.bucket,
    key('drift-report.html'),
    renderDriftReportHtml(data, { model: input.model, generatedAt, window: windowText, concept, quality }),
    'text/html; charset=utf-8',
  );

  return {
    verdict,
    retrain: verdict === 'drift' && m.drift.retraining.enabled,
    reason,
    run,
    reportUri: s3Uri(deps.bucket, key('drift-report.html')),
    version: record.version,
    window: { from: new Date(from).toISOString(), to: generatedAt, seconds },
    dataDrift: {
      verdict: data.verdict,
      driftShare: data.driftShare,
      driftedColumns: data.driftedColumns,
      currentRows: data.currentRows,
      referenceRows: data.referenceRows,
    },
    conceptDrift: concept
      ? { verdict: concept.verdict, metric: concept.metric, value: concept.value, baseline: concept.baseline, joined: concept.joined }
      : null,
    dataQuality: summarize(quality),
  };
}
