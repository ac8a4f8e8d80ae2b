/**
 * The SageMaker inference-container contract on node:http, shared in spirit by every model
 * here (each model keeps its own identical copy so its directory builds and ships alone):
 *
 * - `GET /ping` -> 200 once the model is loaded.
 * - `POST /invocations` with `application/json` (`{"instances": [...]}` or one object) or
 *   `text/csv` (rows without a header, values in feature order) -> `{"predictions": [...]}`.
 * - Malformed input -> 400 `{"error": "..."}` naming the row and field; unknown path -> 404.
 */
import { createServer } from 'node:http';
import { parseCsv } from './csv.mjs';

/** SageMaker's real-time payload limit. */
export const MAX_BODY_BYTES = 6 * 1024 * 1024;

/** A request the model cannot score; `status` is the HTTP status to answer with. */
export class InvalidInputError extends Error {
  constructor(message, status = 400) {
    super(message);
    this.name = 'InvalidInputError';
    this.status = status;
  }
}

/**
 * Check one instance against the feature schema and return it with typed values. Extra
 * fields (such as a label) are dropped; categorical values outside the training set are
 * kept, because the model decides what an unseen category means.
 * @param {{ name: string, type: 'numeric' | 'categorical' | 'text', min?: number, max?: number, integer?: boolean }[]} features
 * @param {unknown} raw
 * @param {string} where how the message names the instance, e.g. `instances[3]`
 */
export function coerceInstance(features, raw, where) {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new InvalidInputError(`${where}: expected an object of features, got ${Array.isArray(raw) ? 'an array' : JSON.stringify(raw)}`);
  }
  const out = {};
  for (const f of features) {
    const v = raw[f.name];
    const field = `${where}.${f.name}`;
    if (v === undefined || v === null || v === '') throw new InvalidInputError(`${field}: missing (expected ${f.type})`);
    if (f.type === 'numeric') {
      const n = typeof v === 'boolean' ? Number(v) : typeof v === 'string' ? Number(v.trim()) : v;
      if (typeof n !== 'number' || !Number.isFinite(n)) throw new InvalidInputError(`${field}: expected a number, got ${JSON.stringify(v)}`);
      if (f.integer && !Number.isInteger(n)) throw new InvalidInputError(`${field}: expected an integer, got ${n}`);
      if ((f.min !== undefined && n < f.min) || (f.max !== undefined && n > f.max)) {
        throw new InvalidInputError(`${field}: ${n} is outside [${f.min ?? '-inf'}, ${f.max ?? 'inf'}]`);
      }
      out[f.name] = n;
    } else if (f.type === 'categorical') {
      if (typeof v !== 'string' && !(typeof v === 'number' && Number.isFinite(v))) {
        throw new InvalidInputError(`${field}: expected a category string, got ${JSON.stringify(v)}`);
      }
      out[f.name] = String(v).trim();
    } else {
      if (typeof v !== 'string') throw new InvalidInputError(`${field}: expected text, got ${JSON.stringify(v)}`);
      out[f.name] = v;
    }
  }
  return out;
}

/**
 * Turn a request body into typed instances.
 * @param {string} contentType the request's Content-Type header
 * @param {string} body
 * @param {Parameters<typeof coerceInstance>[0]} features
 */
export function parseInstances(contentType, body, features) {
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (type === 'application/json' || type === '') {
    let doc;
    try {
      doc = JSON.parse(body);
    } catch (err) {
      throw new InvalidInputError(`body: not valid JSON: ${err.message}`);
    }
    let list;
    if (Array.isArray(doc)) list = doc;
    else if (doc !== null && typeof doc === 'object' && 'instances' in doc) {
      if (!Array.isArray(doc.instances)) throw new InvalidInputError('instances: expected an array of objects');
      list = doc.instances;
    } else list = [doc];
    return list.map((raw, i) => coerceInstance(features, raw, `instances[${i}]`));
  }
  if (type === 'text/csv') {
    let rows;
    try {
      rows = parseCsv(body);
    } catch (err) {
      throw new InvalidInputError(`body: not valid CSV: ${err.message}`);
    }
    const names = features.map((f) => f.name);
    return rows.map((values, i) => {
      if (values.length !== names.length) {
        throw new InvalidInputError(`csv row ${i + 1}: expected ${names.length} values (${names.join(',')}), got ${values.length}`);
      }
      return coerceInstance(features, Object.fromEntries(names.map((n, j) => [n, values[j]])), `csv row ${i + 1}`);
    });
  }
  throw new InvalidInputError(`Content-Type: "${contentType}" is not supported; use application/json or text/csv`, 415);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new InvalidInputError(`body: larger than ${MAX_BODY_BYTES} bytes`, 413));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res, status, doc, headers = {}) {
  const body = JSON.stringify(doc);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

/**
 * An HTTP server for one loaded model.
 * @param {{ features: Parameters<typeof coerceInstance>[0], predict: (instances: object[]) => unknown[], log?: (line: object) => void }} model
 */
export function createModelServer({ features, predict, log = () => {} }) {
  return createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    try {
      if (path === '/ping') {
        if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: `${req.method} /ping: use GET` }, { Allow: 'GET, HEAD' });
        return send(res, 200, { status: 'ok' });
      }
      if (path === '/invocations') {
        if (req.method !== 'POST') return send(res, 405, { error: `${req.method} /invocations: use POST` }, { Allow: 'POST' });
        const body = await readBody(req);
        const instances = parseInstances(req.headers['content-type'], body, features);
        return send(res, 200, { predictions: instances.length ? predict(instances) : [] });
      }
      return send(res, 404, { error: `${req.method} ${path}: not found; the server answers GET /ping and POST /invocations` });
    } catch (err) {
      if (err instanceof InvalidInputError) return send(res, err.status, { error: err.message }, err.status === 413 ? { Connection: 'close' } : {});
      log({ level: 'error', msg: 'prediction failed', error: err?.stack ?? String(err) });
      return send(res, 500, { error: `internal error: ${err?.message ?? err}` });
    }
  });
}

/**
 * Start the server from the SageMaker environment: port `SAGEMAKER_BIND_TO_PORT` (default
 * 8080; 0 picks a free port) on all interfaces, where SageMaker reaches a container (and
 * which the local cloud checks); loopback only with `SAGEMAKER_BIND_ALL=0`, as this model's
 * own tests run it. Prints one JSON line with the bound port, and closes gracefully on
 * SIGTERM / SIGINT.
 * @param {Parameters<typeof createModelServer>[0]} model
 * @param {NodeJS.ProcessEnv} env
 */
export async function serveFromEnv(model, env = process.env) {
  const port = Number(env.SAGEMAKER_BIND_TO_PORT || 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidInputError(`SAGEMAKER_BIND_TO_PORT: "${env.SAGEMAKER_BIND_TO_PORT}" is not a port number`);
  }
  const host = env.SAGEMAKER_BIND_ALL === '0' ? '127.0.0.1' : '0.0.0.0';
  const log = (line) => process.stdout.write(JSON.stringify({ time: new Date().toISOString(), ...line }) + '\n');
  const server = createModelServer({ ...model, log });
  // SageMaker keeps connections alive through its proxy; outlive its 60 s idle timeout.
  server.keepAliveTimeout = 65_000;
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const bound = server.address().port;
  log({ level: 'info', msg: 'listening', host, port: bound });
  const stop = (signal) => {
    log({ level: 'info', msg: 'shutting down', signal });
    server.close(() => process.exit(0));
    server.closeIdleConnections();
    // In-flight requests get a few seconds; then the process goes regardless.
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  return { server, port: bound };
}
