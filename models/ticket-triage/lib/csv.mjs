/**
 * RFC 4180 CSV, hand-written because the models take no npm dependencies. Quoted fields may
 * hold commas, quotes ("") and newlines, which ticket text needs.
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/** A CSV text that cannot be parsed; the message names the line. */
export class CsvError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = 'CsvError';
  }
}

/**
 * Parse CSV text into rows of strings. Blank lines are skipped.
 * @param {string} text
 * @returns {string[][]}
 */
export function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  let fieldStarted = false;
  let line = 1;
  const endRow = () => {
    if (fieldStarted || row.length > 0 || field !== '') {
      row.push(field);
      rows.push(row);
    }
    row = [];
    field = '';
    fieldStarted = false;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else {
          quoted = false;
        }
      } else {
        if (c === '\n') line++;
        field += c;
      }
    } else if (c === '"') {
      if (field !== '') throw new CsvError(`line ${line}: a quote inside an unquoted field`);
      quoted = true;
      fieldStarted = true;
    } else if (c === ',') {
      row.push(field);
      field = '';
      fieldStarted = true;
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      endRow();
      line++;
    } else {
      field += c;
    }
  }
  if (quoted) throw new CsvError(`line ${line}: unterminated quoted field`);
  endRow();
  return rows;
}

function formatField(value) {
  const s = value === null || value === undefined ? '' : String(value);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** @param {unknown[][]} rows @returns {string} CSV text ending in a newline */
export function formatCsv(rows) {
  return rows.map((r) => r.map(formatField).join(',')).join('\n') + '\n';
}

/**
 * Read a CSV file with a header row into objects of strings.
 * @param {string} path
 * @returns {{ header: string[], rows: Record<string, string>[] }}
 */
export function readCsvObjects(path) {
  let text;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CsvError(`${path}: cannot read: ${err.message}`, { cause: err });
  }
  let parsed;
  try {
    parsed = parseCsv(text);
  } catch (err) {
    throw new CsvError(`${path}: ${err.message}`, { cause: err });
  }
  const [header, ...body] = parsed;
  if (!header) throw new CsvError(`${path}: empty file, expected a header row`);
  const rows = body.map((values, i) => {
    if (values.length !== header.length) {
      throw new CsvError(`${path}: row ${i + 2} has ${values.length} values, the header has ${header.length}`);
    }
    return Object.fromEntries(header.map((h, j) => [h, values[j]]));
  });
  return { header, rows };
}

/** Write objects as CSV with the given column order, creating the directory. */
export function writeCsvObjects(path, columns, rows) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, formatCsv([columns, ...rows.map((r) => columns.map((c) => r[c]))]));
}
