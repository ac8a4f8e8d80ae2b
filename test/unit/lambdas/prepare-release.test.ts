import './task-env';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fromEnv, handler, makeHandler } from '../../../lambdas/prepare-release/handler';
import { versionIdOf } from '../../../lambdas/prepare-release/prepare';
import type { VersionRecord } from '../../../lambdas/shared/registry';
import { fakeS3, sdkError, type FakeBucket } from './fake-s3';
import { EXECUTION_ARN, MANIFEST_YAML } from './fixtures';
import { makeZip } from './zip';

const commit = 'abcdef1234567890abcdef1234567890abcdef12';
const sourceKey = `source/delivery-time/${commit}.zip`;
const event = (input: Record<string, unknown> = {}) => ({
  input: { model: 'delivery-time', commitId: commit, sourceUri: `s3://mlship-artifacts/${sourceKey}`, trigger: 'push', ...input },
  executionId: EXECUTION_ARN,
  executionName: 'e1',
});

describe('Handler: PrepareRelease', () => {
  let bucket: FakeBucket;
  beforeEach(() => {
    bucket = fakeS3();
  });
  afterEach(() => bucket.mock.restore());

  it('validates the manifest, snapshots it, creates the version record and returns the names and config', async () => {
    // Prepare
    bucket.put(sourceKey, await makeZip({ 'models/delivery-time/model.yaml': MANIFEST_YAML, 'README.md': 'x' }));
    bucket.put('registry/delivery-time/production.json', { model: 'delivery-time', version: '1111111-aaaa', since: 'then' });

    // Act
    const result = await handler(event({ reason: 'new features', pollSeconds: 0, author: { name: 'Ann', email: 'ann@example.com' } }));

    // Assess
    const version = versionIdOf(commit, EXECUTION_ARN);
    expect(result).toMatchObject({
      version,
      stagingEndpoint: 'mlship-delivery-time-staging',
      productionEndpoint: 'mlship-delivery-time-production',
      buildProject: 'mlship-build-delivery-time',
      pollSeconds: 0,
      approvalTimeoutSeconds: 7200,
    });
    expect(version).toMatch(/^abcdef1-[0-9a-f]{4}$/);
    const record = bucket.json<VersionRecord>(`registry/delivery-time/versions/${version}.json`);
    expect(record).toMatchObject({
      status: 'building',
      commitId: commit,
      trigger: 'push',
      reason: 'new features',
      execution: { arn: EXECUTION_ARN, name: 'e1' },
      author: { name: 'Ann', email: 'ann@example.com' },
    });
    expect(record.manifest.approval.separationOfDuties).toBe(true);
    // The rest of the configuration later states read from the version record, not from the state.
    expect(record.manifest).toMatchObject({
      build: { buildspec: 'buildspec.yml' },
      deployment: { strategy: 'canary', stepPercent: 20, bakeTime: 600 },
      evaluation: { metrics: { rmse: { direction: 'lower', bound: 5 } } },
    });
    expect(record.lineage.previousProduction).toBe('1111111-aaaa');
    expect(record.manifestUri).toBe(`s3://mlship-artifacts/registry/delivery-time/manifests/${version}.yaml`);
    expect(record.source.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(record.manifest.loadTest).toEqual({ rps: 20, duration: 2, p99Ms: 200, maxErrorRate: 0.05 });
    expect(bucket.text(`registry/delivery-time/manifests/${version}.yaml`)).toBe(MANIFEST_YAML);
    expect(bucket.mock).toReceiveCommandWith(PutObjectCommand, {
      Key: `registry/delivery-time/versions/${version}.json`,
      IfNoneMatch: '*',
    });
  });

  it('names the one build project of every model when BUILD_PROJECT_NAME is set (AWS, issue 17)', async () => {
    // Prepare
    bucket.put(sourceKey, await makeZip({ 'models/delivery-time/model.yaml': MANIFEST_YAML }));
    const shared = makeHandler(Object.assign(fromEnv(), { buildProjectName: 'mlship-build-models' }));
    // Act
    const result = await shared(event({ pollSeconds: 0 }));
    // Assess
    expect(result).toMatchObject({ buildProject: 'mlship-build-models' });
  });

  it('returns exactly what the release workflow keeps of it (ResultSelector) and reads from it', async () => {
    // Prepare
    bucket.put(sourceKey, await makeZip({ 'models/delivery-time/model.yaml': MANIFEST_YAML }));
    const asl = readFileSync(fileURLToPath(new URL('../../../statemachines/release.asl.json', import.meta.url)), 'utf8');
    const selector = (JSON.parse(asl) as { States: { PrepareRelease: { ResultSelector: Record<string, string> } } }).States.PrepareRelease
      .ResultSelector;
    const kept = Object.keys(selector).map((k) => k.replace(/\.\$$/, ''));
    const read = new Set([...asl.matchAll(/\$\.PrepareReleaseResult\.([A-Za-z]+)/g)].map((m) => m[1]!));

    // Act
    const result = await handler(event());

    // Assess
    expect(Object.keys(result).sort()).toEqual([...kept].sort());
    expect(kept.every((k) => selector[`${k}.$`] === `$.Payload.${k}`)).toBe(true);
    for (const field of read) expect(kept, field).toContain(field);
  });

  it('gives a retry of the same execution the same version and record', async () => {
    bucket.put(sourceKey, await makeZip({ 'models/delivery-time/model.yaml': MANIFEST_YAML }));
    const first = await handler(event());
    const second = await handler(event());
    expect(second.version).toBe(first.version);
    expect(first.pollSeconds).toBe(30);
  });

  it('finds the manifest under the single top-level folder of a GitHub-style archive', async () => {
    bucket.put(sourceKey, await makeZip({ 'repo-abcdef1/models/delivery-time/model.yaml': MANIFEST_YAML }));
    await expect(handler(event())).resolves.toMatchObject({ stagingEndpoint: 'mlship-delivery-time-staging' });
  });

  it('fails with InvalidManifestError naming the file and the field of a broken manifest', async () => {
    // Prepare
    bucket.put(
      sourceKey,
      await makeZip({ 'models/delivery-time/model.yaml': MANIFEST_YAML.replace('task: regression', 'task: forecasting') }),
    );

    // Act
    const error = (await handler(event()).then(
      () => undefined,
      (e: unknown) => e,
    )) as Error;

    // Assess
    expect(error.name).toBe('InvalidManifestError');
    expect(error.message).toMatch(/^models\/delivery-time\/model\.yaml: task: must be one of "regression", "classification"/);
    expect(bucket.keys('registry/')).toEqual([]);
  });

  it('fails with InvalidManifestError when the archive has no manifest or names another model', async () => {
    bucket.put(sourceKey, await makeZip({ 'models/other/model.yaml': MANIFEST_YAML }));
    await expect(handler(event())).rejects.toMatchObject({
      name: 'InvalidManifestError',
      message: expect.stringContaining('has no models/delivery-time/model.yaml'),
    });
    bucket.put(
      sourceKey,
      await makeZip({ 'models/delivery-time/model.yaml': MANIFEST_YAML.replace('name: delivery-time', 'name: ticket-triage') }),
    );
    await expect(handler(event())).rejects.toMatchObject({
      name: 'InvalidManifestError',
      message: expect.stringContaining('does not match the released model'),
    });
  });

  it('fails with SourceNotFoundError when the source archive is missing', async () => {
    await expect(handler(event())).rejects.toMatchObject({ name: 'SourceNotFoundError', message: expect.stringContaining(sourceKey) });
  });

  it('refuses a malformed execution input, naming the field', async () => {
    await expect(handler(event({ commitId: 'not-a-commit' }))).rejects.toMatchObject({
      name: 'InvalidEventError',
      message: expect.stringContaining('input.commitId'),
    });
    await expect(handler(event({ trigger: 'cron' }))).rejects.toMatchObject({
      name: 'InvalidEventError',
      message: expect.stringContaining('input.trigger'),
    });
  });

  it('reports S3 throttling as a TransientError', async () => {
    bucket.mock.rejects(sdkError('SlowDown', 503));
    await expect(handler(event())).rejects.toMatchObject({ name: 'TransientError' });
  });
});
