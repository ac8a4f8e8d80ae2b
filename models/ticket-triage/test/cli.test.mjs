import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { invoke, runNode, startServe } from '../lib/child.mjs';
import { readCsvObjects } from '../lib/csv.mjs';
import { COLUMNS } from '../lib/schema.mjs';

const here = fileURLToPath(new URL('..', import.meta.url));

describe('CLI: generate, train, serve', () => {
  let work;
  before(() => {
    work = mkdtempSync(join(tmpdir(), 'ticket-triage-cli-'));
    runNode(here, 'generate.mjs', ['--seed', '5', '--rows', '800', '--out', join(work, 'train.csv')]);
    runNode(here, 'generate.mjs', ['--seed', '6', '--rows', '200', '--out', join(work, 'holdout.csv')]);
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it('generate writes the header and the asked number of rows, text with commas intact', () => {
    const { header, rows } = readCsvObjects(join(work, 'train.csv'));
    assert.deepEqual(header, COLUMNS);
    assert.equal(rows.length, 800);
    assert.ok(rows.some((r) => r.text.includes(',')));
  });

  it('train is deterministic for a seed and reports holdout metrics against the majority class', () => {
    const out = runNode(here, 'train.mjs', ['--data', join(work, 'train.csv'), '--holdout', join(work, 'holdout.csv'), '--out', join(work, 'a'), '--epochs', '5']);
    runNode(here, 'train.mjs', ['--data', join(work, 'train.csv'), '--out', join(work, 'b'), '--epochs', '5']);
    assert.match(out, /holdout accuracy/);
    assert.equal(readFileSync(join(work, 'a', 'model.json'), 'utf8'), readFileSync(join(work, 'b', 'model.json'), 'utf8'));
    const report = JSON.parse(readFileSync(join(work, 'a', 'training.json'), 'utf8'));
    assert.ok(report.holdout.model.accuracy > report.holdout.baseline.accuracy + 0.3);
  });

  it('train names the file, row and column of a missing label', () => {
    assert.throws(() => runNode(here, 'train.mjs', ['--data', join(here, 'test', 'fixtures', 'missing-label.csv'), '--out', join(work, 'c')]), /missing-label\.csv row 3: category is missing/);
  });

  it('serve answers on a free port from SM_MODEL_DIR and exits 0 on SIGTERM', async () => {
    runNode(here, 'train.mjs', ['--data', join(work, 'train.csv'), '--out', join(work, 'served'), '--epochs', '3']);
    const server = await startServe({ cwd: here, modelDir: join(work, 'served') });
    try {
      assert.equal((await fetch(`${server.url}/ping`)).status, 200);
      const res = await invoke(server.url, 'text/csv', '"I want to return the jacket, it does not fit",web,free\n');
      assert.equal(res.status, 200);
      assert.equal(res.body.predictions[0].label, 'returns');
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });

  it('serve fails at start, naming model.json, when the model directory is empty', async () => {
    await assert.rejects(startServe({ cwd: here, modelDir: join(work, 'nothing-here') }), /ModelLoadError: .*nothing-here\/model\.json: cannot load the model/);
  });
});
