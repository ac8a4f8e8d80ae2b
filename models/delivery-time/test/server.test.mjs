import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { formatCsv } from '../lib/csv.mjs';
import { generateRows } from '../lib/generator.mjs';
import { fitModel, predictInstances } from '../lib/model.mjs';
import { FEATURES } from '../lib/schema.mjs';
import { coerceInstance, createModelServer } from '../lib/server.mjs';

const featuresOf = (row) => Object.fromEntries(FEATURES.map((f) => [f.name, row[f.name]]));

describe('Module: server', () => {
  const rows = generateRows({ seed: 11, n: 400 });
  const model = fitModel(rows, { rounds: 20 });
  const errors = [];
  let server;
  let url;

  before(async () => {
    server = createModelServer({ features: model.features, predict: (instances) => predictInstances(model, instances), log: (l) => errors.push(l) });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${server.address().port}`;
  });
  after(() => new Promise((resolve) => server.close(resolve)));

  const post = async (body, contentType = 'application/json') => {
    const res = await fetch(`${url}/invocations`, { method: 'POST', headers: { 'Content-Type': contentType }, body });
    return { status: res.status, type: res.headers.get('content-type'), body: await res.json() };
  };

  describe('Route: GET /ping', () => {
    it('answers 200', async () => {
      const res = await fetch(`${url}/ping`);
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { status: 'ok' });
    });
  });

  describe('Route: POST /invocations', () => {
    it('scores a JSON batch, one { value } per instance, in order', async () => {
      // Prepare
      const instances = rows.slice(0, 5).map(featuresOf);
      // Act
      const res = await post(JSON.stringify({ instances }));
      // Assess
      assert.equal(res.status, 200);
      assert.match(res.type, /application\/json/);
      assert.deepEqual(res.body, { predictions: predictInstances(model, instances) });
      assert.ok(res.body.predictions.every((p) => Number.isFinite(p.value)));
    });

    it('treats a single object as a batch of one', async () => {
      const res = await post(JSON.stringify(featuresOf(rows[0])));
      assert.equal(res.status, 200);
      assert.equal(res.body.predictions.length, 1);
    });

    it('scores CSV rows in the feature order exactly like the same JSON rows', async () => {
      const sample = rows.slice(0, 3);
      const csv = await post(formatCsv(sample.map((r) => FEATURES.map((f) => r[f.name]))), 'text/csv; charset=utf-8');
      const json = await post(JSON.stringify({ instances: sample.map(featuresOf) }));
      assert.equal(csv.status, 200);
      assert.deepEqual(csv.body, json.body);
    });

    it('ignores extra fields such as the label and accepts an unseen category', async () => {
      const res = await post(JSON.stringify({ instances: [{ ...rows[0], origin_region: 'atlantis' }] }));
      assert.equal(res.status, 200);
      assert.ok(Number.isFinite(res.body.predictions[0].value));
    });

    it('answers an empty batch with no predictions', async () => {
      assert.deepEqual((await post('{"instances":[]}')).body, { predictions: [] });
    });

    const bad = [
      ['a missing field', JSON.stringify({ instances: [{ ...featuresOf(rows[0]), weight_kg: undefined }] }), 'application/json', /instances\[0\]\.weight_kg: missing/],
      ['a non-number', JSON.stringify({ instances: [featuresOf(rows[0]), { ...featuresOf(rows[0]), hour: 'noon' }] }), 'application/json', /instances\[1\]\.hour: expected a number/],
      ['an out-of-range hour', JSON.stringify({ ...featuresOf(rows[0]), hour: 25 }), 'application/json', /instances\[0\]\.hour: 25 is outside \[0, 23\]/],
      ['a fractional integer', JSON.stringify({ ...featuresOf(rows[0]), package_count: 1.5 }), 'application/json', /package_count: expected an integer/],
      ['a non-string category', JSON.stringify({ ...featuresOf(rows[0]), weekday: { day: 1 } }), 'application/json', /weekday: expected a category/],
      ['instances that are not an array', '{"instances":{}}', 'application/json', /instances: expected an array/],
      ['an instance that is not an object', '{"instances":[1]}', 'application/json', /instances\[0\]: expected an object/],
      ['invalid JSON', '{"instances":', 'application/json', /body: not valid JSON/],
      ['a CSV row of the wrong width', '1,2,3\n', 'text/csv', /csv row 1: expected 10 values \(distance_km,/],
      ['a CSV row with a bad number', formatCsv([FEATURES.map((f) => (f.name === 'distance_km' ? 'far' : rows[0][f.name]))]), 'text/csv', /csv row 1\.distance_km: expected a number/],
    ];
    for (const [what, body, type, message] of bad) {
      it(`answers 400 naming the field for ${what}`, async () => {
        const res = await post(body, type);
        assert.equal(res.status, 400);
        assert.match(res.body.error, message);
      });
    }

    it('answers 415 for another content type', async () => {
      const res = await post('x', 'application/xml');
      assert.equal(res.status, 415);
      assert.match(res.body.error, /Content-Type: "application\/xml" is not supported/);
    });
  });

  describe('Route: anything else', () => {
    it('answers 404 for an unknown path and 405 for a wrong method', async () => {
      const missing = await fetch(`${url}/predict`, { method: 'POST', body: '{}' });
      assert.equal(missing.status, 404);
      assert.match((await missing.json()).error, /not found/);
      const wrong = await fetch(`${url}/invocations`);
      assert.equal(wrong.status, 405);
      assert.equal(wrong.headers.get('allow'), 'POST');
    });

    it('answers 500 without the stack when the model throws, and logs it', async () => {
      const broken = createModelServer({ features: model.features, predict: () => { throw new Error('boom'); }, log: (l) => errors.push(l) });
      await new Promise((resolve) => broken.listen(0, '127.0.0.1', resolve));
      try {
        const res = await fetch(`http://127.0.0.1:${broken.address().port}/invocations`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(featuresOf(rows[0])) });
        assert.equal(res.status, 500);
        assert.deepEqual(await res.json(), { error: 'internal error: boom' });
        assert.equal(errors.at(-1).msg, 'prediction failed');
      } finally {
        await new Promise((resolve) => broken.close(resolve));
      }
    });
  });

  describe('Method: coerceInstance', () => {
    it('accepts numeric strings and booleans for numeric features', () => {
      const typed = coerceInstance(FEATURES, { ...featuresOf(rows[0]), distance_km: ' 12.5 ', fragile: true }, 'x');
      assert.equal(typed.distance_km, 12.5);
      assert.equal(typed.fragile, 1);
    });
  });
});
