import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { TASKS, type TaskName } from '../../../tasks';
import { PACKAGE_ROOT, taskFunctionName } from '../../constants';
import type { LambdaContext, LambdaHandler } from './lambda';

/**
 * The tasks that compute for seconds run on worker threads, one per task, instead of the
 * local cloud's main thread.
 *
 * Why: the local cloud invokes handlers in its own process (lib/local/services/lambda/lambda.ts), and
 * EvaluateModel's metrics and bootstrap and CheckDrift's statistics compute synchronously
 * for 1-2 s on a 2-core laptop. On the main thread that stalls the edge, which proxies every
 * inference request, so a load test overlapping another release's evaluation saw p99 above
 * its bound and failed the release. LoadTest gets a thread of its own too, so the latency it
 * measures is the endpoint's, not its neighbours' arithmetic. On AWS each is its own
 * Lambda; this is the local equivalent. Same modules, same events, same errors.
 */
export const WORKER_TASKS: readonly TaskName[] = ['EvaluateModel', 'CheckDrift', 'LoadTest'];

/** One worker thread running one task's handler module; started on first use. */
class TaskWorker {
  private worker?: Worker;
  private seq = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  constructor(private readonly task: TaskName) {}

  invoke(event: unknown, context: LambdaContext): Promise<unknown> {
    const id = ++this.seq;
    const url = pathToFileURL(join(PACKAGE_ROOT, TASKS[this.task].entry)).href;
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
      for (const p of this.pending.values())
        p.reject(Object.assign(new Error(`the task worker stopped: ${err.message}`), { name: 'Runtime.ExitError' }));
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

/** Worker threads for {@link WORKER_TASKS}, as handlers by local function name for LocalLambda. */
export class WorkerTasks {
  private readonly workers: Map<TaskName, TaskWorker>;

  constructor(tasks: readonly TaskName[] = WORKER_TASKS) {
    this.workers = new Map(tasks.map((t) => [t, new TaskWorker(t)]));
  }

  functions(): Record<string, LambdaHandler> {
    return Object.fromEntries(
      [...this.workers].map(([t, w]) => [taskFunctionName(t), (event: unknown, context: LambdaContext) => w.invoke(event, context)]),
    );
  }

  async close(): Promise<void> {
    await Promise.all([...this.workers.values()].map((w) => w.close()));
  }
}
