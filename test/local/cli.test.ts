import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processesMentioning } from './fixtures/harness';

/** `mlship up` in its own process, and the other local-cloud commands against it. */
const run = promisify(execFile);
const ENTRY = join(import.meta.dirname, 'fixtures', 'cli-entry.ts');
// Absolute, because the commands run in a temporary directory outside the repository.
const TSX = pathToFileURL(join(import.meta.dirname, '..', '..', 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const cwd = mkdtempSync(join(tmpdir(), 'mlship-cli-'));
const dataDir = join(cwd, '.mlship');
let up: ChildProcess;
let upOutput = '';

const mlship = (...args: string[]) => run(process.execPath, ['--import', TSX, ENTRY, ...args], { cwd, env: { ...process.env, NODE_NO_WARNINGS: '1' } });

/** Start `mlship up` in `dir` and wait for its banner; `detached` gives it a process group of its own, as a terminal does. */
async function startUp(dir: string, detached = false): Promise<{ child: ChildProcess; output: () => string }> {
  let output = '';
  const child = spawn(process.execPath, ['--import', TSX, ENTRY, 'up', '--port', '0', '--no-console', '--no-schedule'], {
    cwd: dir,
    detached,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, NODE_NO_WARNINGS: '1' },
  });
  await new Promise<void>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (l) => {
      output += `${l}\n`;
      if (l.startsWith('Watch with')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`mlship up exited with ${code}: ${output}`)));
  });
  return { child, output: () => output };
}

beforeAll(async () => {
  const started = await startUp(cwd);
  up = started.child;
  upOutput = started.output();
});

afterAll(async () => {
  if (up.exitCode === null) up.kill('SIGKILL');
  rmSync(cwd, { recursive: true, force: true });
});

describe('Command: mlship up / status / drift run / logs / down', () => {
  it('prints the endpoint, data dir and git remote, and writes cloud.json', () => {
    expect(upOutput).toMatch(/endpoint\s+http:\/\/127\.0\.0\.1:\d+/);
    expect(upOutput).toContain(dataDir);
    expect(upOutput).toMatch(/git remote add mlship \S+models\.git/);
    expect(existsSync(join(dataDir, 'cloud.json'))).toBe(true);
  });

  it('starts a drift check, lists it in status and prints its history', async () => {
    // Act
    const started = await mlship('drift', 'run', 'no-such-model', '--wait').catch((err: { stdout: string }) => err);
    const name = /started drift check (\S+)/.exec(started.stdout)![1]!;
    const outcome = /^mlship: (SUCCEEDED|FAILED)/m.exec(started.stdout)![1]!;
    const status = JSON.parse((await mlship('status', '--json')).stdout) as Array<{ name: string; workflow: string; status: string }>;
    const table = (await mlship('status')).stdout;
    const logs = (await mlship('logs', name)).stdout;

    // Assess: whatever the handlers make of an unknown model, every view agrees on it
    expect(status).toContainEqual(expect.objectContaining({ name, workflow: 'drift-check', status: outcome }));
    expect(table).toMatch(new RegExp(`${name}\\s+drift-check\\s+${outcome}`));
    expect(logs).toContain('ExecutionStarted');
    expect(logs).toContain('TaskStateEntered');
    expect(logs).toContain(outcome === 'SUCCEEDED' ? 'ExecutionSucceeded' : 'ExecutionFailed');
  }, 120_000);

  it('refuses a bad request body for invoke with exit code 2', async () => {
    await expect(mlship('invoke', 'm', '{not json')).rejects.toMatchObject({ code: 2 });
  });

  it('stops the cloud with down and removes cloud.json', async () => {
    const out = await mlship('down');
    expect(out.stdout).toContain('stopped the local cloud');
    expect(existsSync(join(dataDir, 'cloud.json'))).toBe(false);
    expect(up.exitCode ?? (await new Promise((r) => up.once('exit', r)))).toBe(0);
  });
});

describe('Command: mlship up stopped by Ctrl-C', () => {
  it('stops gracefully when the whole process group gets SIGINT, and leaves no process behind', async () => {
    // Arrange
    const dir = mkdtempSync(join(tmpdir(), 'mlship-ctrlc-'));
    const { child, output } = await startUp(dir, true);
    const s3Dir = join(dir, '.mlship', 's3');
    const before = processesMentioning(s3Dir);

    // Act: a terminal's Ctrl-C signals every process of the foreground group.
    process.kill(-child.pid!, 'SIGINT');
    const code = await new Promise((r) => child.once('exit', (c, sig) => r(c ?? sig)));
    const left = processesMentioning(s3Dir);
    const cloudFileLeft = existsSync(join(dir, '.mlship', 'cloud.json'));
    for (const pid of left) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });

    // Assess
    expect(before).toHaveLength(1); // the s3rver child, started with the data dir's s3 folder
    expect(code).toBe(0);
    expect(output()).toContain('mlship: local cloud stopped');
    expect(left).toEqual([]);
    expect(cloudFileLeft).toBe(false);
  }, 60_000);
});
