/**
 * Ground-truth labels for `mlship ground-truth`: read a JSONL or CSV file of labels, check every
 * line, and write them in SageMaker Model Monitor's ground-truth format, which the drift check
 * joins to the captured predictions on inferenceId (lambdas/ml/capture.ts, lambdas/ml/concept.ts).
 * No I/O here: text in, lines or errors out.
 */
import { parseCsv } from '../../lambdas/ml/csv';
import { parseGroundTruthLines } from '../../lambdas/ml/capture';

/** One label for one captured request (the InferenceId sent with InvokeEndpoint). */
export interface GroundTruthLabel {
  inferenceId: string;
  label: string;
  /** 1-based line of the input file, for messages. */
  line: number;
}

/** One problem in the input, with its file and line. */
export interface LabelProblem {
  file: string;
  line: number;
  message: string;
}

/** The file could not be accepted; every problem found (up to a limit) is listed. */
export class GroundTruthFileError extends Error {
  constructor(readonly problems: LabelProblem[]) {
    super(problems.map((p) => `${p.file}:${p.line}: ${p.message}`).join('\n'));
    this.name = 'GroundTruthFileError';
  }
}

/** At most this many problems are listed: a wrong file usually fails on every line. */
const MAX_PROBLEMS = 10;

/**
 * Parse a labels file. JSONL lines are `{"inferenceId": "...", "label": ...}` or Model Monitor's
 * own `{"groundTruthData": {"data": ..., "encoding": "CSV"}, "eventMetadata": {"eventId": ...}}`;
 * CSV has a header with `inferenceId` and `label` columns. A regression model's labels must be
 * numbers. `format` defaults to the file extension (`.csv` is CSV, anything else JSONL).
 * @throws GroundTruthFileError naming the file and line of each problem (nothing is accepted)
 */
export function parseLabelsFile(
  text: string,
  file: string,
  opts: { task?: 'regression' | 'classification'; format?: 'jsonl' | 'csv' } = {},
): GroundTruthLabel[] {
  const format = opts.format ?? (/\.csv$/i.test(file) ? 'csv' : 'jsonl');
  const problems: LabelProblem[] = [];
  const problem = (line: number, message: string) => {
    if (problems.length < MAX_PROBLEMS) problems.push({ file, line, message });
  };
  const labels = format === 'csv' ? fromCsv(text, file, problem) : fromJsonl(text, file, problem);
  for (const l of labels) {
    if (l.inferenceId.trim() === '') problem(l.line, 'inferenceId is empty');
    if (l.label.trim() === '') problem(l.line, 'label is empty');
    else if (opts.task === 'regression' && !Number.isFinite(Number(l.label)))
      problem(l.line, `label ${JSON.stringify(l.label)} is not a number (a regression model's label is numeric)`);
  }
  if (!problems.length && !labels.length) problem(1, 'no labels in the file');
  if (problems.length) throw new GroundTruthFileError(problems);
  return labels;
}

type Report = (line: number, message: string) => void;

function fromJsonl(text: string, file: string, problem: Report): GroundTruthLabel[] {
  const out: GroundTruthLabel[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    const trimmed = raw.trim();
    if (trimmed === '') return;
    let rec: unknown;
    try {
      rec = JSON.parse(trimmed);
    } catch (err) {
      problem(line, `not valid JSON (${(err as Error).message})`);
      return;
    }
    if (typeof rec !== 'object' || rec === null || Array.isArray(rec)) {
      problem(line, 'expected a JSON object {"inferenceId": "...", "label": ...}');
      return;
    }
    const r = rec as Record<string, unknown>;
    if ('groundTruthData' in r) {
      // Already Model Monitor's format: the drift check's own parser decides, so both agree.
      try {
        for (const g of parseGroundTruthLines(trimmed, file))
          out.push(...g.labels.map((label) => ({ inferenceId: g.eventId, label, line })));
      } catch (err) {
        problem(line, (err as Error).message.replace(`${file} line 1: `, ''));
      }
      return;
    }
    const id = r.inferenceId ?? r.InferenceId;
    if (typeof id !== 'string') return problem(line, 'inferenceId is missing (a string: the InferenceId of the request)');
    if (typeof r.label !== 'string' && typeof r.label !== 'number') return problem(line, 'label is missing (a string or a number)');
    out.push({ inferenceId: id, label: String(r.label), line });
  });
  return out;
}

function fromCsv(text: string, file: string, problem: Report): GroundTruthLabel[] {
  let csv;
  try {
    csv = parseCsv(text, file);
  } catch (err) {
    const e = err as Error & { line?: number };
    problem(e.line ?? 1, e.message.replace(/^.* line \d+: /, ''));
    return [];
  }
  const idCol = csv.header.findIndex((h) => /^inferenceid$/i.test(h.trim()));
  const labelCol = csv.header.findIndex((h) => /^label$/i.test(h.trim()));
  if (idCol < 0 || labelCol < 0) {
    problem(1, `the header needs the columns inferenceId and label (found: ${csv.header.join(', ')})`);
    return [];
  }
  // One row per line (labels have no line breaks); line 1 is the header.
  return csv.rows.map((row, i) => ({ inferenceId: row[idCol] ?? '', label: row[labelCol] ?? '', line: i + 2 }));
}

/** Model Monitor ground-truth JSONL, one line per label, as the drift check reads it. */
export function toModelMonitorLines(labels: readonly GroundTruthLabel[]): string {
  // `data` is a CSV record: a label with a comma or a quote is quoted, or it would read as two labels.
  const csvField = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  return labels
    .map(
      (l) =>
        `${JSON.stringify({ groundTruthData: { data: csvField(l.label), encoding: 'CSV' }, eventMetadata: { eventId: l.inferenceId }, eventVersion: '0' })}\n`,
    )
    .join('');
}

/** `ground-truth/<model>/yyyy/mm/dd/hh/`: the drift check takes the files of the hours its window overlaps. */
export function groundTruthKey(model: string, at: Date, name: string): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `ground-truth/${model}/${at.getUTCFullYear()}/${p(at.getUTCMonth() + 1)}/${p(at.getUTCDate())}/${p(at.getUTCHours())}/${name}`;
}
