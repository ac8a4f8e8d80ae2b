/**
 * Parsers of SageMaker data-capture JSONL and Model Monitor ground-truth JSONL (strings in,
 * records out; the handler reads the objects). Formats:
 *   capture: {"captureData":{"endpointInput":{"data":"<body>","encoding":"JSON"|"CSV"|"BASE64",...},
 *             "endpointOutput":{...}},"eventMetadata":{"eventId","inferenceId","inferenceTime"},"eventVersion":"0"}
 *   ground truth: {"groundTruthData":{"data":"<label>","encoding":"CSV"},"eventMetadata":{"eventId":"<inferenceId>"},"eventVersion":"0"}
 */
import { parseCsv } from './csv';
import { ParseError } from './errors';
import type { CaptureRecord, ColumnValues, FeatureSpec, GroundTruthRecord } from './types';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A capture or ground-truth line that could not be read: where, and why. */
export interface SkippedLine {
  source: string;
  line: number;
  reason: string;
}

/** At most this many skipped lines are kept as examples; the counts cover all of them. */
export const MAX_SKIPPED_EXAMPLES = 20;

/**
 * What a lenient parse saw, accumulated over the files of a window: lines read, lines skipped
 * (per file), and the first skipped lines as examples. Pass one to the parsers to skip bad lines.
 */
export interface LineTally {
  lines: number;
  skipped: number;
  /** Skipped lines per source (file). */
  perSource: Record<string, number>;
  examples: SkippedLine[];
}

export const newLineTally = (): LineTally => ({ lines: 0, skipped: 0, perSource: {}, examples: [] });

/** Add a later batch's tally to `into` (examples kept in order, up to MAX_SKIPPED_EXAMPLES). */
export function mergeLineTally(into: LineTally, o: LineTally): void {
  into.lines += o.lines;
  into.skipped += o.skipped;
  for (const [source, n] of Object.entries(o.perSource)) into.perSource[source] = (into.perSource[source] ?? 0) + n;
  for (const e of o.examples) if (into.examples.length < MAX_SKIPPED_EXAMPLES) into.examples.push(e);
}

/**
 * Parse one JSON line with `parse`; `undefined` for a blank line. Without a tally a bad line throws;
 * with one, it is counted and skipped (`undefined`), because one torn or corrupt line must not stop
 * a check of the thousands of good ones around it.
 */
function jsonLine<T>(
  raw: string,
  lineNo: number,
  source: string,
  tally: LineTally | undefined,
  parse: (rec: Obj, line: number) => T,
): T | undefined {
  const line = raw.trim();
  if (line === '') return undefined;
  if (tally) tally.lines++;
  try {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (cause) {
      throw new ParseError(source, lineNo, 'not valid JSON', { cause });
    }
    if (!isObj(value)) throw new ParseError(source, lineNo, 'a JSON object is expected');
    return parse(value, lineNo);
  } catch (err) {
    if (!tally || !(err instanceof ParseError)) throw err;
    tally.skipped++;
    tally.perSource[source] = (tally.perSource[source] ?? 0) + 1;
    if (tally.examples.length < MAX_SKIPPED_EXAMPLES) tally.examples.push({ source, line: err.line, reason: err.detail });
    return undefined;
  }
}

/** Every non-empty line of `text` through jsonLine. */
function jsonLines<T>(text: string, source: string, tally: LineTally | undefined, parse: (rec: Obj, line: number) => T): T[] {
  const out: T[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const r = jsonLine(lines[i]!, i + 1, source, tally, parse);
    if (r !== undefined) out.push(r);
  }
  return out;
}

function decode(section: unknown, source: string, line: number, what: string): { body: string; contentType: string } {
  if (!isObj(section) || typeof section.data !== 'string') throw new ParseError(source, line, `captureData.${what}.data is missing`);
  const encoding = String(section.encoding ?? 'JSON').toUpperCase();
  const body = encoding === 'BASE64' ? Buffer.from(section.data, 'base64').toString('utf8') : section.data;
  return { body, contentType: String(section.observedContentType ?? (encoding === 'CSV' ? 'text/csv' : 'application/json')) };
}

function csvFields(line: string, source: string, lineNo: number): string[] {
  // A header-less CSV line: parse it as the header of a one-line document.
  try {
    return parseCsv(line.replace(/^(\s*),/, '$1"",'), source).header;
  } catch (cause) {
    throw new ParseError(source, lineNo, `bad CSV data ${JSON.stringify(line.slice(0, 80))}`, { cause });
  }
}

/**
 * Parse data-capture JSONL. JSON input bodies follow the inference contract (`{"instances":[...]}`
 * or one object); CSV bodies are rows of values in feature order. The output must be
 * `{"predictions":[...]}` with one entry per instance.
 * @param tally when given, bad lines are counted there and skipped instead of thrown
 * @throws ParseError naming the source and line (only without a tally)
 */
export function parseCaptureLines(text: string, source = 'capture', tally?: LineTally): CaptureRecord[] {
  return jsonLines(text, source, tally, (rec, line) => captureRecord(rec, source, line));
}

/**
 * One data-capture line (a line of a streamed object); `undefined` for a blank or (with a tally) skipped line.
 * @throws ParseError naming the source and line (only without a tally)
 */
export function parseCaptureLine(text: string, source: string, lineNo: number, tally?: LineTally): CaptureRecord | undefined {
  return jsonLine(text, lineNo, source, tally, (rec, line) => captureRecord(rec, source, line));
}

function captureRecord(rec: Obj, source: string, line: number): CaptureRecord {
  const cd = rec.captureData;
  const meta = rec.eventMetadata;
  if (!isObj(cd)) throw new ParseError(source, line, 'captureData is missing');
  if (!isObj(meta) || typeof meta.eventId !== 'string') throw new ParseError(source, line, 'eventMetadata.eventId is missing');
  const input = decode(cd.endpointInput, source, line, 'endpointInput');
  const output = decode(cd.endpointOutput, source, line, 'endpointOutput');
  let instances: unknown[];
  if (input.contentType.includes('csv')) {
    instances = input.body
      .split(/\r?\n/)
      .filter((l) => l.trim() !== '')
      .map((l) => csvFields(l, source, line));
  } else {
    let body: unknown;
    try {
      body = JSON.parse(input.body);
    } catch (cause) {
      throw new ParseError(source, line, 'endpointInput.data is not valid JSON', { cause });
    }
    instances = isObj(body) && Array.isArray(body.instances) ? body.instances : [body];
  }
  let predictions: unknown;
  try {
    predictions = (JSON.parse(output.body) as Obj).predictions;
  } catch (cause) {
    throw new ParseError(source, line, 'endpointOutput.data is not valid JSON', { cause });
  }
  if (!Array.isArray(predictions)) throw new ParseError(source, line, 'endpointOutput.data has no "predictions" array');
  if (predictions.length !== instances.length)
    throw new ParseError(source, line, `${instances.length} instance(s) but ${predictions.length} prediction(s)`);
  return {
    eventId: meta.eventId,
    inferenceId: typeof meta.inferenceId === 'string' && meta.inferenceId !== '' ? meta.inferenceId : null,
    inferenceTime: typeof meta.inferenceTime === 'string' ? meta.inferenceTime : null,
    instances,
    predictions: predictions.map((p, k) => {
      if (!isObj(p)) throw new ParseError(source, line, `predictions[${k}] is not an object`);
      return {
        ...(typeof p.value === 'number' ? { value: p.value } : {}),
        ...(typeof p.label === 'string' || typeof p.label === 'number' ? { label: String(p.label) } : {}),
        ...(isObj(p.scores) ? { scores: p.scores as Record<string, number> } : {}),
      };
    }),
  };
}

/**
 * Parse Model Monitor ground-truth JSONL. `data` is CSV: one label, or one per instance of a batch.
 * @param tally when given, bad lines are counted there and skipped instead of thrown
 * @throws ParseError naming the source and line (only without a tally)
 */
export function parseGroundTruthLines(text: string, source = 'ground-truth', tally?: LineTally): GroundTruthRecord[] {
  return jsonLines(text, source, tally, (rec, line) => groundTruthRecord(rec, source, line));
}

/**
 * One ground-truth line (a line of a streamed object); `undefined` for a blank or (with a tally) skipped line.
 * @throws ParseError naming the source and line (only without a tally)
 */
export function parseGroundTruthLine(text: string, source: string, lineNo: number, tally?: LineTally): GroundTruthRecord | undefined {
  return jsonLine(text, lineNo, source, tally, (rec, line) => groundTruthRecord(rec, source, line));
}

function groundTruthRecord(rec: Obj, source: string, line: number): GroundTruthRecord {
  const gt = rec.groundTruthData;
  const meta = rec.eventMetadata;
  if (!isObj(gt) || (typeof gt.data !== 'string' && typeof gt.data !== 'number'))
    throw new ParseError(source, line, 'groundTruthData.data is missing');
  if (!isObj(meta) || typeof meta.eventId !== 'string' || meta.eventId === '')
    throw new ParseError(source, line, 'eventMetadata.eventId is missing');
  const encoding = String(gt.encoding ?? 'CSV').toUpperCase();
  const data = encoding === 'BASE64' ? Buffer.from(String(gt.data), 'base64').toString('utf8') : String(gt.data);
  let labels: string[];
  try {
    labels = encoding === 'JSON' ? [String(JSON.parse(data))] : csvFields(data.trim(), source, line);
  } catch (cause) {
    if (cause instanceof ParseError) throw cause;
    throw new ParseError(source, line, 'groundTruthData.data is not valid JSON', { cause });
  }
  return { eventId: meta.eventId, labels };
}

/**
 * Columns of captured instances, chunk by chunk, for a window too large to hold (issue 17): each
 * chunk has every feature's column (null where an instance lacks it), and the feature names seen and
 * the extra keys are kept across chunks, so the whole window's missing and extra columns are known at
 * the end. JSON instances by feature name, CSV rows by the manifest's feature order.
 */
export class CaptureColumnizer {
  /** Features some instance carried (null counts: the key was there). */
  readonly seen = new Set<string>();
  /** Instance keys that are not features, in first-seen order. */
  readonly extras = new Set<string>();
  constructor(private readonly features: readonly FeatureSpec[]) {}

  columns(records: readonly CaptureRecord[]): Record<string, (string | number | null)[]> {
    const { features, seen } = this;
    const cols: Record<string, (string | number | null)[]> = {};
    for (const f of features) cols[f.name] = [];
    for (const r of records) {
      for (const inst of r.instances) {
        if (Array.isArray(inst)) {
          features.forEach((f, k) => {
            const v = inst[k];
            cols[f.name]!.push(
              v === undefined || v === '' ? null : f.type === 'numeric' && Number.isFinite(Number(v)) ? Number(v) : (v as string),
            );
            if (v !== undefined) seen.add(f.name);
          });
        } else if (isObj(inst)) {
          for (const f of features) {
            const v = inst[f.name];
            if (v !== undefined) seen.add(f.name);
            cols[f.name]!.push(
              v === undefined || v === null ? null : typeof v === 'number' || typeof v === 'string' ? v : JSON.stringify(v),
            );
          }
          for (const key of Object.keys(inst)) if (!(key in cols)) this.extras.add(key);
        }
      }
    }
    return cols;
  }

  /** Features no instance of any chunk carried (missing_column_check). */
  missing(): string[] {
    return this.features.filter((f) => !this.seen.has(f.name)).map((f) => f.name);
  }
}

/**
 * Columns of captured instances for drift: JSON instances by feature name, CSV rows by the
 * manifest's feature order. Columns are absent when no instance has the feature (missing_column_check).
 */
export function captureToColumns(records: readonly CaptureRecord[], features: readonly FeatureSpec[]): Record<string, ColumnValues> {
  const columnizer = new CaptureColumnizer(features);
  const cols: Record<string, ColumnValues> = columnizer.columns(records);
  for (const name of columnizer.missing()) delete cols[name];
  // Extra keys become (all-null) columns so drift reports them as extra_column_check.
  const n = Object.values(cols)[0]?.length ?? 0;
  for (const key of columnizer.extras) cols[key] = new Array(n).fill(null);
  return cols;
}
