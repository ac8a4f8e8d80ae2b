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
    work = mkdtempSync(join(tmpdir(), 'delivery-time-cli-'));
    runNode(here, 'generate.mjs', ['--seed', '5', '--rows', '600', '--out', join(work, 'train.csv')]);
    runNode(here, 'generate.mjs', ['--seed', '6', '--rows', '200', '--out', join(work, 'holdout.csv')]);
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it('generate writes the header and the asked number of rows', () => {
    const { header, rows } = readCsvObjects(join(work, 'train.csv'));
    assert.deepEqual(header, COLUMNS);
    assert.equal(rows.length, 600);
  });

  it('generate refuses an unknown option', () => {
    assert.throws(() => runNode(here, 'generate.mjs', ['--rowz', '5', '--out', join(work, 'x.csv')]), /unknown argument "--rowz"/);
  });

  it('train is deterministic for a seed and reports holdout metrics against the mean', () => {
    // Act
    const out = runNode(here, 'train.mjs', ['--data', join(work, 'train.csv'), '--holdout', join(work, 'holdout.csv'), '--out', join(work, 'a'), '--rounds', '30']);
    runNode(here, 'train.mjs', ['--data', join(work, 'train.csv'), '--out', join(work, 'b'), '--rounds', '30']);
    // Assess
    assert.match(out, /holdout mae/);
    assert.equal(readFileSync(join(work, 'a', 'model.json'), 'utf8'), readFileSync(join(work, 'b', 'model.json'), 'utf8'));
    const report = JSON.parse(readFileSync(join(work, 'a', 'training.json'), 'utf8'));
    assert.equal(report.data.rows, 600);
    assert.match(report.data.sha256, /^[0-9a-f]{64}$/);
    assert.ok(report.holdout.model.mae < report.holdout.baseline.mae);
  });

  it('train names the file and row of a bad label', () => {
    assert.throws(() => runNode(here, 'train.mjs', ['--data', join(here, 'test', 'fixtures', 'bad-label.csv'), '--out', join(work, 'c')]), /bad-label\.csv row 3: delivery_hours: "soon" is not a number/);
  });

  it('serve answers on a free port from SM_MODEL_DIR and exits 0 on SIGTERM', async () => {
    runNode(here, 'train.mjs', ['--data', join(work, 'train.csv'), '--out', join(work, 'served'), '--rounds', '10']);
    const server = await startServe({ cwd: here, modelDir: join(work, 'served') });
    try {
      assert.equal((await fetch(`${server.url}/ping`)).status, 200);
      const res = await invoke(server.url, 'text/csv', '120,2,express,north,business,tue,10,0,1,0.5\n');
      assert.equal(res.status, 200);
      assert.ok(res.body.predictions[0].value > 0);
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });

  it('serve fails at start, naming model.json, when the model directory is empty', async () => {
    await assert.rejects(startServe({ cwd: here, modelDir: join(work, 'nothing-here') }), /exited with 1 before listening; stderr: ModelLoadError: .*nothing-here\/model\.json: cannot load the model/);
  });
});
