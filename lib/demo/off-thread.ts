import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { PACKAGE_ROOT, taskFunctionName } from '../local/constants';
import type { LambdaContext, LambdaHandler } from '../local/lambda';
import { TASKS, type TaskName } from '../tasks';

/**
 * Task handlers run on one worker thread instead of the local cloud's main thread.
 *
 * Why: the local cloud invokes every handler in its own process (lib/local/lambda.ts), and
 * EvaluateModel's metrics and bootstrap (and CheckDrift's statistics) compute synchronously
 * for 1-2 s on this 2-core machine. That stalls the edge, which proxies every inference
 * request, and the LoadTest handler, which measures latency in the same process: a load test
 * that overlaps another release's evaluation then sees p99 above the manifest's bound and
 * fails the release. Until the local cloud runs such handlers off its main thread, the demo
 * hands them to a worker through LocalCloud's `functions` option. Same modules, same events.
 */
export class OffThreadTasks {
  private worker?: Worker;
  private seq = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  constructor(private readonly tasks: readonly TaskName[]) {}

  /** Handlers by local function name, for `LocalCloud.start({ functions })`. */
  functions(): Record<string, LambdaHandler> {
    return Object.fromEntries(this.tasks.map((t) => [taskFunctionName(t), (event: unknown, context: LambdaContext) => this.invoke(t, event, context)]));
  }

  private invoke(task: TaskName, event: unknown, context: LambdaContext): Promise<unknown> {
    const id = ++this.seq;
    const url = pathToFileURL(join(PACKAGE_ROOT, TASKS[task].entry)).href;
    const { getRemainingTimeInMillis, ...plain } = context;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.start().postMessage({ id, url, event, context: { ...plain, remainingMs: getRemainingTimeInMillis() } });
    });
  }

  /** Created on first use, so it copies the task environment the cloud sets at start. */
  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(new URL('./task-worker.mjs', import.meta.url));
    worker.on('message', (m: { id: number; result?: unknown; error?: { name: string; message: string } }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.error) p.reject(Object.assign(new Error(m.error.message), { name: m.error.name }));
      else p.resolve(m.result);
    });
    const fail = (err: Error) => {
      for (const p of this.pending.values()) p.reject(Object.assign(new Error(`the task worker stopped: ${err.message}`), { name: 'Runtime.ExitError' }));
      this.pending.clear();
      this.worker = undefined;
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`exit code ${code}`)));
    worker.unref();
    this.worker = worker;
    return worker;
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    if (w) await w.terminate();
  }
}
