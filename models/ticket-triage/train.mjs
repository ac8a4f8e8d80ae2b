#!/usr/bin/env node
/**
 * Train the ticket-triage model: TF-IDF (unigrams + bigrams) and one-hot categoricals into
 * L2-regularized softmax regression, written to `<out>/model.json` with `<out>/training.json`
 * (parameters, data digest, metrics on the training data and, with --holdout, on the holdout
 * against the majority-class predictor). Timings go to stdout only, so the same data and seed
 * give byte-identical files (a reproducible bundle).
 *
 *   node train.mjs --data data/train.csv --out out/model [--holdout data/holdout.csv] [--seed 1] [--epochs 12]
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isMain, parseArgs, runMain } from './lib/args.mjs';
import { readCsvObjects } from './lib/csv.mjs';
import { classificationMetrics } from './lib/metrics.mjs';
import { argmax, fitModel, predictScores, saveModel } from './lib/model.mjs';
import { DEFAULT_PARAMS } from './lib/softmax.mjs';
import { FEATURES, LABEL } from './lib/schema.mjs';

/** Rows of a labelled CSV file; a missing value names the file, row and column. */
export function readLabelled(path) {
  return readCsvObjects(path).rows.map((r, i) => {
    for (const name of [...FEATURES.map((f) => f.name), LABEL]) {
      if (r[name] === undefined || (r[name] === '' && name !== 'text')) throw new Error(`${path} row ${i + 2}: ${name} is missing`);
    }
    return r;
  });
}

/** Metrics of `model` on `rows`, next to the majority-class predictor of the training data. */
export function evaluate(model, rows, majority) {
  const actual = rows.map((r) => r[LABEL]);
  const scores = predictScores(model, rows);
  const { classes } = model.classifier;
  return {
    model: classificationMetrics(actual, scores.map(argmax), scores, classes),
    baseline: classificationMetrics(actual, actual.map(() => majority), undefined, classes),
  };
}

/** The most frequent label. */
export function majorityLabel(rows) {
  const counts = new Map();
  for (const r of rows) counts.set(r[LABEL], (counts.get(r[LABEL]) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0][0];
}

const fmt = (m) => `accuracy ${m.accuracy.toFixed(3)} macro_f1 ${m.macro_f1.toFixed(3)}${m.log_loss !== undefined ? ` log_loss ${m.log_loss.toFixed(3)}` : ''}`;

if (isMain(import.meta.url)) {
  await runMain(() => {
    const args = parseArgs(process.argv.slice(2), {
      data: { type: 'string', default: 'data/train.csv' },
      out: { type: 'string', default: 'out/model' },
      holdout: { type: 'string' },
      seed: { type: 'number', default: DEFAULT_PARAMS.seed },
      epochs: { type: 'number', default: DEFAULT_PARAMS.epochs },
    });
    const started = performance.now();
    const rows = readLabelled(args.data);
    const model = fitModel(rows, { seed: args.seed, epochs: args.epochs });
    const trainSeconds = (performance.now() - started) / 1000;
    const majority = majorityLabel(rows);
    const report = {
      algorithm: 'TF-IDF (1-2 grams) + one-hot categoricals, L2-regularized softmax regression (mini-batch SGD)',
      params: model.classifier.params,
      vocabulary: model.vectorizer.vocabulary.length,
      data: { path: args.data, rows: rows.length, sha256: createHash('sha256').update(readFileSync(args.data)).digest('hex') },
      train: evaluate(model, rows, majority),
    };
    process.stdout.write(`trained on ${rows.length} rows (${report.vocabulary} terms) in ${trainSeconds.toFixed(2)} s; train ${fmt(report.train.model)}\n`);
    if (args.holdout) {
      report.holdout = evaluate(model, readLabelled(args.holdout), majority);
      process.stdout.write(`holdout ${fmt(report.holdout.model)} | majority class (${majority}) ${fmt(report.holdout.baseline)}\n`);
    }
    saveModel(args.out, model, { 'training.json': report });
    process.stdout.write(`model written to ${args.out}/model.json\n`);
  });
}
