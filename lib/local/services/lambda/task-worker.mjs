// Runs a task handler module of lib/tasks.ts on a worker thread (see worker-tasks.ts). Plain JavaScript because a worker does not inherit tsx's loader on
// Node.js 20: tsx's tsImport loads the TypeScript handler modules instead.
import { parentPort } from 'node:worker_threads';
import { tsImport } from 'tsx/esm/api';

const modules = new Map();

function load(url) {
  let p = modules.get(url);
  if (!p) {
    p = tsImport(url, import.meta.url);
    p.catch(() => modules.delete(url));
    modules.set(url, p);
  }
  return p;
}

parentPort.on('message', async ({ id, url, event, context }) => {
  try {
    const mod = await load(url);
    if (typeof mod.handler !== 'function') throw Object.assign(new Error(`${url} does not export a function named handler`), { name: 'Runtime.HandlerNotFound' });
    const deadline = Date.now() + context.remainingMs;
    const result = await mod.handler(event, { ...context, getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()) });
    parentPort.postMessage({ id, result: result === undefined ? null : JSON.parse(JSON.stringify(result)) });
  } catch (err) {
    parentPort.postMessage({ id, error: { name: typeof err?.name === 'string' ? err.name : 'Error', message: typeof err?.message === 'string' ? err.message : String(err) } });
  }
});
