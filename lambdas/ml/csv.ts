/**
 * A small RFC 4180 CSV parser for the bundle's data files (header row, quoted fields with "" escapes,
 * CRLF or LF). Hand-written rather than a dependency: it is ~60 lines, I/O-free, and keeps the
 * Lambda bundles small; the bundle's files are produced by our own example models.
 */
import { MissingColumnError, ParseError } from './errors';
import type { ColumnValues, Columns } from './types';

export interface ParsedCsv {
  header: string[];
  rows: string[][];
}

/**
 * Parse CSV text with a header row. Every row must have as many fields as the header.
 * @param source the file name used in error messages
 * @throws ParseError naming the line (unterminated quote, wrong field count, empty header)
 */
export function parseCsv(text: string, source = 'csv'): ParsedCsv {
  const records: string[][] = [];
  const lines: number[] = [];
  let field = '';
  let record: string[] = [];
  let line = 1;
  let recordLine = 1;
  let i = 0;
  const n = text.length;
  if (text.charCodeAt(0) === 0xfeff) i = 1; // BOM
  let atFieldStart = true;
  while (i < n) {
    const ch = text[i]!;
    if (atFieldStart && ch === '"') {
      const startLine = line;
      i++;
      for (;;) {
        if (i >= n) throw new ParseError(source, startLine, 'unterminated quoted field');
        const c = text[i]!;
        if (c === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (c === '\n') line++;
        field += c;
        i++;
      }
      const next = text[i];
      if (next !== undefined && next !== ',' && next !== '\n' && next !== '\r')
        throw new ParseError(source, line, `unexpected character ${JSON.stringify(next)} after a closing quote`);
      atFieldStart = false;
      continue;
    }
    if (ch === ',') {
      record.push(field);
      field = '';
      atFieldStart = true;
      i++;
    } else if (ch === '\n' || ch === '\r') {
      record.push(field);
      records.push(record);
      lines.push(recordLine);
      record = [];
      field = '';
      atFieldStart = true;
      i += ch === '\r' && text[i + 1] === '\n' ? 2 : 1;
      line++;
      recordLine = line;
    } else {
      field += ch;
      atFieldStart = false;
      i++;
    }
  }
  if (!atFieldStart || field !== '' || record.length > 0) {
    record.push(field);
    records.push(record);
    lines.push(recordLine);
  }
  // Blank lines (a single empty field) carry no data.
  const kept = records.map((r, k) => [r, lines[k]!] as const).filter(([r]) => !(r.length === 1 && r[0] === ''));
  if (kept.length === 0) throw new ParseError(source, 1, 'no header row');
  const [header, headerLine] = kept[0]!;
  header.forEach((h, k) => {
    if (h.trim() === '') throw new ParseError(source, headerLine, `header column ${k + 1} is empty`);
  });
  const rows = kept.slice(1).map(([r, ln]) => {
    if (r.length !== header.length) throw new ParseError(source, ln, `${r.length} fields, the header has ${header.length}`);
    return r;
  });
  return { header: header.map((h) => h.trim()), rows };
}

/** Rows of a parsed CSV as objects keyed by header, e.g. for computeBaseline. */
export function* csvRecords(csv: ParsedCsv): Generator<Record<string, string>> {
  for (const row of csv.rows) {
    const rec: Record<string, string> = {};
    csv.header.forEach((h, k) => (rec[h] = row[k]!));
    yield rec;
  }
}

/**
 * Columns for the named features from a parsed CSV. Numeric columns become numbers where the
 * field parses as one, null where it is empty, and keep the string otherwise (reported by drift
 * as a data_type_check); other types stay strings with '' as null.
 * @throws MissingColumnError when a feature is not in the header
 */
export function toColumns(
  csv: ParsedCsv,
  features: readonly { name: string; type: string }[],
  source = 'csv',
): Record<string, ColumnValues> {
  const out: Record<string, ColumnValues> = {};
  for (const f of features) {
    const k = csv.header.indexOf(f.name);
    if (k < 0) throw new MissingColumnError(f.name, source);
    if (f.type === 'numeric') {
      out[f.name] = csv.rows.map((r) => {
        const v = r[k]!.trim();
        if (v === '') return null;
        const x = Number(v);
        return Number.isNaN(x) ? v : x;
      });
    } else {
      out[f.name] = csv.rows.map((r) => (r[k] === '' ? null : r[k]!));
    }
  }
  return out satisfies Columns;
}
