import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { inPlaceBuilder } from '../../../lib/check/in-build';
import { runCheck } from '../../../lib/check/run-check';
import { loadManifestText, type ModelManifest } from '../../../lib/config';
import { fakeS3, type FakeBucket } from '../lambdas/fake-s3';
import { versionRecord } from '../lambdas/fixtures';

/**
 * `mlship check --in-build`, what the pull-request CodeBuild project runs on AWS: the model's
 * buildspec in the checkout, then candidate and production scored by their model servers in
 * the build, judged as the release judges. S3 is an in-memory bucket; the servers are real.
 */

const FIXTURE = join(import.meta.dirname, '..', '..', 'workflow', 'fixtures', 'tiny');
const SLICES =
  '  bootstrap: 200\n  slices:\n    - feature: x\n      buckets: [{ name: low, below: 5 }, { name: high }]\n  sliceGate: { minRows: 20 }\n';

let repo: string;
let bucket: FakeBucket;

/** A checkout holding the tiny model with these knobs. */
function checkout(knobs: object): ModelManifest {
  repo = mkdtempSync(join(tmpdir(), 'mlship-inbuild-'));
  cpSync(FIXTURE, join(repo, 'models', 'tiny'), { recursive: true });
  writeFileSync(join(repo, 'models', 'tiny', 'knobs.json'), JSON.stringify(knobs));
  const yaml = readFileSync(join(FIXTURE, 'model.yaml'), 'utf8').replace('  bootstrap: 20\n', SLICES);
  writeFileSync(join(repo, 'models', 'tiny', 'model.yaml'), yaml);
  return loadManifestText(yaml, 'models/tiny/model.yaml');
}

/** Production: a build output of the fixture with these knobs, its registry record and pointer. */
function production(knobs: object, manifest: ModelManifest): void {
  const prodRepo = mkdtempSync(join(tmpdir(), 'mlship-inbuild-prod-'));
  cpSync(FIXTURE, join(prodRepo, 'models', 'tiny'), { recursive: true });
  writeFileSync(join(prodRepo, 'models', 'tiny', 'knobs.json'), JSON.stringify(knobs));
  const out = join(prodRepo, 'out');
  execFileSync(process.execPath, [join(prodRepo, 'models', 'tiny', 'train.mjs'), out]);
  const walk = (dir: string, rel = ''): string[] =>
    readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? walk(join(dir, f), `${rel}${f}/`) : [`${rel}${f}`]));
  for (const f of walk(out)) bucket.put(`builds/tiny/1111111-aaaa/${f}`, readFileSync(join(out, f)));
  bucket.put('registry/tiny/production.json', { model: 'tiny', version: '1111111-aaaa', since: 'then', endpointName: 'p' });
  const base = versionRecord();
  bucket.put(
    'registry/tiny/versions/1111111-aaaa.json',
    versionRecord({
      model: 'tiny',
      version: '1111111-aaaa',
      status: 'production',
      manifest,
      build: { ...base.build!, artifactsUri: 's3://mlship-artifacts/builds/tiny/1111111-aaaa/' },
    }),
  );
  rmSync(prodRepo, { recursive: true, force: true });
}

const deps = () => ({
  s3: new S3Client({ region: 'us-east-1' }),
  bucket: 'mlship-artifacts',
  workDir: join(repo, '.work'),
  now: () => new Date('2026-12-06T18:00:00Z'),
  builder: inPlaceBuilder(repo),
});

beforeEach(() => {
  bucket = fakeS3();
});
afterEach(() => {
  bucket.mock.restore();
  rmSync(repo, { recursive: true, force: true });
});

describe('Function: runCheck with inPlaceBuilder', () => {
  it("runs the model's buildspec in the checkout, passes a good first version on its bounds, and records the check", async () => {
    // Prepare
    const manifest = checkout({});

    // Act
    const record = await runCheck(deps(), { manifest, commit: 'a'.repeat(40), ref: 'pr-7', dirty: false });

    // Assess
    expect(record).toMatchObject({ status: 'passed', ref: 'pr-7', failures: [] });
    expect(bucket.json(`checks/tiny/${record.checkId}.json`)).toMatchObject({ status: 'passed' });
    expect(bucket.text(`checks/tiny/${record.checkId}/quality-report.html`)).toMatch(/<html/i);
  }, 60_000);

  it("fails a candidate worse than production on one slice, naming it, with production's server run in the build", async () => {
    // Prepare
    const manifest = checkout({ sliceBias: { below: 5, by: 1.5 } });
    production({}, manifest);

    // Act
    const record = await runCheck(deps(), { manifest, commit: 'b'.repeat(40), ref: 'pr-8', dirty: false });

    // Assess
    expect(record.status, record.failures.join('; ')).toBe('failed');
    expect(record.production?.version).toBe('1111111-aaaa');
    expect(record.failures).toEqual(expect.arrayContaining([expect.stringMatching(/^RMSE \+\d+ % on x=low, n=\d+ /)]));
  }, 60_000);

  it('ends in error naming evaluation.datasets when the build left out a dataset the manifest names', async () => {
    const manifest = { ...checkout({}) };
    manifest.evaluation = { ...manifest.evaluation, datasets: [{ name: 'client-a', path: 'data/eval-client-a.csv' }] };
    const record = await runCheck(deps(), { manifest, commit: 'd'.repeat(40), ref: 'pr-10', dirty: false });
    expect(record.status).toBe('error');
    expect(record.failures[0]).toMatch(/evaluation\.datasets "client-a": the build output has no data\/eval-client-a\.csv/);
  }, 60_000);

  it('ends in error, naming the buildspec and its log, when the buildspec fails', async () => {
    const manifest = checkout({ failBuild: true });
    const record = await runCheck(deps(), { manifest, commit: 'c'.repeat(40), ref: 'pr-9', dirty: false });
    expect(record.status).toBe('error');
    expect(record.failures[0]).toMatch(/the buildspec models\/tiny\/buildspec.yml failed \(exit 1\); log: .*build.log/);
  }, 60_000);
});
