import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

/** The s3rver child process on a free loopback port. */
export interface S3Server {
  /** The child's pid. */
  pid: number;
  port: number;
  url: string;
  close(): Promise<void>;
}

const CHILD = fileURLToPath(new URL('./child.mjs', import.meta.url));

/**
 * Start s3rver as a child process storing objects under `directory`, with `bucket` created.
 * @throws when the child exits or prints nothing usable within 30 s; the message carries its stderr
 */
export async function startS3Server(directory: string, bucket: string): Promise<S3Server> {
  mkdirSync(directory, { recursive: true });
  // detached: a process group of its own, so a terminal's Ctrl-C never reaches it, not even
  // while it loads s3rver, before child.mjs can ignore signals; the cloud's graceful stop
  // still needs S3. It ends when its stdin closes, at close() or when the parent dies.
  const child: ChildProcess = spawn(process.execPath, ['--openssl-legacy-provider', CHILD, directory, bucket], {
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const port = await new Promise<number>((resolve, reject) => {
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
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    pid: child.pid!,
    port,
    url: `http://127.0.0.1:${port}`,
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.stdin!.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
