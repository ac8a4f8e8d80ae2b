/**
 * The ticket-triage model as a whole: fit from rows, save to and load from a model directory
 * (`model.json`), and score instances the way the server answers them.
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { FEATURES, LABEL } from './schema.mjs';
import { fitVectorizer, vectorize, width } from './features.mjs';
import { trainSoftmax, predictProba } from './softmax.mjs';

export const MODEL_FORMAT = 'mlship-ticket-triage-softmax/1';

/** A model directory that cannot be loaded; the message names the file. */
export class ModelLoadError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = 'ModelLoadError';
  }
}

/**
 * @param {Record<string, string>[]} rows rows with the label
 * @param {Partial<import('./softmax.mjs').DEFAULT_PARAMS> & { minDf?: number }} [params]
 */
export function fitModel(rows, { minDf, ...params } = {}) {
  const vectorizer = fitVectorizer(rows, { minDf });
  const X = rows.map((r) => vectorize(vectorizer, r));
  const clf = trainSoftmax(X, rows.map((r) => r[LABEL]), width(vectorizer), params);
  // Six decimals keep the file small and change no prediction that matters.
  clf.weights = clf.weights.map((w) => Math.round(w * 1e6) / 1e6);
  return { format: MODEL_FORMAT, task: 'classification', label: LABEL, features: FEATURES, vectorizer, classifier: clf };
}

/** Class probabilities for each row, as objects keyed by class. */
export function predictScores(model, instances) {
  const { classes } = model.classifier;
  return instances.map((r) => {
    const p = predictProba(model.classifier, vectorize(model.vectorizer, r));
    return Object.fromEntries(classes.map((c, k) => [c, p[k]]));
  });
}

/** The class with the highest score (first class on a tie). */
export function argmax(scores) {
  let best;
  for (const [c, s] of Object.entries(scores)) if (best === undefined || s > scores[best]) best = c;
  return best;
}

/** Predictions in the inference contract's shape, `{ label, scores }`, scores to 4 decimals. */
export function predictInstances(model, instances) {
  return predictScores(model, instances).map((scores) => ({
    label: argmax(scores),
    scores: Object.fromEntries(Object.entries(scores).map(([c, s]) => [c, Math.round(s * 1e4) / 1e4])),
  }));
}

/** Write `model.json` (and anything in `extra`, as JSON files) into `dir`. */
export function saveModel(dir, model, extra = {}) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.json'), JSON.stringify(model));
  for (const [name, doc] of Object.entries(extra)) writeFileSync(join(dir, name), JSON.stringify(doc, null, 2) + '\n');
}

/** Read and check `dir/model.json`. */
export function loadModel(dir) {
  const file = join(dir, 'model.json');
  let model;
  try {
    model = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ModelLoadError(`${file}: cannot load the model: ${err.message}`, { cause: err });
  }
  if (model?.format !== MODEL_FORMAT) {
    throw new ModelLoadError(`${file}: format is ${JSON.stringify(model?.format)}, expected "${MODEL_FORMAT}"`);
  }
  return model;
}
