import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchGetBuildsCommand, CodeBuildClient, StartBuildCommand, type Build } from '@aws-sdk/client-codebuild';
import { createCodeBuildService, type CodeBuildService } from '../../../lib/local/services/codebuild';
import { startMiniEdge, type MiniEdge } from '../fixtures/mini-edge';
import {
  ACCOUNT,
  BUCKET,
  credentials,
  REGION,
  startS3,
  tinyModel,
  tmpDataDir,
  uploadTinySource,
  type S3Fixture,
} from '../fixtures/harness';

const PROJECT = 'mlship-build-tiny';

/**
 * A buildspec whose install phase stands in for `pip install`: it "installs" into .deps/
 * (a timestamp, so a reinstall is visible) unless .deps/ came back from the cache.
 */
const specWith = (cache: string[], opts: { fail?: boolean } = {}) =>
  [
    'version: 0.2',
    'env:',
    '  exported-variables: [INSTALLED, HOW]',
    ...cache,
    'phases:',
    '  install:',
    '    commands:',
    '      - if [ -f .deps/stamp ]; then HOW=cached; else HOW=installed; mkdir -p .deps/lib && date +%s%N > .deps/stamp && ln -sf stamp .deps/link; fi',
    '      - INSTALLED=$(cat .deps/link) && test -L .deps/link',
    '  build:',
    '    commands:',
    `      - ${opts.fail ? 'false' : 'true'}`,
  ].join('\n');

describe('Class: CodeBuildService — buildspec cache', () => {
  let s3: S3Fixture;
  let dataDir: string;
  let service: CodeBuildService;
  let edge: MiniEdge;
  let client: CodeBuildClient;
  let source: string;

  beforeAll(async () => {
    s3 = await startS3();
    dataDir = tmpDataDir();
    service = createCodeBuildService({ dataDir, s3: s3.client, bucket: BUCKET, models: [tinyModel()], region: REGION, accountId: ACCOUNT });
    edge = await startMiniEdge([service]);
    client = new CodeBuildClient({ endpoint: edge.url, region: REGION, credentials });
    source = await uploadTinySource(s3.client, 'cafe123');
  });

  afterAll(async () => {
    client?.destroy();
    await service?.close();
    await edge?.close();
    await s3?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const build = async (buildspecOverride: string): Promise<{ b: Build; vars: Record<string, string | undefined>; log: string }> => {
    const started = await client.send(
      new StartBuildCommand({
        projectName: PROJECT,
        sourceLocationOverride: source,
        sourceVersion: 'cafe123',
        buildspecOverride,
        artifactsOverride: { type: 'NO_ARTIFACTS' },
      }),
    );
    await service.waitForBuild(started.build!.id!);
    const b = (await client.send(new BatchGetBuildsCommand({ ids: [started.build!.id!] }))).builds![0]!;
    const vars = Object.fromEntries((b.exportedEnvironmentVariables ?? []).map((v) => [v.name!, v.value]));
    return { b, vars, log: readFileSync(fileURLToPath(b.logs!.deepLink!), 'utf8') };
  };

  it('restores a keyed cache on the next build, symlinks included, so the install step does not run again', async () => {
    // Prepare
    const spec = specWith(['cache:', '  key: deps-$(codebuild-hash-files models/tiny/*.mjs)', "  paths: ['.deps/**']"]);

    // Act
    const cold = await build(spec);
    const warm = await build(spec);

    // Assess
    expect(cold.b.buildStatus).toBe('SUCCEEDED');
    expect(cold.vars.HOW).toBe('installed');
    expect(cold.log).toMatch(/Cache: no cache for key deps-[0-9a-f]{64}/);
    expect(cold.log).toMatch(/Cache: saved 1 path\(s\) under key deps-[0-9a-f]{64}: \.deps/);
    expect(warm.b.buildStatus).toBe('SUCCEEDED');
    expect(warm.vars.HOW).toBe('cached');
    expect(warm.vars.INSTALLED).toBe(cold.vars.INSTALLED);
    expect(warm.log).toMatch(/Cache: restored key deps-[0-9a-f]{64}/);
    expect(warm.log).toContain('is not updated (a keyed cache is written once)');
  });

  it('starts cold under a new key, and finds the old cache through a fallback key prefix', async () => {
    // Prepare
    const base = await build(specWith(['cache:', '  key: fb-one', "  paths: ['.deps/**']"]));

    // Act
    const newKey = await build(specWith(['cache:', '  key: other-one', "  paths: ['.deps/**']"]));
    const viaFallback = await build(specWith(['cache:', '  key: fb-two', '  fallback-keys: [fb-]', "  paths: ['.deps/**']"]));

    // Assess
    expect(newKey.vars.HOW).toBe('installed');
    expect(viaFallback.vars.HOW).toBe('cached');
    expect(viaFallback.vars.INSTALLED).toBe(base.vars.INSTALLED);
    expect(viaFallback.log).toContain('Cache: restored fallback key fb-one');
  });

  it('never saves the cache of a failed build', async () => {
    // Act
    const failed = await build(specWith(['cache:', '  key: failing', "  paths: ['.deps/**']"], { fail: true }));
    const next = await build(specWith(['cache:', '  key: failing', "  paths: ['.deps/**']"]));

    // Assess
    expect(failed.b.buildStatus).toBe('FAILED');
    expect(failed.log).not.toContain('Cache: saved');
    expect(next.vars.HOW).toBe('installed');
  });

  it('replaces the unkeyed project cache after every successful build', async () => {
    // Prepare
    const spec = specWith(['cache:', "  paths: ['.deps/**']"]);

    // Act
    const first = await build(spec);
    const second = await build(spec);

    // Assess
    expect(first.vars.HOW).toBe('installed');
    expect(second.vars.HOW).toBe('cached');
    expect(second.log).toContain('Cache: restored key default');
    expect(second.log).toContain('Cache: saved 1 path(s) under key default');
  });

  it('refuses a cache section without paths, naming the field', async () => {
    // Act
    const { b } = await build(specWith(['cache:', '  key: x']));

    // Assess
    expect(b.buildStatus).toBe('FAILED');
    expect(b.phases?.find((p) => p.phaseType === 'DOWNLOAD_SOURCE')?.contexts?.[0]?.message).toMatch(/cache\.paths/);
  });
});
