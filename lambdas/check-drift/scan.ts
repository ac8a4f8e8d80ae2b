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
  newLineTally,
  parseCaptureLine,
  parseGroundTruthLine,
  type CaptureRecord,
  type Columns,
  type DriftOptions,
  type DriftReport,
  type FeatureSpec,
  type JoinedWindow,
  type LineTally,
  type ModelMonitorStatistics,
} from '../ml';
import { EVALUATION_INFERENCE_PREFIX } from '../shared/names';
import { listObjects, readNumberedLines } from '../shared/s3json';
import { keyInWindow, timeInWindow } from './window';

/** Capture records per chunk: enough to amortise a push, a few MB at most. */
export const CHUNK_RECORDS = 5_000;

/** Labels the concept-drift join holds at most: about 40 MB of ids and labels. */
export const DEFAULT_LABEL_BUDGET = 200_000;

/** The keys of every object of a prefix whose hour overlaps the window, in key order. */
export async function listWindow(s3: S3Client, bucket: string, prefix: string, from: number, to: number): Promise<string[]> {
  const keys: string[] = [];
  for await (const obj of listObjects(s3, bucket, prefix)) if (keyInWindow(obj.key, from, to)) keys.push(obj.key);
  return keys;
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

/** The chunk's rows into the statistics, as records keyed by feature. Returns the row count. */
function addRows(baseline: BaselineBuilder, cols: Record<string, unknown[]>, features: readonly FeatureSpec[]): number {
  const n = cols[features[0]!.name]!.length;
  for (let i = 0; i < n; i++) baseline.add(Object.fromEntries(features.map((f) => [f.name, cols[f.name]![i] ?? null])));
  return n;
}

/**
 * Data drift, statistics and the label join of the window in one streamed pass over the capture
 * (two when the drift session asks for pass 2). The results are those of the in-memory path
 * (detectDataDrift, computeBaseline and conceptDrift on the whole window) when the labels fit the budget.
 */
export async function scanWindow(scan: WindowScan): Promise<ScannedWindow> {
  const truthLines = newLineTally();
  const join = scan.join ? new LabelJoin(scan.labelBudget ?? DEFAULT_LABEL_BUDGET) : undefined;
  await readLabels(scan, truthLines, join);

  const session = new DriftSession(scan.reference, scan.features, scan.driftOptions);
  const columnizer = new CaptureColumnizer(scan.features);
  const baseline = new BaselineBuilder(scan.features, { invalidNumbers: 'missing' });
  const captureLines = newLineTally();
  let rows = 0;
  for await (const chunk of captureChunks(scan, captureLines)) {
    const cols = columnizer.columns(chunk);
    session.push(cols);
    rows += addRows(baseline, cols, scan.features);
    if (join) for (const r of chunk) join.addCapture(r);
  }
  session.declareColumns({ missing: columnizer.missing(), extra: [...columnizer.extras] });
  if (session.needsRefine()) {
    const again = new CaptureColumnizer(scan.features);
    for await (const chunk of captureChunks(scan, newLineTally())) session.refine(again.columns(chunk));
  }
  return {
    data: session.report(),
    statistics: rows ? baseline.finish().statistics : undefined,
    join: join?.joined(),
    captureLines,
    truthLines,
  };
}
