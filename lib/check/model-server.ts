/**
 * A model server started from a build's output on the SageMaker container contract (serve
 * command in the bundle root, `SM_MODEL_DIR=<bundle>/model`, `SAGEMAKER_BIND_TO_PORT`), as the
 * check scores the holdout without an endpoint: in a pull-request build on AWS, or beside the
 * local cloud. Same contract as lib/local/services/sagemaker/server.ts, without a fleet.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createServer } from 'node:net';
import type { Instance, Prediction } from '../../lambdas/shared/inference';

/** A server that did not come up, or answered outside the contract; the message names its log. */
export class ModelServerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelServerError';
  }
}

export interface ModelServerOptions {
  /** The bundle root: the serve command runs here. */
  dir: string;
  command: string;
  /** The server's stdout and stderr go to this file. */
  logFile: string;
  /** What to call it in messages, e.g. "the candidate's model server". */
  label: string;
  /** How long GET /ping may take to answer 200. @default 30000 */
  pingTimeoutMs?: number;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export class ModelServer {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    readonly opts: ModelServerOptions,
  ) {}

  /** Start the server and wait for GET /ping. @throws ModelServerError when it exits or never answers */
  static async start(opts: ModelServerOptions): Promise<ModelServer> {
    const port = await freePort();
    const log = createWriteStream(opts.logFile, { flags: 'a' });
    // Its own process group, so stop() ends whatever the serve command started too.
    const child = spawn('bash', ['-c', opts.command], {
      cwd: opts.dir,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, SAGEMAKER_BIND_TO_PORT: String(port), SM_MODEL_DIR: `${opts.dir}/model` },
    });
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
    const server = new ModelServer(child, `http://127.0.0.1:${port}`, opts);
    await server.waitForPing(opts.pingTimeoutMs ?? 30_000);
    return server;
  }

  private async waitForPing(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null)
        throw new ModelServerError(
          `${this.opts.label} exited with code ${this.child.exitCode} before answering /ping; log: ${this.opts.logFile}`,
        );
      try {
        if ((await fetch(`${this.url}/ping`, { signal: AbortSignal.timeout(2000) })).ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    this.stop();
    throw new ModelServerError(`${this.opts.label} did not answer GET /ping within ${timeoutMs / 1000} s; log: ${this.opts.logFile}`);
  }

  /**
   * POST one batch to /invocations as `{"instances": [...]}`.
   * @throws ModelServerError on an error status or an answer without one prediction per instance
   */
  async invoke(instances: readonly Instance[]): Promise<Prediction[]> {
    const res = await fetch(`${this.url}/invocations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ instances }),
    });
    const text = await res.text();
    if (!res.ok)
      throw new ModelServerError(`${this.opts.label} answered HTTP ${res.status}: ${text.slice(0, 300)}; log: ${this.opts.logFile}`);
    let predictions: unknown;
    try {
      predictions = (JSON.parse(text) as { predictions?: unknown }).predictions;
    } catch {
      throw new ModelServerError(
        `${this.opts.label} answered something that is not JSON: ${text.slice(0, 300)}; log: ${this.opts.logFile}`,
      );
    }
    if (!Array.isArray(predictions) || predictions.length !== instances.length)
      throw new ModelServerError(
        `${this.opts.label} answered without one prediction per instance (sent ${instances.length}); log: ${this.opts.logFile}`,
      );
    return predictions as Prediction[];
  }

  /** Every instance, in batches. */
  async score(instances: readonly Instance[], batchSize = 50): Promise<Prediction[]> {
    const out: Prediction[] = [];
    for (let i = 0; i < instances.length; i += batchSize) out.push(...(await this.invoke(instances.slice(i, i + batchSize))));
    return out;
  }

  stop(): void {
    if (this.child.exitCode !== null || this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
}
