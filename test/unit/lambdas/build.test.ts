import './task-env';
import { BatchGetBuildsCommand, CodeBuildClient, StartBuildCommand } from '@aws-sdk/client-codebuild';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handler as checkBuild } from '../../../lambdas/check-build/handler';
import { fromEnv as startBuildEnv, handler as startBuild, makeHandler as makeStartBuild } from '../../../lambdas/start-build/handler';
import type { VersionRecord } from '../../../lambdas/shared/registry';
import { fakeS3, sdkError, type FakeBucket } from './fake-s3';
import { releaseEvent, versionRecord } from './fixtures';

const versionKey = 'registry/delivery-time/versions/abcdef1-0a0b.json';

describe('Handler: StartBuild', () => {
  let bucket: FakeBucket;
  const codebuild = mockClient(CodeBuildClient);
  beforeEach(() => {
    bucket = fakeS3();
    codebuild.reset();
    bucket.put(versionKey, versionRecord({ build: null }));
  });
  afterEach(() => bucket.mock.restore());

  it("starts the model's buildspec on the commit's source archive with the version's artifact folder", async () => {
    // Prepare
    codebuild.on(StartBuildCommand).resolves({ build: { id: 'mlship-build-delivery-time:42', logs: { deepLink: 'https://log' } } });

    // Act
    const result = await startBuild({ ...releaseEvent(), projectName: 'mlship-build-delivery-time' });

    // Assess
    expect(result).toEqual({ buildId: 'mlship-build-delivery-time:42' });
    expect(codebuild).toReceiveCommandWith(StartBuildCommand, {
      projectName: 'mlship-build-delivery-time',
      sourceTypeOverride: 'S3',
      sourceLocationOverride: 'mlship-artifacts/source/delivery-time/abcdef1234567890.zip',
      buildspecOverride: 'models/delivery-time/buildspec.yml',
      artifactsOverride: expect.objectContaining({
        type: 'S3',
        location: 'mlship-artifacts',
        path: 'builds/delivery-time',
        name: 'abcdef1-0a0b',
        packaging: 'NONE',
      }),
      environmentVariablesOverride: expect.arrayContaining([
        { name: 'MODEL_NAME', value: 'delivery-time', type: 'PLAINTEXT' },
        { name: 'MODEL_VERSION', value: 'abcdef1-0a0b', type: 'PLAINTEXT' },
        { name: 'IMAGE_TAG_PREFIX', value: 'abcdef1234567890', type: 'PLAINTEXT' },
        { name: 'MLSHIP_TRIGGER', value: 'push', type: 'PLAINTEXT' },
      ]),
      timeoutInMinutesOverride: 30,
      idempotencyToken: expect.stringMatching(/^[0-9a-f]{32}$/),
    });
    const record = bucket.json<VersionRecord>(versionKey);
    expect(record.build).toMatchObject({
      buildId: 'mlship-build-delivery-time:42',
      status: 'IN_PROGRESS',
      artifactsUri: 's3://mlship-artifacts/builds/delivery-time/abcdef1-0a0b/',
    });
  });

  it('tells the one shared build project which image repository to push to (IMAGE_REPOSITORY_URI, issue 17)', async () => {
    // Prepare
    codebuild.on(StartBuildCommand).resolves({ build: { id: 'mlship-build-models:7' } });
    const prefix = '123456789012.dkr.ecr.us-east-1.amazonaws.com/mlship/';
    const shared = makeStartBuild(Object.assign(startBuildEnv(), { imageRepositoryPrefix: prefix }));
    // Act
    await shared({ ...releaseEvent(), projectName: 'mlship-build-models' });
    // Assess
    expect(codebuild).toReceiveCommandWith(StartBuildCommand, {
      projectName: 'mlship-build-models',
      environmentVariablesOverride: expect.arrayContaining([
        { name: 'IMAGE_REPOSITORY_URI', value: `${prefix}delivery-time`, type: 'PLAINTEXT' },
      ]),
    });
  });

  it('sends the same idempotency token on a retry, so CodeBuild starts one build', async () => {
    codebuild.on(StartBuildCommand).resolves({ build: { id: 'b:1' } });
    await startBuild({ ...releaseEvent(), projectName: 'mlship-build-x' });
    await startBuild({ ...releaseEvent(), projectName: 'mlship-build-x' });
    const tokens = codebuild.commandCalls(StartBuildCommand).map((c) => c.args[0].input.idempotencyToken);
    expect(tokens[0]).toBe(tokens[1]);
  });

  it('fails terminally when the version has no record, transiently when CodeBuild throttles', async () => {
    await expect(startBuild({ ...releaseEvent('abcdef1-ffff'), projectName: 'mlship-build-x' })).rejects.toMatchObject({
      name: 'RegistryRecordNotFoundError',
    });
    codebuild.on(StartBuildCommand).rejects(sdkError('ThrottlingException', 400));
    await expect(startBuild({ ...releaseEvent(), projectName: 'mlship-build-x' })).rejects.toMatchObject({ name: 'TransientError' });
    codebuild.on(StartBuildCommand).rejects(sdkError('ResourceNotFoundException', 400));
    await expect(startBuild({ ...releaseEvent(), projectName: 'mlship-build-x' })).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });

  it('refuses an event without a project name', async () => {
    await expect(startBuild(releaseEvent())).rejects.toMatchObject({
      name: 'InvalidEventError',
      message: expect.stringContaining('projectName'),
    });
  });
});

describe('Handler: CheckBuild', () => {
  let bucket: FakeBucket;
  const codebuild = mockClient(CodeBuildClient);
  beforeEach(() => {
    bucket = fakeS3();
    codebuild.reset();
    bucket.put(
      versionKey,
      versionRecord({ build: { ...versionRecord().build!, status: 'IN_PROGRESS', imageUri: null, imageDigest: null } }),
    );
  });
  afterEach(() => bucket.mock.restore());
  const event = { ...releaseEvent(), buildId: 'b:1' };

  it('reports IN_PROGRESS without touching the record', async () => {
    codebuild
      .on(BatchGetBuildsCommand)
      .resolves({ builds: [{ id: 'b:1', buildStatus: 'IN_PROGRESS', logs: { deepLink: 'https://log' } }] });
    await expect(checkBuild(event)).resolves.toEqual({ status: 'IN_PROGRESS', failedPhase: null, logLink: 'https://log', imageUri: null });
    expect(bucket.json<VersionRecord>(versionKey).status).toBe('building');
  });

  it('records the exported image and the bundle location of a successful build', async () => {
    // Prepare
    codebuild.on(BatchGetBuildsCommand).resolves({
      builds: [
        {
          id: 'b:1',
          buildStatus: 'SUCCEEDED',
          artifacts: { location: 'arn:aws:s3:::mlship-artifacts/builds/delivery-time/abcdef1-0a0b' },
          exportedEnvironmentVariables: [
            { name: 'IMAGE_URI', value: 'repo/delivery-time:abcdef1' },
            { name: 'IMAGE_DIGEST', value: 'sha256:beef' },
          ],
          endTime: new Date('2026-11-27T01:05:00Z'),
        },
      ],
    });

    // Act
    const result = await checkBuild(event);

    // Assess
    expect(result).toEqual({ status: 'SUCCEEDED', failedPhase: null, logLink: null, imageUri: 'repo/delivery-time:abcdef1' });
    const record = bucket.json<VersionRecord>(versionKey);
    expect(record.status).toBe('built');
    expect(record.build).toMatchObject({
      status: 'SUCCEEDED',
      imageUri: 'repo/delivery-time:abcdef1',
      imageDigest: 'sha256:beef',
      artifactsUri: 's3://mlship-artifacts/builds/delivery-time/abcdef1-0a0b/',
      finishedAt: '2026-11-27T01:05:00.000Z',
    });
  });

  it.each(['FAILED', 'FAULT', 'STOPPED', 'TIMED_OUT'])('reports %s with the phase that failed', async (status) => {
    codebuild.on(BatchGetBuildsCommand).resolves({
      builds: [
        {
          id: 'b:1',
          buildStatus: status as never,
          phases: [
            { phaseType: 'INSTALL', phaseStatus: 'SUCCEEDED' },
            { phaseType: 'BUILD', phaseStatus: 'FAILED' },
          ],
        },
      ],
    });
    await expect(checkBuild(event)).resolves.toMatchObject({ status, failedPhase: 'BUILD' });
    expect(bucket.json<VersionRecord>(versionKey).build).toMatchObject({ status, failedPhase: 'BUILD' });
  });

  it('turns a success that exported no IMAGE_URI into a failed build', async () => {
    codebuild.on(BatchGetBuildsCommand).resolves({ builds: [{ id: 'b:1', buildStatus: 'SUCCEEDED', exportedEnvironmentVariables: [] }] });
    await expect(checkBuild(event)).resolves.toMatchObject({ status: 'FAILED', failedPhase: 'EXPORTED_VARIABLES' });
  });

  it('reports CodeBuild throttling as TransientError', async () => {
    codebuild.on(BatchGetBuildsCommand).rejects(sdkError('ThrottlingException', 400));
    await expect(checkBuild(event)).rejects.toMatchObject({ name: 'TransientError' });
  });

  it('fails terminally for an unknown build and an unknown status', async () => {
    codebuild.on(BatchGetBuildsCommand).resolves({ builds: [], buildsNotFound: ['b:1'] });
    await expect(checkBuild(event)).rejects.toMatchObject({ name: 'BuildFailedError', message: expect.stringContaining('b:1') });
    codebuild.on(BatchGetBuildsCommand).resolves({ builds: [{ id: 'b:1', buildStatus: 'PAUSED' as never }] });
    await expect(checkBuild(event)).rejects.toMatchObject({ name: 'BuildFailedError', message: expect.stringContaining('PAUSED') });
  });
});
