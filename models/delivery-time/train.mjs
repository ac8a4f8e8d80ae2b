#!/usr/bin/env node
/**
 * Train the delivery-time model: gradient-boosted trees on the CSV training data, written to
 * `<out>/model.json` with `<out>/training.json` (parameters, data digest, metrics on the
 * training data and, with --holdout, on the holdout against the mean predictor). Timings go
 * to stdout only, so the same data and seed give byte-identical files (a reproducible bundle).
 *
 *   node train.mjs --data data/train.csv --out out/model [--holdout data/holdout.csv] [--seed 1] [--rounds 200]
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isMain, parseArgs, runMain } from './lib/args.mjs';
import { readCsvObjects } from './lib/csv.mjs';
import { typeRow } from './lib/features.mjs';
import { DEFAULT_PARAMS } from './lib/gbt.mjs';
import { regressionMetrics } from './lib/metrics.mjs';
import { fitModel, predictRows, saveModel } from './lib/model.mjs';
import { LABEL } from './lib/schema.mjs';

/** Typed rows of a labelled CSV file; a bad value names the file and row. */
export function readLabelled(path) {
  return readCsvObjects(path).rows.map((r, i) => {
    const row = typeRow(r, `${path} row ${i + 2}`);
    const y = Number(r[LABEL]);
    if (r[LABEL] === undefined || r[LABEL] === '' || !Number.isFinite(y)) {
      throw new Error(`${path} row ${i + 2}: ${LABEL}: "${r[LABEL]}" is not a number`);
    }
    row[LABEL] = y;
    return row;
  });
}

/** Metrics of `model` on `rows`, next to the best constant (the training mean). */
export function evaluate(model, rows) {
  const actual = rows.map((r) => r[LABEL]);
  return {
    model: regressionMetrics(actual, predictRows(model, rows)),
    baseline: regressionMetrics(actual, actual.map(() => model.gbt.base)),
  };
}

const fmt = (m) => `mae ${m.mae.toFixed(2)} rmse ${m.rmse.toFixed(2)} r2 ${m.r2.toFixed(3)}`;

if (isMain(import.meta.url)) {
  await runMain(() => {
    const args = parseArgs(process.argv.slice(2), {
      data: { type: 'string', default: 'data/train.csv' },
      out: { type: 'string', default: 'out/model' },
      holdout: { type: 'string' },
      seed: { type: 'number', default: DEFAULT_PARAMS.seed },
      rounds: { type: 'number', default: DEFAULT_PARAMS.rounds },
    });
    const started = performance.now();
    const rows = readLabelled(args.data);
    const model = fitModel(rows, { seed: args.seed, rounds: args.rounds });
    const trainSeconds = (performance.now() - started) / 1000;
    const report = {
      algorithm: 'gradient-boosted regression trees (squared loss, histogram splits)',
      params: model.gbt.params,
      data: { path: args.data, rows: rows.length, sha256: createHash('sha256').update(readFileSync(args.data)).digest('hex') },
      train: evaluate(model, rows),
    };
    process.stdout.write(`trained on ${rows.length} rows in ${trainSeconds.toFixed(2)} s; train ${fmt(report.train.model)}\n`);
    if (args.holdout) {
      report.holdout = evaluate(model, readLabelled(args.holdout));
      process.stdout.write(`holdout ${fmt(report.holdout.model)} | mean predictor ${fmt(report.holdout.baseline)}\n`);
    }
    saveModel(args.out, model, { 'training.json': report });
    process.stdout.write(`model written to ${args.out}/model.json\n`);
  });
}
