// The model server, on the SageMaker container contract: GET /ping and POST /invocations on
// 0.0.0.0:$SAGEMAKER_BIND_TO_PORT (default 8080), the model from $SM_MODEL_DIR. Requests are
// JSON {"instances": [{x1, x2, segment}, ...]} (or one object) or CSV rows in feature order;
// answers are {"predictions": [{"value": 12.3}, ...]}.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FEATURES, predict } from './model.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const model = JSON.parse(readFileSync(join(process.env.SM_MODEL_DIR || join(here, 'model'), 'model.json'), 'utf8'));

function instancesOf(body, contentType) {
  if (contentType.startsWith('text/csv')) {
    return body.trim().split('\n').map((line) => {
      const v = line.split(',');
      return Object.fromEntries(FEATURES.map((f, i) => [f.name, f.type === 'numeric' ? (v[i] === '' || v[i] === undefined ? null : Number(v[i])) : v[i]]));
    });
  }
  const doc = JSON.parse(body);
  return Array.isArray(doc.instances) ? doc.instances : [doc];
}

const server = createServer((req, res) => {
  const send = (status, value) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(value));
  };
  if (req.method === 'GET' && req.url === '/ping') return send(200, { status: 'ok' });
  if (req.method !== 'POST' || req.url !== '/invocations') return send(404, { error: 'not found' });
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (d) => (body += d));
  req.on('end', () => {
    let instances;
    try {
      instances = instancesOf(body, req.headers['content-type'] ?? 'application/json');
    } catch (err) {
      return send(400, { error: `the body is neither JSON nor CSV: ${err.message}` });
    }
    const bad = instances.findIndex((i) => typeof i !== 'object' || i === null);
    if (bad >= 0) return send(400, { error: `instance ${bad} is not an object` });
    send(200, { predictions: instances.map((i) => ({ value: predict(model, i) })) });
  });
});

// 0.0.0.0, not loopback: inside a SageMaker container requests come from outside.
server.listen(Number(process.env.SAGEMAKER_BIND_TO_PORT || 8080), '0.0.0.0');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
