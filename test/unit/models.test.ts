import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { discoverModels } from '../../lib/config';
import { parseBuildspec } from '../../lib/local/services/codebuild/buildspec';
import { sliceRows } from '../../lambdas/ml/slices';

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

  it.each([
    ['delivery-time', ['origin_region', 'service_level']],
    ['ticket-triage', ['channel']],
  ])('%s declares slices by %j, each gated on its build holdout (2,000 rows, seed 2)', async (name, features) => {
    // Prepare: the holdout the model's buildspec generates
    const { dir, manifest } = all.find((m) => m.manifest.name === name)!;
    const { generateRows } = (await import(pathToFileURL(join(repoRoot, dir, 'generate.mjs')).href)) as {
      generateRows: (o: { seed: number; n: number; drift: number }) => Record<string, unknown>[];
    };
    const holdout = generateRows({ seed: 2, n: 2000, drift: 0 });

    // Assess: a slice under minRows would be reported and never gated
    expect(manifest.evaluation.slices.map((s) => s.feature)).toEqual(expect.arrayContaining(features));
    for (const spec of manifest.evaluation.slices) {
      const slices = sliceRows(
        spec,
        holdout.map((r) => String(r[spec.feature])),
      );
      for (const [value, rows] of slices)
        expect(rows.length, `${spec.feature}=${value}`).toBeGreaterThanOrEqual(manifest.evaluation.sliceGate.minRows);
    }
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

  for (const { manifest, dir } of all) {
    it(`${manifest.name}: pushes its image as <commit>-<build number>, a new tag for each build of a commit`, () => {
      // Prepare: the buildspec's post_build with IMAGE_BUILDER=docker, and docker/aws stand-ins
      // that record what would be pushed (ECR tags are immutable: a repeated tag fails on AWS)
      const spec = parseYaml(readFileSync(join(repoRoot, dir, manifest.build.buildspec), 'utf8')) as {
        phases: { post_build: { commands: string[] } };
      };
      const bin = mkdtempSync(join(tmpdir(), 'mlship-push-'));
      const log = join(bin, 'pushes.log');
      writeFileSync(
        join(bin, 'docker'),
        `#!/bin/sh\nif [ "$1" = push ]; then echo "$2" >> "${log}"; fi\nif [ "$1" = inspect ]; then echo "repo@sha256:${'a'.repeat(64)}"; fi\n`,
      );
      writeFileSync(join(bin, 'aws'), '#!/bin/sh\necho password\n');
      chmodSync(join(bin, 'docker'), 0o755);
      chmodSync(join(bin, 'aws'), 0o755);
      const postBuild = (buildNumber: number) =>
        spawnSync('bash', ['-ec', spec.phases.post_build.commands.join('\n')], {
          encoding: 'utf8',
          env: {
            PATH: `${bin}:${process.env.PATH}`,
            IMAGE_BUILDER: 'docker',
            IMAGE_REPOSITORY_URI: '111122223333.dkr.ecr.eu-west-1.amazonaws.com/mlship/m',
            IMAGE_TAG_PREFIX: 'c0ffee1',
            CODEBUILD_BUILD_NUMBER: String(buildNumber),
            CODEBUILD_BUILD_SUCCEEDING: '1',
            AWS_REGION: 'eu-west-1',
            MODEL_DIR: dir,
          },
        });
      try {
        // Act: two builds of one commit
        const runs = [postBuild(7), postBuild(8)];

        // Assess
        for (const r of runs) expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
        expect(readFileSync(log, 'utf8').trim().split('\n')).toEqual([
          '111122223333.dkr.ecr.eu-west-1.amazonaws.com/mlship/m:c0ffee1-7',
          '111122223333.dkr.ecr.eu-west-1.amazonaws.com/mlship/m:c0ffee1-8',
        ]);
      } finally {
        rmSync(bin, { recursive: true, force: true });
      }
    });
  }

  for (const { manifest, dir } of models) {
    describe(`Model: ${manifest.name}`, () => {
      it('declares the features and label of its code, in its CSV column order', async () => {
        // Prepare
        const schema = (await import(pathToFileURL(join(repoRoot, dir, 'lib', 'schema.mjs')).href)) as SchemaModule;
        // Assess
        expect(manifest.features.map((f) => ({ name: f.name, type: f.type }))).toEqual(
          schema.FEATURES.map((f) => ({ name: f.name, type: f.type })),
        );
        expect(manifest.label).toBe(schema.LABEL);
      });

      it('passes its own node:test suite', () => {
        // Prepare
        const testDir = join(repoRoot, dir, 'test');
        const files = readdirSync(testDir)
          .filter((f) => f.endsWith('.test.mjs'))
          .map((f) => join(testDir, f));
        // Act
        const run = spawnSync(process.execPath, ['--test', '--test-reporter=tap', ...files], { cwd: repoRoot, encoding: 'utf8' });
        // Assess
        expect(files.length).toBeGreaterThan(0);
        expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
        expect(run.stdout).toMatch(/# fail 0/);
      });
    });
  }
});
