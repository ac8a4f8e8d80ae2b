/**
 * Turns a delivery (typed feature values) into the numeric vector the trees split on:
 * numeric features as they are, each categorical as one 0/1 column per category seen in
 * training. A category the training data never had sets none of its columns, so the
 * trees treat it like "none of the known ones" instead of failing the request.
 */
import { FEATURES } from './schema.mjs';

/** Training data that cannot be encoded; the message names the row and the field. */
export class FeatureError extends Error {
  constructor(message) {
    super(message);
    this.name = 'FeatureError';
  }
}

/**
 * Learn the encoding (the category lists) from training rows.
 * @param {Record<string, unknown>[]} rows
 * @returns {{ columns: ({ name: string, source: string, kind: 'numeric' } | { name: string, source: string, kind: 'onehot', value: string })[] }}
 */
export function fitEncoder(rows) {
  const columns = [];
  for (const f of FEATURES) {
    if (f.type === 'numeric') {
      columns.push({ name: f.name, source: f.name, kind: 'numeric' });
      continue;
    }
    const seen = [...new Set(rows.map((r) => String(r[f.name])))].sort();
    for (const value of seen) columns.push({ name: `${f.name}=${value}`, source: f.name, kind: 'onehot', value });
  }
  return { columns };
}

/**
 * @param {ReturnType<typeof fitEncoder>} encoder
 * @param {Record<string, unknown>} row typed values (numbers for numeric features)
 * @returns {Float64Array}
 */
export function encode(encoder, row) {
  const x = new Float64Array(encoder.columns.length);
  encoder.columns.forEach((c, j) => {
    x[j] = c.kind === 'numeric' ? row[c.source] : row[c.source] === c.value ? 1 : 0;
  });
  return x;
}

/**
 * Type the string values of a CSV row (numbers for numeric features); `where` names the row
 * in errors.
 * @param {Record<string, string>} row
 * @param {string} where
 */
export function typeRow(row, where) {
  const out = { ...row };
  for (const f of FEATURES) {
    if (row[f.name] === undefined || row[f.name] === '') throw new FeatureError(`${where}: ${f.name} is missing`);
    if (f.type === 'numeric') {
      const n = Number(row[f.name]);
      if (!Number.isFinite(n)) throw new FeatureError(`${where}: ${f.name}: "${row[f.name]}" is not a number`);
      out[f.name] = n;
    }
  }
  return out;
}
