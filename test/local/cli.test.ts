import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processesMentioning } from './fixtures/harness';
import { eventually } from './helpers';

/** `mlship up` in its own process, and the other local-cloud commands against it. */
const run = promisify(execFile);
const ENTRY = join(import.meta.dirname, 'fixtures', 'cli-entry.ts');
// Absolute, because the commands run in a temporary directory outside the repository.
const TSX = pathToFileURL(join(import.meta.dirname, '..', '..', 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const cwd = mkdtempSync(join(tmpdir(), 'mlship-cli-'));
const dataDir = join(cwd, '.mlship');
let up: ChildProcess;
let upOutput = '';

const mlship = (...args: string[]) =>
  run(process.execPath, ['--import', TSX, ENTRY, ...args], { cwd, env: { ...process.env, NODE_NO_WARNINGS: '1' } });

/** `mlship up` in `dir` (by default the test entry with tsx's loader); `detached` gives it a process group of its own, as a terminal does. */
function spawnUp(
  dir: string,
  detached = false,
  command = [process.execPath, '--import', TSX, ENTRY],
): { child: ChildProcess; output: () => string; line: (pred: (l: string) => boolean) => Promise<void> } {
  let output = '';
  const [file, ...args] = command as [string, ...string[]];
  const child = spawn(file, [...args, 'up', '--port', '0', '--no-console', '--no-schedule'], {
    cwd: dir,
    detached,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, NODE_NO_WARNINGS: '1' },
  });
  const waiting = new Set<{ pred: (l: string) => boolean; resolve: () => void }>();
  createInterface({ input: child.stdout! }).on('line', (l) => {
    output += `${l}\n`;
    for (const w of waiting) {
      if (w.pred(l)) {
        waiting.delete(w);
        w.resolve();
      }
    }
  });
  const line = (pred: (l: string) => boolean) =>
    new Promise<void>((resolve, reject) => {
      waiting.add({ pred, resolve });
      child.once('exit', (code, sig) => reject(new Error(`mlship up exited with ${code ?? sig}: ${output}`)));
    });
  return { child, output: () => output, line };
}

/** Start `mlship up` in `dir` and wait for its banner. */
async function startUp(
  dir: string,
  detached = false,
  command?: string[],
): Promise<{ child: ChildProcess; output: () => string; line: (pred: (l: string) => boolean) => Promise<void> }> {
  const up = spawnUp(dir, detached, command);
  await up.line((l) => l.startsWith('Watch with'));
  return up;
}

/** What is left of a stopped `mlship up` in `dir`: its exit, processes, cloud.json; removes the dir. */
async function stopped(dir: string, child: ChildProcess): Promise<{ code: number | string; left: number[]; cloudFileLeft: boolean }> {
  const code =
    child.exitCode ?? child.signalCode ?? (await new Promise<number | string>((r) => child.once('exit', (c, sig) => r(c ?? sig!))));
  const left = processesMentioning(join(dir, '.mlship'));
  const cloudFileLeft = existsSync(join(dir, '.mlship', 'cloud.json'));
  for (const pid of left) process.kill(pid, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
  return { code, left, cloudFileLeft };
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

describe('Command: mlship console stopped by Ctrl-C', () => {
  it('exits 0 when the Ctrl-C reaches it twice, from the terminal and from a wrapper that relays it', async () => {
    // Prepare: the console against the running local cloud, in a process group of its own.
    const child = spawn(process.execPath, ['--import', TSX, ENTRY, 'console', '--no-open', '--port', '0'], {
      cwd,
      detached: true,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, NODE_NO_WARNINGS: '1' },
    });
    let output = '';
    const exited = new Promise<number | string>((r) => child.once('exit', (c, sig) => r(c ?? sig!)));
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (l) => {
        output += `${l}\n`;
        if (l.startsWith('Ctrl-C to stop')) resolve();
      });
      void exited.then((c) => reject(new Error(`mlship console exited with ${c}: ${output}`)));
    });

    // Act: the group's copy, then at once the copy a parent (npm, tsx) forwards to its child
    process.kill(-child.pid!, 'SIGINT');
    process.kill(child.pid!, 'SIGINT');

    // Assess: the second copy did not kill it with the signal's default action mid-stop
    expect(await exited).toBe(0);
    expect(output).toContain('mlship console stopped');
  }, 60_000);
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
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'mlship-ctrlc-'));
    const { child, output } = await startUp(dir, true);
    const before = processesMentioning(join(dir, '.mlship', 's3'));

    // Act: a terminal's Ctrl-C signals every process of the foreground group.
    process.kill(-child.pid!, 'SIGINT');
    const { code, left, cloudFileLeft } = await stopped(dir, child);

    // Assess
    expect(before).toHaveLength(1); // the s3rver child, started with the data dir's s3 folder
    expect(code).toBe(0);
    expect(output()).toContain('mlship: local cloud stopped');
    expect(left).toEqual([]);
    expect(cloudFileLeft).toBe(false);
  }, 60_000);

  it("runs as one process when started as the package's mlship command, so a Ctrl-C reaches it without a relay", async () => {
    // Prepare: the file package.json names as the mlship command, run by its #! line. Under
    // the `tsx` command it would be tsx's child, and tsx's relay could re-send the Ctrl-C,
    // exit 130 or SIGKILL it mid-stop.
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { bin: { mlship: string } };
    const dir = mkdtempSync(join(tmpdir(), 'mlship-ctrlc-'));
    const { child, output } = await startUp(dir, true, [join(import.meta.dirname, '..', '..', pkg.bin.mlship)]);
    const cloudPid = (JSON.parse(readFileSync(join(dir, '.mlship', 'cloud.json'), 'utf8')) as { pid: number }).pid;

    // Act
    process.kill(-child.pid!, 'SIGINT');
    const { code, left, cloudFileLeft } = await stopped(dir, child);

    // Assess
    expect(cloudPid).toBe(child.pid);
    expect(code).toBe(0);
    expect(output()).toContain('mlship: local cloud stopped');
    expect(left).toEqual([]);
    expect(cloudFileLeft).toBe(false);
  }, 60_000);

  it('stops gracefully on a Ctrl-C that comes while the cloud is still starting', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'mlship-ctrlc-'));
    const { child, output } = spawnUp(dir, true);
    // The s3rver child is the first thing the start launches; the edge and the banner come later.
    await eventually(() => (processesMentioning(join(dir, '.mlship', 's3')).length ? true : undefined));

    // Act
    process.kill(-child.pid!, 'SIGINT');
    const { code, left, cloudFileLeft } = await stopped(dir, child);

    // Assess
    expect(code).toBe(0);
    expect(output()).toContain('mlship: local cloud stopped');
    expect(left).toEqual([]);
    expect(cloudFileLeft).toBe(false);
  }, 60_000);

  it('stops gracefully when a wrapper relays the Ctrl-C again during the stop, as npm and tsx do', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'mlship-ctrlc-'));
    const { child, output, line } = await startUp(dir, true);
    const stopping = line((l) => l.includes('stopping the local cloud'));

    // Act: the group's copy, then the copy a parent forwards to its child
    process.kill(-child.pid!, 'SIGINT');
    await stopping;
    process.kill(child.pid!, 'SIGINT');
    const { code, left, cloudFileLeft } = await stopped(dir, child);

    // Assess
    expect(code).toBe(0);
    expect(output()).toContain('mlship: local cloud stopped');
    expect(left).toEqual([]);
    expect(cloudFileLeft).toBe(false);
  }, 60_000);
});
