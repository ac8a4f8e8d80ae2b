import type { S3Client } from '@aws-sdk/client-s3';
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
import { endpointName, keys, parseS3Uri, s3Uri } from '../shared/names';
import { readProductionVersion, readVersion } from '../shared/registry';
import { getText, putBody, putJson } from '../shared/s3json';
import {
  finishMerged,
  finishRefined,
  listWindow,
  listWindowObjects,
  mergeBatches,
  mergedNeedsRefine,
  refineBatch,
  scanBatch,
  scanWindow,
  type BatchState,
  type MergedState,
  type ScannedWindow,
  type WindowScan,
} from './scan';
import { DEFAULT_BATCH_BYTES, eachBatch, getSplit, groupBatches, putSplit, type SplitPlan } from './split';

export interface CheckDriftDeps {
  s3: S3Client;
  bucket: string;
  now: () => Date;
  /** Labels the concept-drift join holds at most (a hash sample beyond). @default DEFAULT_LABEL_BUDGET (200,000) */
  labelBudget?: number;
  /** Capture bytes above which a window is split into batches of at most this size. @default DEFAULT_BATCH_BYTES (1 GiB) */
  batchBytes?: number;
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
  /** Split the window into batches of at most this many capture bytes. @default deps.batchBytes */
  batchBytes?: number;
  executionId: string;
  executionName: string;
}

/** One batch of a split check (the workflow's Map iterations). */
export interface ScanBatchInput {
  model: string;
  phase: 'scan';
  pass: 1 | 2;
  batch: number;
  run: string;
}

/** The reduce of a split check after a pass. */
export interface MergeBatchesInput {
  model: string;
  phase: 'merge';
  pass: 1 | 2;
  run: string;
}

/** `data-quality`: the window is too damaged (or a feature stopped arriving) for a drift verdict to mean anything. */
export type Verdict = 'drift' | 'no-drift' | 'insufficient-data' | 'data-quality' | 'split' | 'refine';

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
  conceptDrift: {
    verdict: ConceptDriftResult['verdict'];
    metric: string;
    value: number | null;
    baseline: number;
    joined: number;
    /** Present when the labels outnumbered the join's budget: the share of inferenceIds sampled. */
    labelShare?: number;
  } | null;
  dataQuality: DataQualitySummary | null;
  /**
   * A window split into batches: the workflow maps pass `pass` over `batches` and then merges
   * (verdict `split` before pass 1, `refine` before pass 2; no verdict yet). Null once there is a verdict.
   */
  split: { pass: 1 | 2; batches: number[] } | null;
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
    split: null,
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

/** A damaged window's drift verdict is computed on a biased sample: its quality is the verdict. */
function overallVerdict(data: DriftReport, concept: ConceptDriftResult | undefined, quality: DataQualityReport): Verdict {
  if (quality.verdict === 'data-quality') return 'data-quality';
  if (data.verdict === 'drift' || concept?.verdict === 'drift') return 'drift';
  if (data.verdict === 'insufficient-data' && (concept?.verdict ?? 'insufficient-data') === 'insufficient-data') return 'insufficient-data';
  return 'no-drift';
}

/** The production version's reference and the window's current data, as read for one check. */
interface CheckWindow {
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
const conceptBaseline = (record: VersionRecord): number | undefined => record.evaluation?.metrics[record.manifest.drift.concept.metric];

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
function analyseWindow(w: CheckWindow): DriftFindings {
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
async function writeReports(deps: CheckDriftDeps, f: DriftFindings): Promise<string> {
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
function toResult(f: DriftFindings, reportUri: string): CheckDriftResult {
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

/**
 * The drift check of one model: the production version's training data is the reference,
 * the production endpoint's captured requests of the window are the current data, and
 * ground truth joined on inferenceId gives concept drift against the evaluation metric.
 * Writes Model Monitor-format statistics and violations plus a drift report under
 * `monitoring/<model>/<run>/`. The statistics are lambdas/ml's; this only moves data, streamed
 * (scan.ts): memory is bounded by the reference and the label budget, not by the window.
 */
export async function checkDrift(deps: CheckDriftDeps, input: CheckDriftInput): Promise<CheckDriftResult> {
  const to = deps.now().getTime();
  const production = await readProductionVersion(deps, input.model);
  if (!production) return noProductionResult(input, to);
  const { record, pointer } = production;
  const from = input.since ? Date.parse(input.since) : to - (input.window ?? record.manifest.drift.window) * 1000;

  const reference = await readReference(deps, record);

  const endpoint = pointer.endpointName || endpointName(input.model, 'production');
  const capture = await listWindowObjects(deps.s3, deps.bucket, `${keys.capture(input.model)}${endpoint}/`, from, to);
  const groundTruthKeys = await listWindow(deps.s3, deps.bucket, keys.groundTruth(input.model), from, to);
  const batchBytes = input.batchBytes ?? deps.batchBytes ?? DEFAULT_BATCH_BYTES;
  if (capture.reduce((a, o) => a + o.size, 0) > batchBytes) {
    const plan: SplitPlan = {
      model: input.model,
      version: record.version,
      from,
      to,
      batches: groupBatches(capture, batchBytes),
      groundTruthKeys,
      join: conceptBaseline(record) !== undefined,
      ...(deps.labelBudget !== undefined ? { labelBudget: deps.labelBudget } : {}),
    };
    await putSplit(deps, input.model, input.executionName, 'plan.json', plan);
    return splitResult(plan, input.executionName, 1);
  }
  const current = await scanWindow({
    ...scanOf(
      deps,
      { from, to, groundTruthKeys, join: conceptBaseline(record) !== undefined, labelBudget: deps.labelBudget },
      record,
      reference,
    ),
    captureKeys: capture.map((o) => o.key),
  });
  const findings = analyseWindow({ model: input.model, run: input.executionName, record, from, to, current });
  const reportUri = await writeReports(deps, findings);
  return toResult(findings, reportUri);
}

/** The WindowScan of a check: where, when, which labels, against which reference. */
function scanOf(
  deps: CheckDriftDeps,
  w: Pick<SplitPlan, 'from' | 'to' | 'groundTruthKeys' | 'join' | 'labelBudget'>,
  record: VersionRecord,
  reference: WindowScan['reference'],
): Omit<WindowScan, 'captureKeys'> {
  return {
    s3: deps.s3,
    bucket: deps.bucket,
    from: w.from,
    to: w.to,
    groundTruthKeys: w.groundTruthKeys,
    reference,
    features: record.manifest.features,
    driftOptions: record.manifest.drift,
    join: w.join,
    labelBudget: w.labelBudget,
  };
}

/** No verdict yet: the workflow maps `pass` over the plan's batches. */
function splitResult(plan: SplitPlan, run: string, pass: 1 | 2): CheckDriftResult {
  const n = plan.batches.length;
  return {
    verdict: pass === 1 ? 'split' : 'refine',
    retrain: false,
    reason: `the window's capture is split into ${n} batch(es); pass ${pass} runs over them`,
    run,
    reportUri: null,
    version: plan.version,
    window: {
      from: new Date(plan.from).toISOString(),
      to: new Date(plan.to).toISOString(),
      seconds: Math.round((plan.to - plan.from) / 1000),
    },
    dataDrift: null,
    conceptDrift: null,
    dataQuality: null,
    split: { pass, batches: Array.from({ length: n }, (_, i) => i) },
  };
}

/** The plan of a split run, its version record and its reference: what every batch and reduce starts from. */
async function loadSplit(deps: CheckDriftDeps, model: string, run: string) {
  const plan = await getSplit<SplitPlan>(deps, model, run, 'plan.json');
  const { value: record } = await readVersion(deps, model, plan.version);
  const reference = await readReference(deps, record);
  return { plan, record, scan: scanOf(deps, plan, record, reference) };
}

/** One batch of a split check: pass 1 (its state) or pass 2 (its refine state, from the merged pass 1). */
export async function scanBatchPhase(deps: CheckDriftDeps, input: ScanBatchInput): Promise<{ batch: number; pass: 1 | 2 }> {
  const { plan, scan } = await loadSplit(deps, input.model, input.run);
  const captureKeys = plan.batches[input.batch];
  if (!captureKeys)
    throw new SourceNotFoundError(`batch ${input.batch} is not in the plan of ${input.run} (${plan.batches.length} batches)`);
  const state =
    input.pass === 1
      ? await scanBatch({ ...scan, captureKeys })
      : await refineBatch({ ...scan, captureKeys }, await getSplit<MergedState>(deps, input.model, input.run, 'merged.json'));
  await putSplit(deps, input.model, input.run, `pass${input.pass}-${input.batch}.json`, state);
  return { batch: input.batch, pass: input.pass };
}

/** The reduce of a split check: after pass 1, the verdict or a pass 2; after pass 2, the verdict. */
export async function mergeBatchesPhase(deps: CheckDriftDeps, input: MergeBatchesInput): Promise<CheckDriftResult> {
  const { plan, record, scan } = await loadSplit(deps, input.model, input.run);
  const whole = { ...scan, captureKeys: plan.batches.flat() };
  let current: ScannedWindow;
  if (input.pass === 1) {
    const merged = await mergeBatches(whole, eachBatch<BatchState>(deps, plan, input.run, 1));
    if (mergedNeedsRefine(merged)) {
      await putSplit(deps, input.model, input.run, 'merged.json', merged.state);
      return splitResult(plan, input.run, 2);
    }
    current = finishMerged(merged);
  } else {
    const merged = await getSplit<MergedState>(deps, input.model, input.run, 'merged.json');
    current = await finishRefined(whole, merged, eachBatch(deps, plan, input.run, 2));
  }
  const findings = analyseWindow({ model: input.model, run: input.run, record, from: plan.from, to: plan.to, current });
  return toResult(findings, await writeReports(deps, findings));
}
