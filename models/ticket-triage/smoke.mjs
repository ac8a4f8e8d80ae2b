#!/usr/bin/env node
/**
 * Smoke test of the whole ticket-triage model on a small slice of real generated data: the
 * generator CLI writes 1,000 training and 300 check tickets, the training CLI trains on
 * them, serve.mjs starts on a free port, and a JSON batch and a CSV batch must come back
 * with one prediction per ticket — a known label and scores that sum to 1 — that beats the
 * majority class; a bad request must get a 400 that names the field; SIGTERM must stop the
 * server cleanly. Exits 1 with the reason otherwise.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runMain } from './lib/args.mjs';
import { formatCsv, readCsvObjects } from './lib/csv.mjs';
import { invoke, runNode, startServe } from './lib/child.mjs';
import { CATEGORIES, FEATURES, LABEL } from './lib/schema.mjs';

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
  const work = mkdtempSync(join(tmpdir(), 'ticket-triage-smoke-'));
  let server;
  try {
    runNode(here, 'generate.mjs', ['--seed', '101', '--rows', '1000', '--out', join(work, 'train.csv')]);
    runNode(here, 'generate.mjs', ['--seed', '102', '--rows', '300', '--out', join(work, 'check.csv')]);
    runNode(here, 'train.mjs', ['--data', join(work, 'train.csv'), '--out', join(work, 'model')]);
    server = await startServe({ cwd: here, modelDir: join(work, 'model') });

    const ping = await fetch(`${server.url}/ping`);
    check(ping.status === 200, `GET /ping answered ${ping.status}`);

    const rows = readCsvObjects(join(work, 'check.csv')).rows;
    const instances = rows.map((r) => Object.fromEntries(FEATURES.map((f) => [f.name, r[f.name]])));
    const json = await invoke(server.url, 'application/json', JSON.stringify({ instances }));
    check(json.status === 200, `JSON batch answered ${json.status}: ${JSON.stringify(json.body)}`);
    const predictions = json.body.predictions ?? [];
    check(predictions.length === rows.length, `JSON batch: ${predictions.length} predictions for ${rows.length} rows`);
    for (const [i, p] of predictions.entries()) {
      check(CATEGORIES.includes(p.label), `prediction ${i}: unknown label ${JSON.stringify(p.label)}`);
      const sum = Object.values(p.scores).reduce((s, v) => s + v, 0);
      check(Math.abs(sum - 1) < 0.01, `prediction ${i}: scores sum to ${sum}`);
      check(Object.entries(p.scores).every(([c, s]) => s <= p.scores[p.label] || c === p.label), `prediction ${i}: label is not the top score`);
    }

    const counts = new Map();
    for (const r of rows) counts.set(r[LABEL], (counts.get(r[LABEL]) ?? 0) + 1);
    const majority = Math.max(...counts.values()) / rows.length;
    const accuracy = predictions.filter((p, i) => p.label === rows[i][LABEL]).length / rows.length;
    check(accuracy > majority + 0.3, `accuracy ${accuracy.toFixed(3)} is not clearly above the majority class's ${majority.toFixed(3)}`);

    const csv = await invoke(server.url, 'text/csv', formatCsv(rows.slice(0, 20).map((r) => FEATURES.map((f) => r[f.name]))));
    check(csv.status === 200, `CSV batch answered ${csv.status}: ${JSON.stringify(csv.body)}`);
    check(JSON.stringify(csv.body.predictions) === JSON.stringify(predictions.slice(0, 20)), 'CSV and JSON predictions of the same rows differ');

    const bad = await invoke(server.url, 'application/json', JSON.stringify({ instances: [{ ...instances[0], text: 42 }] }));
    check(bad.status === 400 && /text/.test(bad.body.error), `a numeric text got ${bad.status} ${JSON.stringify(bad.body)}`);

    const code = await server.stop();
    server = undefined;
    check(code === 0, `serve.mjs exited with ${code} on SIGTERM`);
    process.stdout.write(`smoke ok: ${rows.length} tickets, accuracy ${accuracy.toFixed(3)} vs majority class ${majority.toFixed(3)}\n`);
  } finally {
    await server?.stop();
    rmSync(work, { recursive: true, force: true });
  }
});
