import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually } from './helpers';

const ENTRY = join(import.meta.dirname, 'fixtures', 'cli-entry.ts');
const TSX = pathToFileURL(join(import.meta.dirname, '..', '..', 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const cwd = mkdtempSync(join(tmpdir(), 'mlship-up-names-'));

const manifest = (name: string) =>
  `name: ${name}\ntask: regression\npaths: [models/**]\nserve: { command: node serve.mjs }\nfeatures: [{ name: x, type: numeric }]\nlabel: y\n`;

afterAll(() => rmSync(cwd, { recursive: true, force: true }));

describe('Command: mlship up (model names unique)', () => {
  it('serves neither of two manifests with one name, says so in one line naming both files, and serves the others', async () => {
    // Prepare
    for (const [dir, name] of [
      ['alpha', 'alpha'],
      ['alpha-copy', 'alpha'],
      ['beta', 'beta'],
    ]) {
      mkdirSync(join(cwd, 'models', dir!), { recursive: true });
      writeFileSync(join(cwd, 'models', dir!, 'model.yaml'), manifest(name!));
    }

    // Act: start it, read its banner, stop it
    const child = spawn(process.execPath, ['--import', TSX, ENTRY, 'up', '--port', '0', '--no-console', '--no-schedule'], {
      cwd,
      env: { ...process.env, NODE_NO_WARNINGS: '1' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await eventually(() => (stdout.includes('mlship local cloud is up') ? true : undefined), 100);
    child.kill('SIGTERM');
    const code = await exited;

    // Assess
    const mentions = stderr.split('\n').filter((l) => l.includes('alpha'));
    expect(mentions, stderr).toHaveLength(1);
    expect(mentions[0]).toContain('models/alpha-copy/model.yaml: name: "alpha" is already the name of models/alpha/model.yaml');
    expect(mentions[0]).toContain('neither is served');
    expect(stdout).toMatch(/models\s+beta\n/);
    expect(code).toBe(0);
  });
});
