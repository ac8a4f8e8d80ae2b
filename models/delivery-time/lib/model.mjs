/**
 * The delivery-time model as a whole: fit from typed rows, save to and load from a model
 * directory (`model.json`), and score instances the way the server answers them.
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { FEATURES, LABEL } from './schema.mjs';
import { fitEncoder, encode } from './features.mjs';
import { trainGbt, predictGbt } from './gbt.mjs';

export const MODEL_FORMAT = 'mlship-delivery-time-gbt/1';

/** A model directory that cannot be loaded; the message names the file. */
export class ModelLoadError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = 'ModelLoadError';
  }
}

/**
 * @param {Record<string, unknown>[]} rows typed rows with the label
 * @param {Partial<import('./gbt.mjs').DEFAULT_PARAMS>} [params]
 */
export function fitModel(rows, params) {
  const encoder = fitEncoder(rows);
  const X = rows.map((r) => encode(encoder, r));
  const y = Float64Array.from(rows, (r) => r[LABEL]);
  const gbt = trainGbt(X, y, params);
  const importance = Object.fromEntries(
    encoder.columns.map((c, j) => [c.name, gbt.gain[j]]).sort((a, b) => b[1] - a[1]),
  );
  return { format: MODEL_FORMAT, task: 'regression', label: LABEL, features: FEATURES, encoder, gbt: { params: gbt.params, base: gbt.base, trees: gbt.trees }, importance };
}

/** Predicted hours for typed instances. */
export function predictRows(model, instances) {
  return instances.map((r) => predictGbt(model.gbt, encode(model.encoder, r)));
}

/** Predictions in the inference contract's shape, `{ value }` rounded to 0.01 h. */
export function predictInstances(model, instances) {
  return predictRows(model, instances).map((v) => ({ value: Math.round(v * 100) / 100 }));
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
