import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

/** The s3rver child process on a loopback port, restarted on that port when it dies. */
export interface S3Server {
  /** The current child's pid (a restart changes it). */
  readonly pid: number;
  port: number;
  url: string;
  /** False while the child is down and being restarted. */
  readonly up: boolean;
  /** Resolves when the child serves, at once when it does; false when it is not back within `timeoutMs`. */
  ready(timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

/** Options of {@link startS3Server}. */
export interface S3ServerOptions {
  /** Receives a line for each unexpected exit and each restart. @default stderr */
  log?: (line: string) => void;
}

const CHILD = fileURLToPath(new URL('./child.mjs', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Spawn the child on `port` (0 = any) and wait for its {"port": N} line. */
async function spawnChild(directory: string, bucket: string, port: number): Promise<{ child: ChildProcess; port: number }> {
  // detached: a process group of its own, so a terminal's Ctrl-C never reaches it, not even
  // while it loads s3rver, before child.mjs can ignore signals; the cloud's graceful stop
  // still needs S3. It ends when its stdin closes, at close() or when the parent dies.
  const child: ChildProcess = spawn(process.execPath, ['--openssl-legacy-provider', CHILD, directory, bucket, String(port)], {
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const listening = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`s3rver did not start within 30 s: ${stderr}`)), 30_000);
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => {
      clearTimeout(timer);
      try {
        resolve((JSON.parse(line) as { port: number }).port);
      } catch {
        reject(new Error(`s3rver printed an unexpected line: ${line} ${stderr}`));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`s3rver exited with code ${code} before listening: ${stderr}`));
    });
  });
  return { child, port: listening };
}

/**
 * Start s3rver as a child process storing objects under `directory`, with `bucket` created.
 * A child that exits while the cloud runs (killed, crashed) is logged and started again on the
 * same port, with backoff; objects are on disk, so nothing is lost, and callers see refused
 * connections for about a second, which the edge turns into waits and 503s (core/edge.ts).
 * @throws when the first child exits or prints nothing usable within 30 s; the message carries its stderr
 */
export async function startS3Server(directory: string, bucket: string, opts: S3ServerOptions = {}): Promise<S3Server> {
  mkdirSync(directory, { recursive: true });
  const log = opts.log ?? ((line: string) => process.stderr.write(`mlship local cloud: ${line}\n`));
  const first = await spawnChild(directory, bucket, 0);
  const port = first.port;
  let child = first.child;
  let closing = false;
  let up = true;
  let waiters: Array<() => void> = [];

  const supervise = (c: ChildProcess) => {
    c.once('exit', (code, signal) => {
      if (closing || c !== child) return;
      up = false;
      log(`the S3 server (s3rver, pid ${c.pid}) exited (${signal ?? `exit code ${code}`}); restarting it on port ${port}`);
      void restart();
    });
  };
  const restart = async () => {
    for (let attempt = 1; !closing; attempt++) {
      try {
        const next = await spawnChild(directory, bucket, port);
        if (closing) {
          next.child.stdin!.end();
          return;
        }
        child = next.child;
        supervise(child);
        up = true;
        log(`the S3 server is back (pid ${child.pid}, port ${port}, attempt ${attempt})`);
        for (const w of waiters) w();
        waiters = [];
        return;
      } catch (err) {
        log(`restarting the S3 server failed (attempt ${attempt}): ${(err as Error).message}`);
        await sleep(Math.min(5000, 200 * 2 ** attempt));
      }
    }
  };
  supervise(child);

  return {
    get pid() {
      return child.pid!;
    },
    port,
    url: `http://127.0.0.1:${port}`,
    get up() {
      return up;
    },
    ready(timeoutMs) {
      if (up) return Promise.resolve(true);
      return new Promise((resolve) => {
        const done = () => {
          clearTimeout(timer);
          resolve(true);
        };
        const timer = setTimeout(() => {
          waiters = waiters.filter((w) => w !== done);
          resolve(false);
        }, timeoutMs);
        waiters.push(done);
      });
    },
    async close() {
      closing = true;
      for (const w of waiters) w();
      const c = child;
      if (c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
      c.stdin!.end();
      const timer = setTimeout(() => c.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
