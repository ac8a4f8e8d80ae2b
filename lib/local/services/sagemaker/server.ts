import type { ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { setPriority } from 'node:os';
import { dirname, join } from 'node:path';
import { Pool } from 'undici';
import { spawnChild } from '../../core/children';
import { checkBind } from './bind-check';
import { ModelStartError } from './errors';

/**
 * One model server process: the model's serve command started the way SageMaker starts a
 * container (SAGEMAKER_BIND_TO_PORT, SM_MODEL_DIR, cwd = bundle root), ready once GET /ping
 * answers 200. A server that dies while serving is restarted a few times with backoff, and
 * every exit is in its log file.
 */
export interface ModelServerOptions {
  /** For messages and the log file: `<endpoint>/<variant>`. */
  label: string;
  bundleDir: string;
  command: string;
  /** PrimaryContainer.Environment of the model. */
  environment: Record<string, string>;
  logPath: string;
  pingTimeoutMs: number;
  /** Restarts allowed after a crash while serving. @default 3 */
  maxRestarts?: number;
  /** The SageMaker model the server runs, for messages. */
  modelName?: string;
  /** SM_MODEL_DIR: the model's extracted ModelDataUrl. @default the bundle's model/ folder */
  modelDir?: string;
  /** The server's nice value (a shadow variant's runs at the lowest priority, mirror/host.ts). @default the host's */
  nice?: number;
}

export type ServerState = 'new' | 'starting' | 'ready' | 'down' | 'stopped';

/** Find a free loopback port by letting the OS pick one. */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => res(port));
    });
  });
}

/** SageMaker's limit on how long a model may take to answer an invocation. */
export const INVOCATION_TIMEOUT_MS = 60_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class ModelServer {
  state: ServerState = 'new';
  port = 0;
  /**
   * Keep-alive connections to this server for the invocation proxy (fleet.ts), made at the
   * first start, when the port is known. undici rather than node:http's Agent: measured with
   * the model server of bench/endpoint, a request through undici's dispatch costs the proxy
   * about 90 µs of CPU against 165 µs through http.request, on the path every invocation takes.
   */
  pool?: Pool;
  private child?: ChildProcess;
  private log?: WriteStream;
  private readonly stderrLines: string[] = [];
  private restarts = 0;
  private lastExit = '';

  constructor(private readonly opts: ModelServerOptions) {}

  /** The file the server's stdout and stderr go to (SageMaker's CloudWatch log stream, locally). */
  get logPath(): string {
    return this.opts.logPath;
  }

  /** Last lines the server wrote to stderr, for FailureReason. */
  stderrTail(n = 5): string {
    return this.stderrLines.slice(-n).join(' | ');
  }

  describeExit(): string {
    return this.lastExit;
  }

  /** Start and wait for GET /ping; throws ModelStartError with the exit status and stderr tail. */
  async start(): Promise<void> {
    if (!this.port) this.port = await freePort();
    this.pool ??= new Pool(`http://127.0.0.1:${this.port}`, {
      connections: 128,
      keepAliveTimeout: 10_000,
      headersTimeout: INVOCATION_TIMEOUT_MS,
      bodyTimeout: INVOCATION_TIMEOUT_MS,
    });
    this.state = 'starting';
    this.spawn();
    const deadline = Date.now() + this.opts.pingTimeoutMs;
    while (Date.now() < deadline) {
      if (this.state !== 'starting') break;
      if (await this.ping()) {
        await this.requireAllInterfaces();
        this.state = 'ready';
        return;
      }
      await sleep(50);
    }
    const why =
      this.state === 'starting'
        ? `did not answer GET /ping with 200 within ${(this.opts.pingTimeoutMs / 1000).toFixed(1)} s`
        : this.state === 'stopped'
          ? 'was stopped while starting'
          : `exited before answering GET /ping (${this.lastExit})`;
    const tail = this.stderrTail();
    await this.stop();
    throw new ModelStartError(`model server ${this.opts.label} (${this.opts.command}) ${why}${tail ? `; last stderr: ${tail}` : ''}`);
  }

  /**
   * The container contract's address: SageMaker reaches the server from outside its
   * container, so one that listens on loopback only would never answer there, although it
   * answers the endpoint host here. Refused like a server that does not answer /ping.
   */
  private async requireAllInterfaces(): Promise<void> {
    const bind = await checkBind(this.port);
    if (bind.kind !== 'loopback-only') return;
    await this.stop();
    const model = this.opts.modelName ? ` of model ${this.opts.modelName}` : '';
    throw new ModelStartError(
      `model server ${this.opts.label}${model} (${this.opts.command}) listens only on ${bind.addresses.map((a) => (a.includes(':') ? `[${a}]` : a)).join(', ')}:${this.port}; ` +
        'SageMaker reaches a model container from outside it on 0.0.0.0:8080, where this server would not answer: listen on 0.0.0.0 (all interfaces) at $SAGEMAKER_BIND_TO_PORT',
    );
  }

  private spawn(): void {
    mkdirSync(dirname(this.opts.logPath), { recursive: true });
    this.log ??= createWriteStream(this.opts.logPath, { flags: 'a' });
    this.log.write(`--- ${new Date().toISOString()} starting ${this.opts.command} on port ${this.port}\n`);
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      ...Object.fromEntries(['LANG', 'TMPDIR', 'TZ', 'USER'].filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]!])),
      ...this.opts.environment,
      SAGEMAKER_BIND_TO_PORT: String(this.port),
      SM_MODEL_DIR: this.opts.modelDir ?? join(this.opts.bundleDir, 'model'),
    };
    // `exec` makes a simple command the group leader's own process (signals reach it directly);
    // a compound one (cd x && ...) runs as written. The server leads its own process group, so
    // stop() also reaches whatever it started; supervised, so it does not outlive a killed cloud.
    const script = /[;&|\n()]/.test(this.opts.command) ? this.opts.command : `exec ${this.opts.command}`;
    const child = spawnChild(`model server ${this.opts.label}`, 'bash', ['-c', script], {
      cwd: this.opts.bundleDir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    // At once, on the group leader (`exec` makes it the server itself); restarts come here too.
    if (this.opts.nice !== undefined && child.pid !== undefined) {
      try {
        setPriority(child.pid, this.opts.nice);
      } catch {
        // exited already: reported by the exit handler
      }
    }
    child.stdout!.pipe(this.log, { end: false });
    let partial = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      this.log?.write(chunk);
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) if (l.trim()) this.stderrLines.push(l.trim());
      if (this.stderrLines.length > 50) this.stderrLines.splice(0, this.stderrLines.length - 50);
    });
    child.stderr!.on('end', () => {
      if (partial.trim()) this.stderrLines.push(partial.trim());
      partial = '';
    });
    child.on('error', (err) => {
      this.lastExit = `could not start: ${err.message}`;
      this.state = this.state === 'stopped' ? 'stopped' : 'down';
    });
    child.on('exit', (code, signal) => {
      if (this.child !== child) return;
      this.lastExit = signal ? `killed by ${signal}` : `exit code ${code}`;
      if (this.state === 'stopped') return;
      this.log?.write(`--- ${new Date().toISOString()} exited: ${this.lastExit}\n`);
      const wasReady = this.state === 'ready';
      this.state = 'down';
      if (wasReady) void this.restart();
    });
  }

  /** A crash while serving: requests fail with 5xx meanwhile; restart with backoff. */
  private async restart(): Promise<void> {
    const max = this.opts.maxRestarts ?? 3;
    while (this.state === 'down' && this.restarts < max) {
      this.restarts++;
      await sleep(200 * 2 ** (this.restarts - 1));
      if (this.state !== 'down') return;
      this.state = 'starting';
      this.spawn();
      const deadline = Date.now() + this.opts.pingTimeoutMs;
      while (this.state === 'starting' && Date.now() < deadline) {
        if (await this.ping()) {
          this.state = 'ready';
          this.log?.write(`--- ${new Date().toISOString()} restarted (${this.restarts}/${max})\n`);
          return;
        }
        await sleep(50);
      }
      if (this.state === 'starting') {
        this.state = 'down';
        this.killChild();
      }
    }
  }

  private ping(): Promise<boolean> {
    return new Promise((res) => {
      // agent: false, a connection per ping: Node's global agent keeps sockets alive, and a
      // health check (at start and restarts only) has no reason to hold one to the server.
      const req = request({ host: '127.0.0.1', port: this.port, path: '/ping', method: 'GET', timeout: 1000, agent: false }, (r) => {
        r.resume();
        res(r.statusCode === 200);
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => res(false));
      req.end();
    });
  }

  private killChild(): ChildProcess | undefined {
    const child = this.child;
    if (!child || child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return undefined;
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
    return child;
  }

  /** SIGTERM the process group, SIGKILL after `graceMs`. */
  async stop(graceMs = 3000): Promise<void> {
    this.state = 'stopped';
    const pool = this.pool;
    this.pool = undefined;
    void pool?.destroy();
    const child = this.killChild();
    if (child) {
      await new Promise<void>((res) => {
        const t = setTimeout(() => {
          try {
            process.kill(-child.pid!, 'SIGKILL');
          } catch {
            // already gone
          }
          res();
        }, graceMs);
        child.once('exit', () => {
          clearTimeout(t);
          res();
        });
      });
    }
    await new Promise<void>((res) => (this.log ? this.log.end(res) : res()));
    this.log = undefined;
  }
}
