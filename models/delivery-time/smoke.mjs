#!/usr/bin/env node
/**
 * Smoke test of the whole delivery-time model on a small slice of real generated data: the
 * generator CLI writes 1,000 training and 300 check rows, the training CLI trains on them,
 * serve.mjs starts on a free port, and a JSON batch and a CSV batch must come back with one
 * sane prediction per row that beats the mean predictor; a bad request must get a 400 that
 * names the field; SIGTERM must stop the server cleanly. Exits 1 with the reason otherwise.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runMain } from './lib/args.mjs';
import { formatCsv, readCsvObjects } from './lib/csv.mjs';
import { invoke, runNode, startServe } from './lib/child.mjs';
import { regressionMetrics } from './lib/metrics.mjs';
import { FEATURES, LABEL } from './lib/schema.mjs';

class SmokeError extends Error {
  constructor(message) {
    super(message);
    this.name = 'SmokeError';
  }
}
const check = (ok, message) => {
  if (!ok) throw new SmokeError(message);
};

await runMain(async () => {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const work = mkdtempSync(join(tmpdir(), 'delivery-time-smoke-'));
  let server;
  try {
    runNode(here, 'generate.mjs', ['--seed', '101', '--rows', '1000', '--out', join(work, 'train.csv')]);
    runNode(here, 'generate.mjs', ['--seed', '102', '--rows', '300', '--out', join(work, 'check.csv')]);
    runNode(here, 'train.mjs', ['--data', join(work, 'train.csv'), '--out', join(work, 'model'), '--rounds', '80']);
    server = await startServe({ cwd: here, modelDir: join(work, 'model') });

    const ping = await fetch(`${server.url}/ping`);
    check(ping.status === 200, `GET /ping answered ${ping.status}`);

    const rows = readCsvObjects(join(work, 'check.csv')).rows;
    const instances = rows.map((r) => Object.fromEntries(FEATURES.map((f) => [f.name, f.type === 'numeric' ? Number(r[f.name]) : r[f.name]])));
    const json = await invoke(server.url, 'application/json', JSON.stringify({ instances }));
    check(json.status === 200, `JSON batch answered ${json.status}: ${JSON.stringify(json.body)}`);
    const values = json.body.predictions?.map((p) => p.value) ?? [];
    check(values.length === rows.length, `JSON batch: ${values.length} predictions for ${rows.length} rows`);
    check(values.every((v) => Number.isFinite(v) && v > 0 && v < 2000), `JSON batch: predictions outside (0, 2000) hours: ${values.filter((v) => !(v > 0 && v < 2000)).slice(0, 5)}`);

    const actual = rows.map((r) => Number(r[LABEL]));
    const mean = actual.reduce((s, v) => s + v, 0) / actual.length;
    const model = regressionMetrics(actual, values);
    const baseline = regressionMetrics(actual, actual.map(() => mean));
    check(model.mae < 0.6 * baseline.mae, `model MAE ${model.mae.toFixed(2)} is not clearly below the mean predictor's ${baseline.mae.toFixed(2)}`);

    const csv = await invoke(server.url, 'text/csv', formatCsv(rows.slice(0, 20).map((r) => FEATURES.map((f) => r[f.name]))));
    check(csv.status === 200, `CSV batch answered ${csv.status}: ${JSON.stringify(csv.body)}`);
    check(JSON.stringify(csv.body.predictions) === JSON.stringify(json.body.predictions.slice(0, 20)), 'CSV and JSON predictions of the same rows differ');

    const bad = await invoke(server.url, 'application/json', JSON.stringify({ instances: [{ ...instances[0], distance_km: 'far' }] }));
    check(bad.status === 400 && /distance_km/.test(bad.body.error), `a bad distance_km got ${bad.status} ${JSON.stringify(bad.body)}`);

    const code = await server.stop();
    server = undefined;
    check(code === 0, `serve.mjs exited with ${code} on SIGTERM`);
    process.stdout.write(`smoke ok: ${rows.length} rows, MAE ${model.mae.toFixed(2)} h vs mean predictor ${baseline.mae.toFixed(2)} h\n`);
  } finally {
    await server?.stop();
    rmSync(work, { recursive: true, force: true });
  }
});
