/**
 * The window's capture and ground truth, streamed from S3 line by line (issue 17): a week of a busy
 * endpoint is several GB of JSONL, more than a Lambda can hold. Memory is bounded by the reference,
 * the chunk size and the label budget, never by the window:
 *
 * - data drift: capture records go in chunks of CHUNK_RECORDS through DriftSession (pass 1); when the
 *   session needs pass 2 (Wasserstein gaps where the CDFs cross, Jensen–Shannon bins) the capture
 *   objects are streamed again. Reading twice costs S3 GETs; holding the window is what we cannot do.
 * - statistics.json: the same chunks through BaselineBuilder (KLL sketches).
 * - concept drift: ground truth is read first into a LabelJoin (at most `labelBudget` labels, a hash
 *   sample of the ids beyond that), then each capture record is joined as it streams by. Ground truth
 *   is the side held because labels are at most one per request and usually far fewer; the hash sample
 *   keeps the bound when they are not.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import {
  BaselineBuilder,
  CaptureColumnizer,
  DriftSession,
  LabelJoin,
  mergeLineTally,
  newLineTally,
  parseCaptureLine,
  parseGroundTruthLine,
  type BaselineState,
  type CaptureRecord,
  type Columns,
  type DriftOptions,
  type DriftReport,
  type DriftSessionState,
  type FeatureSpec,
  type JoinedWindow,
  type LabelJoinState,
  type LineTally,
  type ModelMonitorStatistics,
} from '../ml';
import { EVALUATION_INFERENCE_PREFIX } from '../shared/names';
import { listObjects, readNumberedLines, type ListedObject } from '../shared/s3json';
import { keyInWindow, timeInWindow } from './window';

/** Capture records per chunk: enough to amortise a push, a few MB at most. */
export const CHUNK_RECORDS = 5_000;

/** Labels the concept-drift join holds at most: about 40 MB of ids and labels. */
export const DEFAULT_LABEL_BUDGET = 200_000;

/** Every object of a prefix whose hour overlaps the window, in key order. */
export async function listWindowObjects(s3: S3Client, bucket: string, prefix: string, from: number, to: number): Promise<ListedObject[]> {
  const objects: ListedObject[] = [];
  for await (const obj of listObjects(s3, bucket, prefix)) if (keyInWindow(obj.key, from, to)) objects.push(obj);
  return objects;
}

/** The keys of every object of a prefix whose hour overlaps the window, in key order. */
export async function listWindow(s3: S3Client, bucket: string, prefix: string, from: number, to: number): Promise<string[]> {
  return (await listWindowObjects(s3, bucket, prefix, from, to)).map((o) => o.key);
}

/** What a scan reads: where, which objects, and what it compares them with. */
export interface WindowScan {
  s3: S3Client;
  bucket: string;
  from: number;
  to: number;
  captureKeys: readonly string[];
  groundTruthKeys: readonly string[];
  reference: Columns;
  features: readonly FeatureSpec[];
  driftOptions: DriftOptions;
  /** Join ground truth for concept drift (only when the version has the metric's baseline). */
  join: boolean;
  /** @default DEFAULT_LABEL_BUDGET */
  labelBudget?: number;
}

/** What a scan found: the drift report, the window's statistics, the join and the line counts. */
export interface ScannedWindow {
  data: DriftReport;
  /** Model Monitor statistics of the captured rows; undefined for an empty window. */
  statistics: ModelMonitorStatistics | undefined;
  join: JoinedWindow | undefined;
  captureLines: LineTally;
  truthLines: LineTally;
}

/**
 * The production endpoint's captured requests of the window, in chunks: records outside the window's
 * time and the release's own evaluation traffic are left out. Bad lines are counted in `tally` and
 * skipped, never fatal: one torn line would otherwise fail every check until it ages out of the window.
 */
export async function* captureChunks(scan: WindowScan, tally: LineTally): AsyncGenerator<CaptureRecord[]> {
  let chunk: CaptureRecord[] = [];
  for (const key of scan.captureKeys) {
    for await (const { text, line } of readNumberedLines(scan.s3, scan.bucket, key)) {
      const r = parseCaptureLine(text, key, line, tally);
      if (!r || !timeInWindow(r.inferenceTime, scan.from, scan.to) || r.inferenceId?.startsWith(EVALUATION_INFERENCE_PREFIX)) continue;
      chunk.push(r);
      if (chunk.length >= CHUNK_RECORDS) {
        yield chunk;
        chunk = [];
      }
    }
  }
  if (chunk.length) yield chunk;
}

/** Every ground-truth line of the window, counted in `tally`, into the join when there is one. */
async function readLabels(scan: WindowScan, tally: LineTally, join: LabelJoin | undefined): Promise<void> {
  for (const key of scan.groundTruthKeys) {
    for await (const { text, line } of readNumberedLines(scan.s3, scan.bucket, key)) {
      const g = parseGroundTruthLine(text, key, line, tally);
      if (g && join) join.addLabel(g);
    }
  }
}

/** The chunk's rows into the statistics, as records keyed by feature. */
function addRows(baseline: BaselineBuilder, cols: Record<string, unknown[]>, features: readonly FeatureSpec[]): void {
  const n = cols[features[0]!.name]!.length;
  for (let i = 0; i < n; i++) baseline.add(Object.fromEntries(features.map((f) => [f.name, cols[f.name]![i] ?? null])));
}

/** What pass 1 over some capture objects leaves: the accumulators, not yet reported. */
interface Pass1 {
  session: DriftSession;
  columnizer: CaptureColumnizer;
  baseline: BaselineBuilder;
  join: LabelJoin | undefined;
  captureLines: LineTally;
  truthLines: LineTally;
}

/** Labels into the join, then the capture objects of `scan` in chunks through drift, statistics and the join. */
async function pass1(scan: WindowScan): Promise<Pass1> {
  const truthLines = newLineTally();
  const join = scan.join ? new LabelJoin(scan.labelBudget ?? DEFAULT_LABEL_BUDGET) : undefined;
  await readLabels(scan, truthLines, join);
  const session = new DriftSession(scan.reference, scan.features, scan.driftOptions);
  const columnizer = new CaptureColumnizer(scan.features);
  const baseline = new BaselineBuilder(scan.features, { invalidNumbers: 'missing' });
  const captureLines = newLineTally();
  for await (const chunk of captureChunks(scan, captureLines)) {
    const cols = columnizer.columns(chunk);
    session.push(cols);
    addRows(baseline, cols, scan.features);
    if (join) for (const r of chunk) join.addCapture(r);
  }
  return { session, columnizer, baseline, join, captureLines, truthLines };
}

/** Pass 2 over the capture objects of `scan`, when the session asks for it. */
async function refinePass(scan: WindowScan, session: DriftSession): Promise<void> {
  if (!session.needsRefine()) return;
  const columnizer = new CaptureColumnizer(scan.features);
  for await (const chunk of captureChunks(scan, newLineTally())) session.refine(columnizer.columns(chunk));
}

function finish(p: Omit<Pass1, 'columnizer'>): ScannedWindow {
  return {
    data: p.session.report(),
    statistics: p.baseline.rowCount ? p.baseline.finish().statistics : undefined,
    join: p.join?.joined(),
    captureLines: p.captureLines,
    truthLines: p.truthLines,
  };
}

/**
 * Data drift, statistics and the label join of the window in one streamed pass over the capture
 * (two when the drift session asks for pass 2). The results are those of the in-memory path
 * (detectDataDrift, computeBaseline and conceptDrift on the whole window) when the labels fit the budget.
 */
export async function scanWindow(scan: WindowScan): Promise<ScannedWindow> {
  const p = await pass1(scan);
  p.session.declareColumns({ missing: p.columnizer.missing(), extra: [...p.columnizer.extras] });
  await refinePass(scan, p.session);
  return finish(p);
}

/** One batch of a split window after pass 1, as stored between invocations. */
export interface BatchState {
  session: DriftSessionState;
  baseline: BaselineState;
  join: LabelJoinState | null;
  captureLines: LineTally;
  /** Every batch reads all the labels; the merge counts the first batch's tally only. */
  truthLines: LineTally;
  seen: string[];
  extras: string[];
}

/** Pass 1 over one batch of a split window (`scan.captureKeys` = the batch's objects). */
export async function scanBatch(scan: WindowScan): Promise<BatchState> {
  const p = await pass1(scan);
  return {
    session: p.session.exportState(),
    baseline: p.baseline.exportState(),
    join: p.join ? p.join.exportState() : null,
    captureLines: p.captureLines,
    truthLines: p.truthLines,
    seen: [...p.columnizer.seen],
    extras: [...p.columnizer.extras],
  };
}

/** The reduce of a split window: accumulators rebuilt on the reference and the batches merged in stream order. */
export interface MergedWindow extends Omit<Pass1, 'columnizer'> {
  /** The merged pass-1 state the pass-2 batches start from. */
  state: MergedState;
}

/** What the reduce stores between pass 1 and pass 2: the merged states, as plain JSON. */
export interface MergedState {
  session: DriftSessionState;
  baseline: BaselineState;
  join: LabelJoinState | null;
  captureLines: LineTally;
  truthLines: LineTally;
}

/** Fresh accumulators on the reference, with a merged state (or nothing) added. */
function rebuild(scan: WindowScan, from?: MergedState): Omit<Pass1, 'columnizer'> {
  const session = new DriftSession(scan.reference, scan.features, scan.driftOptions);
  const baseline = new BaselineBuilder(scan.features, { invalidNumbers: 'missing' });
  const join = scan.join ? new LabelJoin(scan.labelBudget ?? DEFAULT_LABEL_BUDGET) : undefined;
  const captureLines = newLineTally();
  const truthLines = newLineTally();
  if (from) {
    session.mergeState(from.session);
    baseline.mergeState(from.baseline);
    if (join && from.join) join.mergeState(from.join);
    mergeLineTally(captureLines, from.captureLines);
    mergeLineTally(truthLines, from.truthLines);
  }
  return { session, baseline, join, captureLines, truthLines };
}

/** Pass 1 of every batch merged, in batch (= stream) order; the missing and extra columns of the whole window declared. */
export async function mergeBatches(scan: WindowScan, batches: AsyncIterable<BatchState>): Promise<MergedWindow> {
  const m = rebuild(scan);
  const seen = new Set<string>();
  const extras = new Set<string>();
  let first = true;
  for await (const b of batches) {
    m.session.mergeState(b.session);
    m.baseline.mergeState(b.baseline);
    if (m.join && b.join) m.join.mergeState(b.join);
    mergeLineTally(m.captureLines, b.captureLines);
    if (first) mergeLineTally(m.truthLines, b.truthLines);
    first = false;
    for (const f of b.seen) seen.add(f);
    for (const e of b.extras) extras.add(e);
  }
  m.session.declareColumns({ missing: scan.features.filter((f) => !seen.has(f.name)).map((f) => f.name), extra: [...extras] });
  const state: MergedState = {
    session: m.session.exportState(),
    baseline: m.baseline.exportState(),
    join: m.join ? m.join.exportState() : null,
    captureLines: m.captureLines,
    truthLines: m.truthLines,
  };
  return { ...m, state };
}

/** Whether a merged window needs pass 2 over the batches. */
export const mergedNeedsRefine = (m: MergedWindow): boolean => m.session.needsRefine();

/** The report of a merged window that needs no pass 2. */
export const finishMerged = (m: MergedWindow): ScannedWindow => finish(m);

/** Pass 2 over one batch, from the merged pass-1 state: its crossing-gap values and bin counts. */
export async function refineBatch(scan: WindowScan, merged: MergedState): Promise<DriftSessionState> {
  const session = new DriftSession(scan.reference, scan.features, scan.driftOptions);
  session.mergeState(merged.session);
  await refinePass(scan, session);
  return session.exportState();
}

/** The reduce after pass 2: the merged pass 1 with every batch's pass 2 added, reported. */
export async function finishRefined(
  scan: WindowScan,
  merged: MergedState,
  batches: AsyncIterable<DriftSessionState>,
): Promise<ScannedWindow> {
  const m = rebuild(scan, merged);
  for await (const b of batches) m.session.mergeRefineState(b);
  return finish(m);
}
