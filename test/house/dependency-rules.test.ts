import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The import rules of .dependency-cruiser.cjs, run as `npm run lint:deps` runs them: over the
 * tree (no violation), and over a small fake tree that breaks each rule once (each reported),
 * so a rule that silently matched nothing would fail here too.
 */
const ROOT = resolve(import.meta.dirname, '..', '..');
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');
const DEPCRUISE = join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');

interface Violation {
  from: string;
  to: string;
  rule: { name: string };
  cycle?: { name: string }[];
}

async function cruise(cwd: string, paths: string[]): Promise<Violation[]> {
  // --output-type json exits 0 with the violations in the summary, whatever their number.
  const { stdout } = await promisify(execFile)(process.execPath, [DEPCRUISE, '--config', CONFIG, '--output-type', 'json', ...paths], {
    cwd,
    maxBuffer: 256 * 1024 * 1024,
  });
  return (JSON.parse(stdout) as { summary: { violations: Violation[] } }).summary.violations;
}

const write = (root: string, files: Record<string, string>) => {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
};

describe('The dependency rules (npm run lint:deps)', () => {
  it('find no violation in bin/, lib/ and lambdas/', async () => {
    // Act
    const violations = await cruise(ROOT, ['bin', 'lib', 'lambdas']);

    // Assess
    expect(violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`)).toEqual([]);
  });

  describe('over a tree that breaks each rule once', () => {
    let fake: string;
    let violations: Violation[];

    beforeAll(async () => {
      // Prepare: service b imports service a's internals; cloud.ts (outside the services) does
      // too; c.ts and d.ts form a cycle whose one side is a type-only import.
      fake = mkdtempSync(join(tmpdir(), 'mlship-depcruise-'));
      write(fake, {
        'tsconfig.json': JSON.stringify({ compilerOptions: { module: 'ESNext', moduleResolution: 'Bundler', strict: true } }),
        'lib/local/services/a/index.ts': "export { secret } from './internal';\n",
        'lib/local/services/a/internal.ts': 'export const secret = 1;\n',
        'lib/local/services/b/index.ts':
          "import { secret } from '../a/internal';\nimport { secret as viaIndex } from '../a';\nexport const b = secret + viaIndex;\n",
        'lib/local/cloud.ts':
          "import { secret } from './services/a/internal';\nimport { b } from './services/b';\nexport const cloud = secret + b;\n",
        'lib/c.ts': "import type { D } from './d';\nexport interface C { d?: D }\n",
        'lib/d.ts': "import type { C } from './c';\nexport interface D { c?: C }\n",
      });

      // Act
      violations = await cruise(fake, ['lib']);
    });
    afterAll(() => rmSync(fake, { recursive: true, force: true }));

    it("reports another service's internals imported by a service, and only that import", () => {
      expect(violations.filter((v) => v.rule.name === 'service-internals-from-another-service').map((v) => [v.from, v.to])).toEqual([
        ['lib/local/services/b/index.ts', 'lib/local/services/a/internal.ts'],
      ]);
    });

    it("reports a service's internals imported from outside lib/local/services, and not its index.ts", () => {
      expect(violations.filter((v) => v.rule.name === 'service-internals-from-outside').map((v) => [v.from, v.to])).toEqual([
        ['lib/local/cloud.ts', 'lib/local/services/a/internal.ts'],
      ]);
    });

    it('reports a cycle made of type-only imports', () => {
      // dependency-cruiser reports a cycle once, from one of its modules, with the path around it.
      const cycles = violations.filter((v) => v.rule.name === 'no-circular');
      expect(cycles).toHaveLength(1);
      expect(new Set([cycles[0]!.from, ...cycles[0]!.cycle!.map((c) => c.name)])).toEqual(new Set(['lib/c.ts', 'lib/d.ts']));
    });
  });
});
