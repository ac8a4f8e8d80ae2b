import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { formatCsv } from '../lib/csv.mjs';
import { generateRows } from '../lib/generator.mjs';
import { fitModel, predictInstances } from '../lib/model.mjs';
import { CATEGORIES, FEATURES } from '../lib/schema.mjs';
import { createModelServer } from '../lib/server.mjs';

const featuresOf = (row) => Object.fromEntries(FEATURES.map((f) => [f.name, row[f.name]]));

describe('Module: server', () => {
  const rows = generateRows({ seed: 11, n: 600 });
  const model = fitModel(rows);
  let server;
  let url;

  before(async () => {
    server = createModelServer({ features: model.features, predict: (instances) => predictInstances(model, instances) });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${server.address().port}`;
  });
  after(() => new Promise((resolve) => server.close(resolve)));

  const post = async (body, contentType = 'application/json') => {
    const res = await fetch(`${url}/invocations`, { method: 'POST', headers: { 'Content-Type': contentType }, body });
    return { status: res.status, body: await res.json() };
  };

  it('answers GET /ping with 200', async () => {
    assert.equal((await fetch(`${url}/ping`)).status, 200);
  });

  it('scores a JSON batch: { label, scores } per ticket, scores over every category', async () => {
    // Prepare
    const instances = rows.slice(0, 4).map(featuresOf);
    // Act
    const res = await post(JSON.stringify({ instances }));
    // Assess
    assert.equal(res.status, 200);
    assert.equal(res.body.predictions.length, 4);
    for (const p of res.body.predictions) {
      assert.deepEqual(Object.keys(p.scores), CATEGORIES);
      assert.ok(Math.abs(Object.values(p.scores).reduce((s, v) => s + v, 0) - 1) < 1e-3);
      assert.equal(Math.max(...Object.values(p.scores)), p.scores[p.label]);
    }
  });

  it('treats a single object as a batch of one', async () => {
    const res = await post(JSON.stringify({ text: 'my parcel never arrived', channel: 'email', customer_tier: 'free' }));
    assert.equal(res.status, 200);
    assert.equal(res.body.predictions[0].label, 'shipping');
  });

  it('scores quoted CSV text with commas, quotes and newlines like the same JSON', async () => {
    const ticket = { text: 'Hi, "urgent":\nI was charged twice for order #123, the invoice is wrong', channel: 'phone', customer_tier: 'premium' };
    const csv = await post(formatCsv([FEATURES.map((f) => ticket[f.name])]), 'text/csv');
    const json = await post(JSON.stringify({ instances: [ticket] }));
    assert.equal(csv.status, 200);
    assert.deepEqual(csv.body, json.body);
    assert.equal(csv.body.predictions[0].label, 'billing');
  });

  it('accepts an unseen channel and an empty text', async () => {
    const res = await post(JSON.stringify({ instances: [{ text: ' ', channel: 'whatsapp', customer_tier: 'free' }] }));
    assert.equal(res.status, 200);
  });

  const bad = [
    ['a missing text', JSON.stringify({ channel: 'email', customer_tier: 'free' }), 'application/json', /instances\[0\]\.text: missing/],
    ['a numeric text', JSON.stringify({ instances: [{ text: 5, channel: 'email', customer_tier: 'free' }] }), 'application/json', /instances\[0\]\.text: expected text/],
    ['a missing tier', JSON.stringify({ instances: [{ text: 'x', channel: 'email' }] }), 'application/json', /customer_tier: missing/],
    ['a CSV row of the wrong width', 'only text\n', 'text/csv', /csv row 1: expected 3 values \(text,channel,customer_tier\), got 1/],
    ['broken CSV quoting', '"open,email,free\n', 'text/csv', /body: not valid CSV/],
  ];
  for (const [what, body, type, message] of bad) {
    it(`answers 400 naming the field for ${what}`, async () => {
      const res = await post(body, type);
      assert.equal(res.status, 400);
      assert.match(res.body.error, message);
    });
  }

  it('answers 404 for an unknown path', async () => {
    assert.equal((await fetch(`${url}/`)).status, 404);
  });
});
