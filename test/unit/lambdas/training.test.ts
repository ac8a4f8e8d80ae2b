import './task-env';
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handler as prepareTraining } from '../../../lambdas/prepare-training/handler';
import { handler as recordTraining } from '../../../lambdas/record-training/handler';
import type { VersionRecord } from '../../../lambdas/shared/registry';
import { parseManifest } from '../../../lib/config';
import { fakeS3, type FakeBucket } from './fake-s3';
import { BUCKET, manifest, releaseEvent, versionRecord } from './fixtures';

const KEY = 'registry/delivery-time/versions/abcdef1-0a0b.json';
const JOB = 'mlship-delivery-time-abcdef1-0a0b';

/** The fixture manifest with this `training` section, parsed as the release parses it. */
function withTraining(training: unknown): VersionRecord['manifest'] {
  const m = manifest();
  const doc = {
    name: m.name,
    task: m.task,
    paths: m.paths,
    serve: { command: m.serve.command },
    features: m.features,
    label: m.label,
    training,
  };
  return { ...m, training: parseManifest(doc, 'models/delivery-time/model.yaml').training };
}

describe('Handler: PrepareTraining', () => {
  let bucket: FakeBucket;
  beforeEach(() => {
    bucket = fakeS3();
  });
  afterEach(() => bucket.mock.restore());

  it('answers build mode, and no request, for a manifest that trains in its build', async () => {
    // Prepare
    bucket.put(KEY, versionRecord({ status: 'built' }));

    // Act
    const result = await prepareTraining(releaseEvent());

    // Assess
    expect(result).toEqual({ mode: 'build', request: null, timeoutSeconds: 3600 });
  });

  it("builds the CreateTrainingJob request from the manifest, the build's image and its output", async () => {
    // Prepare
    bucket.put(
      KEY,
      versionRecord({
        status: 'built',
        manifest: withTraining({
          mode: 'sagemaker',
          command: 'node train.mjs',
          instanceType: 'ml.g5.xlarge',
          maxRuntime: '2h',
          spot: { enabled: true, checkpointPath: 's3://team-checkpoints/delivery-time/' },
          hyperparameters: { depth: 6 },
          channels: { train: { s3: 's3://team-datasets/delivery-time/train/' }, holdout: { build: 'data' } },
          metrics: [{ name: 'val:mae', regex: 'val_mae=([0-9.]+)' }],
        }),
      }),
    );

    // Act
    const result = await prepareTraining(releaseEvent());

    // Assess
    expect(result.mode).toBe('sagemaker');
    expect(result.timeoutSeconds).toBe(4 * 3600 + 3600);
    expect(result.request).toEqual({
      TrainingJobName: JOB,
      RoleArn: 'arn:aws:iam::000000000000:role/mlship-sagemaker',
      AlgorithmSpecification: {
        TrainingImage: '000000000000.dkr.ecr.us-east-1.amazonaws.com/delivery-time:abcdef1',
        TrainingInputMode: 'File',
        ContainerEntrypoint: ['/bin/sh', '-c', 'node train.mjs'],
        MetricDefinitions: [{ Name: 'val:mae', Regex: 'val_mae=([0-9.]+)' }],
      },
      HyperParameters: { depth: '6' },
      InputDataConfig: [
        {
          ChannelName: 'train',
          DataSource: {
            S3DataSource: {
              S3DataType: 'S3Prefix',
              S3Uri: 's3://team-datasets/delivery-time/train/',
              S3DataDistributionType: 'FullyReplicated',
            },
          },
        },
        {
          ChannelName: 'holdout',
          DataSource: {
            S3DataSource: {
              S3DataType: 'S3Prefix',
              S3Uri: `s3://${BUCKET}/builds/delivery-time/abcdef1-0a0b/data/`,
              S3DataDistributionType: 'FullyReplicated',
            },
          },
        },
      ],
      OutputDataConfig: { S3OutputPath: `s3://${BUCKET}/training/delivery-time/abcdef1-0a0b/` },
      ResourceConfig: { InstanceType: 'ml.g5.xlarge', InstanceCount: 1, VolumeSizeInGB: 30 },
      StoppingCondition: { MaxRuntimeInSeconds: 7200, MaxWaitTimeInSeconds: 14400 },
      EnableManagedSpotTraining: true,
      CheckpointConfig: { S3Uri: 's3://team-checkpoints/delivery-time/' },
      // SageMaker sets none of these in our own container: the same command reads them on AWS as locally.
      Environment: {
        SM_MODEL_DIR: '/opt/ml/model',
        SM_OUTPUT_DIR: '/opt/ml/output',
        SM_OUTPUT_DATA_DIR: '/opt/ml/output/data',
        SM_INPUT_DIR: '/opt/ml/input',
        SM_INPUT_CONFIG_DIR: '/opt/ml/input/config',
        SM_CHECKPOINT_DIR: '/opt/ml/checkpoints',
        SM_HPS: '{"depth":"6"}',
        SM_CHANNELS: '["train","holdout"]',
        SM_CHANNEL_TRAIN: '/opt/ml/input/data/train',
        SM_CHANNEL_HOLDOUT: '/opt/ml/input/data/holdout',
      },
      Tags: [
        { Key: 'mlship:model', Value: 'delivery-time' },
        { Key: 'mlship:version', Value: 'abcdef1-0a0b' },
      ],
    });
    expect(bucket.json<VersionRecord>(KEY).trainingJob).toMatchObject({ name: JOB, status: 'InProgress' });
  });

  it('refuses to train a version whose build recorded no image', async () => {
    // Prepare
    const record = versionRecord({ manifest: withTraining({ mode: 'sagemaker', command: 'x' }) });
    bucket.put(KEY, { ...record, build: { ...record.build!, imageUri: null } });

    // Act + Assess
    await expect(prepareTraining(releaseEvent())).rejects.toMatchObject({ name: 'TrainingNotPossibleError' });
  });
});

describe('Handler: RecordTraining', () => {
  let bucket: FakeBucket;
  beforeEach(() => {
    bucket = fakeS3();
    bucket.put(
      KEY,
      versionRecord({ status: 'built', trainingJob: { name: JOB, startedAt: '2026-11-27T01:00:00.000Z', status: 'InProgress' } }),
    );
  });
  afterEach(() => bucket.mock.restore());

  it('records the artifact with its digest, the hyperparameters, the final metrics and the billable seconds', async () => {
    // Prepare
    const artifact = Buffer.from('a model.tar.gz');
    const key = `training/delivery-time/abcdef1-0a0b/${JOB}/output/model.tar.gz`;
    bucket.put(key, artifact);
    const job = {
      TrainingJobName: JOB,
      TrainingJobArn: `arn:aws:sagemaker:us-east-1:000000000000:training-job/${JOB}`,
      TrainingJobStatus: 'Completed',
      ModelArtifacts: { S3ModelArtifacts: `s3://${BUCKET}/${key}` },
      HyperParameters: { depth: '6' },
      FinalMetricDataList: [{ MetricName: 'val:mae', Value: 4.2, Timestamp: 1 }],
      BillableTimeInSeconds: 37,
      TrainingTimeInSeconds: 120,
      ResourceConfig: { InstanceType: 'ml.g5.xlarge', InstanceCount: 1 },
      EnableManagedSpotTraining: true,
    };

    // Act
    const result = await recordTraining({ ...releaseEvent(), job });

    // Assess
    const digest = `sha256:${createHash('sha256').update(artifact).digest('hex')}`;
    expect(result).toEqual({
      jobName: JOB,
      artifactUri: `s3://${BUCKET}/${key}`,
      artifactDigest: digest,
      metrics: { 'val:mae': 4.2 },
      billableSeconds: 37,
    });
    expect(bucket.json<VersionRecord>(KEY).trainingJob).toMatchObject({
      name: JOB,
      status: 'Completed',
      artifactUri: `s3://${BUCKET}/${key}`,
      artifactDigest: digest,
      hyperparameters: { depth: '6' },
      metrics: { 'val:mae': 4.2 },
      billableSeconds: 37,
      trainingSeconds: 120,
      instanceType: 'ml.g5.xlarge',
      spot: true,
      startedAt: '2026-11-27T01:00:00.000Z',
    });
  });

  it('refuses a completed job without a model artifact', async () => {
    await expect(
      recordTraining({ ...releaseEvent(), job: { TrainingJobName: JOB, TrainingJobStatus: 'Completed' } }),
    ).rejects.toMatchObject({
      name: 'MissingModelArtifactError',
    });
  });
});
