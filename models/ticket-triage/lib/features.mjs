/**
 * Ticket text and categoricals to a sparse vector, as scikit-learn's TfidfVectorizer
 * (sublinear_tf, smooth_idf, norm='l2', ngram_range=(1, 2), min_df) plus one-hot columns:
 *
 * - tokens are lowercase words; digits-only runs (order numbers, amounts) are dropped;
 * - a term is a unigram or a bigram with document frequency >= `minDf` in training;
 * - weight = (1 + ln tf) * idf, idf = ln((1 + N) / (1 + df)) + 1, then the text part is
 *   scaled to unit length;
 * - each categorical value seen in training is a 0/1 column; an unseen one (a new channel)
 *   sets none, so the model falls back on the text.
 */
import { FEATURES } from './schema.mjs';

/** Lowercase word tokens of `text`, without numbers. */
export function tokenize(text) {
  return text.toLowerCase().match(/[a-z][a-z0-9']*/g) ?? [];
}

/** Unigrams and bigrams of a token list. */
export function terms(tokens) {
  const out = tokens.slice();
  for (let i = 1; i < tokens.length; i++) out.push(`${tokens[i - 1]} ${tokens[i]}`);
  return out;
}

/**
 * Learn the vocabulary, idf and categorical columns from training rows.
 * @param {{ text: string }[]} rows
 * @param {{ minDf?: number, maxTerms?: number }} [options]
 */
export function fitVectorizer(rows, { minDf = 2, maxTerms = 50_000 } = {}) {
  const df = new Map();
  for (const r of rows) for (const t of new Set(terms(tokenize(r.text)))) df.set(t, (df.get(t) ?? 0) + 1);
  // Most frequent first, ties alphabetical, so the vocabulary is the same on every run.
  const kept = [...df].filter(([, c]) => c >= minDf).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, maxTerms);
  const n = rows.length;
  const categorical = [];
  for (const f of FEATURES) {
    if (f.type !== 'categorical') continue;
    for (const value of [...new Set(rows.map((r) => String(r[f.name])))].sort()) categorical.push({ source: f.name, value });
  }
  return {
    vocabulary: kept.map(([t]) => t),
    idf: kept.map(([, c]) => Math.log((1 + n) / (1 + c)) + 1),
    categorical,
  };
}

/** Index lookups built once per loaded vectorizer (not serialized). */
function indexOf(vectorizer) {
  if (!vectorizer._index) {
    Object.defineProperty(vectorizer, '_index', {
      value: {
        terms: new Map(vectorizer.vocabulary.map((t, i) => [t, i])),
        categorical: new Map(vectorizer.categorical.map((c, i) => [`${c.source}=${c.value}`, vectorizer.vocabulary.length + i])),
      },
    });
  }
  return vectorizer._index;
}

/** Number of columns of the vectors `vectorize` returns. */
export function width(vectorizer) {
  return vectorizer.vocabulary.length + vectorizer.categorical.length;
}

/**
 * One row as a sparse vector.
 * @param {ReturnType<typeof fitVectorizer>} vectorizer
 * @param {Record<string, string>} row
 * @returns {{ index: Int32Array, value: Float64Array }}
 */
export function vectorize(vectorizer, row) {
  const idx = indexOf(vectorizer);
  const counts = new Map();
  for (const t of terms(tokenize(row.text))) {
    const j = idx.terms.get(t);
    if (j !== undefined) counts.set(j, (counts.get(j) ?? 0) + 1);
  }
  const index = [];
  const value = [];
  let norm = 0;
  for (const [j, c] of counts) {
    const w = (1 + Math.log(c)) * vectorizer.idf[j];
    index.push(j);
    value.push(w);
    norm += w * w;
  }
  norm = Math.sqrt(norm) || 1;
  for (let k = 0; k < value.length; k++) value[k] /= norm;
  for (const f of FEATURES) {
    if (f.type !== 'categorical') continue;
    const j = idx.categorical.get(`${f.name}=${row[f.name]}`);
    if (j !== undefined) {
      index.push(j);
      value.push(1);
    }
  }
  return { index: Int32Array.from(index), value: Float64Array.from(value) };
}
