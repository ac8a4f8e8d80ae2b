import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

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

beforeAll(async () => {
  up = spawn(process.execPath, ['--import', TSX, ENTRY, 'up', '--port', '0', '--no-console', '--no-schedule'], { cwd, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NODE_NO_WARNINGS: '1' } });
  await new Promise<void>((resolve, reject) => {
    const lines = createInterface({ input: up.stdout! });
    lines.on('line', (l) => {
      upOutput += `${l}\n`;
      if (l.startsWith('Watch with')) resolve();
    });
    up.once('exit', (code) => reject(new Error(`mlship up exited with ${code}: ${upOutput}`)));
  });
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
