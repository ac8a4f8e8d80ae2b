import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { discoverModels } from '../../lib/config';
import { parseBuildspec } from '../../lib/local/codebuild/buildspec';

/**
 * The example models under models/ are plain Node.js ES modules with no npm dependencies,
 * tested with node:test so their own build can run the tests without vitest. This suite runs
 * those tests from the repository's suite, and checks what ties each model to the platform.
 */

const repoRoot = join(import.meta.dirname, '..', '..');
const all = discoverModels(repoRoot);
/** The Node.js examples; the Python one (breast-cancer) is built and tested by test/models. */
const models = all.filter((m) => existsSync(join(repoRoot, m.dir, 'lib', 'schema.mjs')));

/** Library modules every model keeps an identical copy of, so each model directory ships alone. */
const SHARED_LIB = ['args.mjs', 'child.mjs', 'csv.mjs', 'prng.mjs', 'server.mjs'];

interface SchemaModule {
  FEATURES: { name: string; type: string }[];
  LABEL: string;
}

describe('Directory: models', () => {
  it('holds the three example models, two of them Node.js', () => {
    expect(all.map((m) => m.manifest.name)).toEqual(['breast-cancer', 'delivery-time', 'ticket-triage']);
    expect(models.map((m) => m.manifest.name)).toEqual(['delivery-time', 'ticket-triage']);
  });

  it("keeps every example's buildspec a valid v0.2 document", () => {
    for (const { dir, manifest } of all) {
      const file = join(dir, manifest.build.buildspec);
      expect(() => parseBuildspec(readFileSync(join(repoRoot, file), 'utf8'), file), file).not.toThrow();
    }
  });

  it('keeps the shared library modules identical across models', () => {
    const [first, ...rest] = models;
    for (const file of SHARED_LIB) {
      const reference = readFileSync(join(repoRoot, first!.dir, 'lib', file), 'utf8');
      for (const other of rest) {
        expect(readFileSync(join(repoRoot, other.dir, 'lib', file), 'utf8'), `${other.dir}/lib/${file}`).toBe(reference);
      }
    }
  });

  for (const { manifest, dir } of models) {
    describe(`Model: ${manifest.name}`, () => {
      it('declares the features and label of its code, in its CSV column order', async () => {
        // Prepare
        const schema = (await import(pathToFileURL(join(repoRoot, dir, 'lib', 'schema.mjs')).href)) as SchemaModule;
        // Assess
        expect(manifest.features.map((f) => ({ name: f.name, type: f.type }))).toEqual(schema.FEATURES.map((f) => ({ name: f.name, type: f.type })));
        expect(manifest.label).toBe(schema.LABEL);
      });

      it('passes its own node:test suite', () => {
        // Prepare
        const testDir = join(repoRoot, dir, 'test');
        const files = readdirSync(testDir).filter((f) => f.endsWith('.test.mjs')).map((f) => join(testDir, f));
        // Act
        const run = spawnSync(process.execPath, ['--test', ...files], { cwd: repoRoot, encoding: 'utf8' });
        // Assess
        expect(files.length).toBeGreaterThan(0);
        expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
        expect(run.stdout).toMatch(/# fail 0/);
      });
    });
  }
});
