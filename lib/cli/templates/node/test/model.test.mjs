// The model's own tests (node:test; the build runs them with `node --test`).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { generate } from '../generate.mjs';
import { fit, predict, rmse } from '../model.mjs';

const here = dirname(fileURLToPath(import.meta.url));

test('the generator is deterministic for a seed', () => {
  assert.deepEqual(generate({ seed: 3, rows: 5 }), generate({ seed: 3, rows: 5 }));
  assert.notDeepEqual(generate({ seed: 3, rows: 5 }), generate({ seed: 4, rows: 5 }));
});

test('the fit recovers the generating coefficients and beats the mean by far', () => {
  const model = fit(generate({ seed: 1, rows: 2000 }));
  const holdout = generate({ seed: 2, rows: 500 });
  assert.ok(Math.abs(model.weights[1] - 3) < 0.1, `x1 weight ${model.weights[1]}`);
  assert.ok(rmse(model, holdout) < 1.2, `holdout RMSE ${rmse(model, holdout)}`);
  assert.ok(Number.isFinite(predict(model, { x1: 1, x2: null, segment: 'unseen' })));
});

test('the server answers /ping and /invocations (JSON and CSV) on the SageMaker contract', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'model-'));
  writeFileSync(join(dir, 'model.json'), JSON.stringify(fit(generate({ seed: 1, rows: 300 }))));
  const port = await new Promise((resolve) => {
    const s = createServer().listen(0, () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
  const child = spawn(process.execPath, [join(here, '..', 'serve.mjs')], { env: { ...process.env, SAGEMAKER_BIND_TO_PORT: String(port), SM_MODEL_DIR: dir }, stdio: 'inherit' });
  try {
    const url = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`${url}/ping`)).ok) break;
      } catch {}
      if (i > 100) throw new Error('the server did not answer /ping');
      await new Promise((r) => setTimeout(r, 50));
    }
    const json = await (await fetch(`${url}/invocations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances: [{ x1: 1, x2: 2, segment: 'b' }] }) })).json();
    const csv = await (await fetch(`${url}/invocations`, { method: 'POST', headers: { 'content-type': 'text/csv' }, body: '1,2,b\n' })).json();
    assert.equal(json.predictions.length, 1);
    assert.ok(Math.abs(json.predictions[0].value - (2 + 3 - 3 + 4)) < 0.5);
    assert.deepEqual(csv, json);
  } finally {
    child.kill();
  }
});
