import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * package.json says what runs where: `dependencies` is what bin/, lib/ and lambdas/ load at
 * run time (cdk synth, mlship up, the tasks), which an install without devDependencies
 * must still have; `devDependencies` is what only tests, benchmarks and tooling load.
 * Read from the sources' module specifiers, including the `createRequire(...)('name')` form
 * a static import graph does not see (asl-validator is loaded that way).
 */
const ROOT = resolve(import.meta.dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

const RUNTIME_DIRS = ['bin', 'lib', 'lambdas'];
const SPECIFIER = /(?:\bfrom\s+|\bimport\s*\(\s*|\brequire\s*\(\s*|\)\s*\(\s*|^\s*import\s+)['"]([^'".][^'"]*)['"]/gm;

const packageOf = (specifier: string): string =>
  specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');

function runtimePackages(): Set<string> {
  const found = new Set<string>();
  for (const dir of RUNTIME_DIRS) {
    for (const rel of readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })) {
      if (!/\.(ts|mts|mjs|js|cjs)$/.test(rel) || rel.includes('node_modules')) continue;
      // A type-only import is erased: it needs the package at compile time only.
      const text = readFileSync(join(ROOT, dir, rel), 'utf8').replace(/^\s*(import|export)\s+type\s[^;]*;/gm, '');
      for (const m of text.matchAll(SPECIFIER)) {
        const name = packageOf(m[1]!);
        if (!name.startsWith('node:') && !builtinModules.includes(name)) found.add(name);
      }
    }
  }
  return found;
}

describe('package.json', () => {
  const used = runtimePackages();

  it('lists every package bin/, lib/ and lambdas/ load at run time under dependencies', () => {
    expect([...used].filter((name) => !(name in pkg.dependencies)).sort()).toEqual([]);
  });

  it('lists under dependencies only packages they load at run time', () => {
    const unused = Object.keys(pkg.dependencies).filter((name) => !used.has(name));
    expect(unused.sort()).toEqual([]);
  });
});
