import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ENTRY = join(import.meta.dirname, 'fixtures', 'cli-entry.ts');
const TSX = pathToFileURL(join(import.meta.dirname, '..', '..', 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const cwd = mkdtempSync(join(tmpdir(), 'mlship-up-names-'));

const manifest = (name: string) =>
  `name: ${name}\ntask: regression\npaths: [models/**]\nserve: { command: node serve.mjs }\nfeatures: [{ name: x, type: numeric }]\nlabel: y\n`;

afterAll(() => rmSync(cwd, { recursive: true, force: true }));

describe('Command: mlship up (model names unique)', () => {
  it('refuses to start on two manifests with one name, in one line naming both files', async () => {
    // Prepare
    for (const [dir, name] of [['alpha', 'alpha'], ['alpha-copy', 'alpha'], ['beta', 'beta']]) {
      mkdirSync(join(cwd, 'models', dir!), { recursive: true });
      writeFileSync(join(cwd, 'models', dir!, 'model.yaml'), manifest(name!));
    }

    // Act
    const result = await run(process.execPath, ['--import', TSX, ENTRY, 'up', '--port', '0', '--no-console', '--no-schedule'], {
      cwd,
      env: { ...process.env, NODE_NO_WARNINGS: '1' },
    }).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code: number; stderr: string }) => err,
    );

    // Assess
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('models/alpha-copy/model.yaml: name: "alpha" is already the name of models/alpha/model.yaml');
  });
});
