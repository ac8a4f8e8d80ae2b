import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Things lib/ and lambdas/ keep in one place (issue 19), so a fix to one is a fix to all:
 * each pattern below may stand in exactly one source file. Comments are not counted.
 */
const ROOT = resolve(import.meta.dirname, '..', '..');

const sources = (): string[] =>
  ['lib', 'lambdas']
    .flatMap((dir) => readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' }).map((f) => join(ROOT, dir, f)))
    .filter((f) => /\.(ts|mts|mjs|js)$/.test(f) && !f.includes('/node_modules/'));

/** Source text without // and /* *\/ comments (good enough for this tree: no comment markers in strings it checks). */
const code = (file: string): string =>
  readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:'"`])\/\/.*$/gm, '$1');

const filesWith = (pattern: RegExp): string[] =>
  sources()
    .filter((f) => pattern.test(code(f)))
    .map((f) => relative(ROOT, f))
    .sort();

describe('One home each in lib/ and lambdas/', () => {
  it.each([
    ['Step Functions clients are made by the client factory', /new SFNClient\(/, 'lambdas/shared/clients.ts'],
    [
      'the S3 options a local or other endpoint needs are written once, in the client factory',
      /'WHEN_REQUIRED'/,
      'lambdas/shared/clients.ts',
    ],
    ['asl-validator is loaded once, for renderAsl() and CreateStateMachine alike', /\(\s*'asl-validator'\s*\)/, 'lib/asl/render.ts'],
    ['one writeJsonAtomic, the fsyncing one', /function writeJsonAtomic\b/, 'lib/local/core/fsutil.ts'],
  ])('%s', (_what, pattern, home) => {
    expect(filesWith(pattern)).toEqual([home]);
  });
});
