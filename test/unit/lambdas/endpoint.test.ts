import './task-env';
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DeleteEndpointCommand,
  DescribeEndpointCommand,
  SageMakerClient,
  UpdateEndpointCommand,
} from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handler as checkEndpoint } from '../../../lambdas/check-endpoint/handler';
import { S3Client } from '@aws-sdk/client-s3';
import { blueGreenConfig, deployEndpoint as deployDomain } from '../../../lambdas/deploy-endpoint/deploy';
import { acceptsKmsKeyId, EBS_ONLY_FAMILIES, LOCAL_STORAGE_FAMILIES } from '../../../lambdas/deploy-endpoint/instance-storage';
import { handler as deployEndpoint } from '../../../lambdas/deploy-endpoint/handler';
import type { VersionRecord } from '../../../lambdas/shared/registry';
import { fakeS3, sdkError, type FakeBucket } from './fake-s3';
import { manifest, releaseEvent, versionRecord } from './fixtures';

const versionKey = 'registry/delivery-time/versions/abcdef1-0a0b.json';
const missing = () => sdkError('ValidationException', 400, 'Could not find endpoint "mlship-delivery-time-staging".');
const exists = () => sdkError('ValidationException', 400, 'Cannot create already existing model "x".');
const staging = { ...releaseEvent(), stage: 'staging', endpointName: 'mlship-delivery-time-staging' };
const production = { ...releaseEvent(), stage: 'production', endpointName: 'mlship-delivery-time-production' };

describe('Handler: DeployEndpoint', () => {
  let bucket: FakeBucket;
  const sagemaker = mockClient(SageMakerClient);
  beforeEach(() => {
    bucket = fakeS3();
    sagemaker.reset();
    bucket.put(versionKey, versionRecord({ status: 'built' }));
    sagemaker.on(CreateModelCommand).resolves({});
    sagemaker.on(CreateEndpointConfigCommand).resolves({});
  });
  afterEach(() => bucket.mock.restore());

  it('creates the model, a capturing config and the staging endpoint when it does not exist', async () => {
    // Prepare
    sagemaker.on(DescribeEndpointCommand).rejects(missing());
    sagemaker.on(CreateEndpointCommand).resolves({});

    // Act
    const result = await deployEndpoint(staging);

    // Assess
    expect(result).toEqual({
      endpointName: 'mlship-delivery-time-staging',
      endpointConfigName: 'mlship-delivery-time-abcdef1-0a0b-s',
      action: 'created',
    });
    expect(sagemaker).toReceiveCommandWith(CreateModelCommand, {
      ModelName: 'mlship-delivery-time-abcdef1-0a0b',
      ExecutionRoleArn: 'arn:aws:iam::000000000000:role/mlship-sagemaker',
      PrimaryContainer: expect.objectContaining({ Image: '000000000000.dkr.ecr.us-east-1.amazonaws.com/delivery-time:abcdef1' }),
    });
    expect(sagemaker).toReceiveCommandWith(CreateEndpointConfigCommand, {
      EndpointConfigName: 'mlship-delivery-time-abcdef1-0a0b-s',
      ProductionVariants: [
        expect.objectContaining({
          VariantName: 'AllTraffic',
          ModelName: 'mlship-delivery-time-abcdef1-0a0b',
          InitialInstanceCount: 1,
          InstanceType: 'ml.m5.large',
        }),
      ],
      DataCaptureConfig: expect.objectContaining({
        EnableCapture: true,
        DestinationS3Uri: 's3://mlship-artifacts/capture/delivery-time',
        InitialSamplingPercentage: 100,
      }),
    });
    expect(sagemaker).toReceiveCommandWith(CreateEndpointCommand, {
      EndpointName: 'mlship-delivery-time-staging',
      EndpointConfigName: 'mlship-delivery-time-abcdef1-0a0b-s',
    });
    expect(bucket.json<VersionRecord>(versionKey).deployments).toEqual([
      expect.objectContaining({ stage: 'staging', action: 'created', strategy: 'all-at-once', result: null }),
    ]);
  });

  it('updates staging all at once, without a blue/green policy or alarms', async () => {
    sagemaker.on(DescribeEndpointCommand).resolves({ EndpointStatus: 'InService', EndpointConfigName: 'old-s' });
    sagemaker.on(UpdateEndpointCommand).resolves({});
    await expect(deployEndpoint(staging)).resolves.toMatchObject({ action: 'updated' });
    expect(sagemaker.commandCalls(UpdateEndpointCommand)[0]!.args[0].input.DeploymentConfig).toBeUndefined();
  });

  it("updates production blue/green with the manifest's canary and the model's rollback alarms", async () => {
    // Prepare
    sagemaker
      .on(DescribeEndpointCommand)
      .resolves({ EndpointStatus: 'InService', EndpointConfigName: 'mlship-delivery-time-1111111-aaaa-p' });
    sagemaker.on(UpdateEndpointCommand).resolves({});

    // Act
    await deployEndpoint(production);

    // Assess
    expect(sagemaker).toReceiveCommandWith(UpdateEndpointCommand, {
      EndpointName: 'mlship-delivery-time-production',
      EndpointConfigName: 'mlship-delivery-time-abcdef1-0a0b-p',
      DeploymentConfig: {
        BlueGreenUpdatePolicy: {
          TrafficRoutingConfiguration: { Type: 'CANARY', WaitIntervalInSeconds: 600, CanarySize: { Type: 'CAPACITY_PERCENT', Value: 20 } },
          TerminationWaitInSeconds: 600,
        },
        AutoRollbackConfiguration: {
          Alarms: [{ AlarmName: 'mlship-rollback-delivery-time-5xx' }, { AlarmName: 'mlship-rollback-delivery-time-p99-latency' }],
        },
      },
    });
    expect(bucket.json<VersionRecord>(versionKey).deployments[0]).toMatchObject({ stage: 'production', strategy: 'canary' });
  });

  it('is idempotent: "already exists" is fine and an endpoint on our config is left alone', async () => {
    sagemaker.on(CreateModelCommand).rejects(exists());
    sagemaker
      .on(CreateEndpointConfigCommand)
      .rejects(sdkError('ValidationException', 400, 'Cannot create already existing endpoint configuration "x".'));
    sagemaker
      .on(DescribeEndpointCommand)
      .resolves({ EndpointStatus: 'Updating', EndpointConfigName: 'mlship-delivery-time-abcdef1-0a0b-p' });
    await expect(deployEndpoint(production)).resolves.toMatchObject({ action: 'unchanged' });
    expect(sagemaker).not.toReceiveCommand(UpdateEndpointCommand);
  });

  it('records one deployment entry when a retry repeats the deployment', async () => {
    sagemaker
      .on(DescribeEndpointCommand)
      .rejectsOnce(missing())
      .resolves({ EndpointStatus: 'Creating', EndpointConfigName: 'mlship-delivery-time-abcdef1-0a0b-s' });
    sagemaker.on(CreateEndpointCommand).resolves({});
    await deployEndpoint(staging);
    await expect(deployEndpoint(staging)).resolves.toMatchObject({ action: 'unchanged' });
    expect(bucket.json<VersionRecord>(versionKey).deployments).toHaveLength(1);
    expect(sagemaker.commandCalls(CreateEndpointCommand)).toHaveLength(1);
  });

  it('waits (EndpointBusyError) while the endpoint is busy with something else, and recreates a Failed one', async () => {
    sagemaker.on(DescribeEndpointCommand).resolves({ EndpointStatus: 'Updating', EndpointConfigName: 'other' });
    await expect(deployEndpoint(production)).rejects.toMatchObject({
      name: 'EndpointBusyError',
      message: expect.stringContaining('Updating'),
    });
    sagemaker.on(DescribeEndpointCommand).resolves({ EndpointStatus: 'Failed', EndpointConfigName: 'other' });
    sagemaker.on(DeleteEndpointCommand).resolves({});
    await expect(deployEndpoint(staging)).rejects.toMatchObject({ name: 'EndpointBusyError' });
    expect(sagemaker).toReceiveCommandWith(DeleteEndpointCommand, { EndpointName: 'mlship-delivery-time-staging' });
  });

  it('fails terminally without a built image, and on an invalid stage', async () => {
    bucket.put(versionKey, versionRecord({ build: null }));
    await expect(deployEndpoint(staging)).rejects.toMatchObject({
      name: 'EndpointFailedError',
      message: expect.stringContaining('no built image'),
    });
    await expect(deployEndpoint({ ...staging, stage: 'qa' })).rejects.toMatchObject({
      name: 'InvalidEventError',
      message: expect.stringContaining('stage'),
    });
  });
});

describe('Function: blueGreenConfig', () => {
  it('maps linear and all-at-once (a bake over SageMaker’s hour is refused when the manifest loads)', () => {
    const d = manifest({ deployment: { strategy: 'linear', stepPercent: 25, bakeTime: '1h' } }).deployment;
    expect(blueGreenConfig(d, []).BlueGreenUpdatePolicy!.TrafficRoutingConfiguration).toEqual({
      Type: 'LINEAR',
      WaitIntervalInSeconds: 3600,
      LinearStepSize: { Type: 'CAPACITY_PERCENT', Value: 25 },
    });
    const all = manifest({ deployment: { strategy: 'all-at-once', bakeTime: '3m' } }).deployment;
    expect(blueGreenConfig(all, ['a']).BlueGreenUpdatePolicy!.TrafficRoutingConfiguration).toEqual({
      Type: 'ALL_AT_ONCE',
      WaitIntervalInSeconds: 180,
    });
  });
});

describe('Handler: CheckEndpoint', () => {
  let bucket: FakeBucket;
  const sagemaker = mockClient(SageMakerClient);
  beforeEach(() => {
    bucket = fakeS3();
    sagemaker.reset();
    bucket.put(
      versionKey,
      versionRecord({
        deployments: [
          {
            stage: 'staging',
            endpointName: 's',
            endpointConfigName: 'mlship-delivery-time-abcdef1-0a0b-s',
            action: 'created',
            strategy: 'all-at-once',
            at: 't',
            result: null,
            failureReason: null,
          },
          {
            stage: 'production',
            endpointName: 'p',
            endpointConfigName: 'mlship-delivery-time-abcdef1-0a0b-p',
            action: 'updated',
            strategy: 'canary',
            at: 't',
            result: null,
            failureReason: null,
          },
        ],
      }),
    );
  });
  afterEach(() => bucket.mock.restore());

  it.each(['Creating', 'Updating', 'SystemUpdating', 'RollingBack'])('reports %s as Updating', async (status) => {
    sagemaker.on(DescribeEndpointCommand).resolves({ EndpointStatus: status as never, EndpointConfigName: 'x' });
    await expect(checkEndpoint(production)).resolves.toEqual({ status: 'Updating', failureReason: null });
  });

  it("reports InService on this version's config and records it", async () => {
    sagemaker
      .on(DescribeEndpointCommand)
      .resolves({ EndpointStatus: 'InService', EndpointConfigName: 'mlship-delivery-time-abcdef1-0a0b-p' });
    await expect(checkEndpoint(production)).resolves.toEqual({ status: 'InService', failureReason: null });
    expect(bucket.json<VersionRecord>(versionKey).deployments.map((d) => d.result)).toEqual([null, 'in-service']);
  });

  it('reports RolledBack when the update ended InService on the old config', async () => {
    sagemaker.on(DescribeEndpointCommand).resolves({
      EndpointStatus: 'InService',
      EndpointConfigName: 'mlship-delivery-time-1111111-aaaa-p',
      FailureReason: 'Alarm mlship-rollback-delivery-time-5xx fired',
    });
    await expect(checkEndpoint(production)).resolves.toEqual({
      status: 'RolledBack',
      failureReason: 'Alarm mlship-rollback-delivery-time-5xx fired',
    });
    expect(bucket.json<VersionRecord>(versionKey).deployments[1]).toMatchObject({ result: 'rolled-back' });
  });

  it('reports Failed with the reason, also for a missing endpoint', async () => {
    sagemaker.on(DescribeEndpointCommand).resolves({ EndpointStatus: 'Failed', FailureReason: 'image pull failed' });
    await expect(checkEndpoint(staging)).resolves.toEqual({ status: 'Failed', failureReason: 'image pull failed' });
    sagemaker.on(DescribeEndpointCommand).rejects(missing());
    await expect(checkEndpoint(staging)).resolves.toMatchObject({
      status: 'Failed',
      failureReason: expect.stringContaining('does not exist'),
    });
  });

  it('reports throttling as TransientError', async () => {
    sagemaker.on(DescribeEndpointCommand).rejects(sdkError('ThrottlingException', 400));
    await expect(checkEndpoint(staging)).rejects.toMatchObject({ name: 'TransientError' });
  });
});

describe('Function: deployEndpoint (KMS and instance storage)', () => {
  let bucket: FakeBucket;
  const sagemaker = mockClient(SageMakerClient);
  const KEY = 'arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab';
  const deps = () => ({
    s3: new S3Client({ region: 'us-east-1' }),
    sagemaker: new SageMakerClient({ region: 'us-east-1' }),
    bucket: 'mlship-artifacts',
    sagemakerRoleArn: 'arn:aws:iam::000000000000:role/mlship-sagemaker',
    kmsKeyId: KEY,
    rollbackAlarmPrefix: 'mlship-rollback-',
    now: () => new Date('2026-11-27T01:00:00.000Z'),
  });
  const deployOn = async (instanceType: string) => {
    bucket.put(
      versionKey,
      versionRecord({ status: 'built', manifest: manifest({ serve: { command: 'node serve.mjs', instanceType, instanceCount: 2 } }) }),
    );
    await deployDomain(deps(), {
      model: 'delivery-time',
      version: 'abcdef1-0a0b',
      stage: 'staging',
      endpointName: 'mlship-delivery-time-staging',
    });
    return sagemaker.commandCalls(CreateEndpointConfigCommand)[0]!.args[0].input;
  };
  beforeEach(() => {
    bucket = fakeS3();
    sagemaker.reset();
    sagemaker.on(CreateModelCommand).resolves({});
    sagemaker.on(CreateEndpointConfigCommand).resolves({});
    sagemaker.on(DescribeEndpointCommand).rejects(missing());
    sagemaker.on(CreateEndpointCommand).resolves({});
  });
  afterEach(() => bucket.mock.restore());

  it('encrypts the volume of an EBS-only instance type with the key', async () => {
    // Act
    const input = await deployOn('ml.m5.large');

    // Assess
    expect(input.KmsKeyId).toBe(KEY);
    expect(input.DataCaptureConfig?.KmsKeyId).toBe(KEY);
  });

  it.each(['ml.g4dn.xlarge', 'ml.g5.2xlarge', 'ml.m5d.large', 'ml.c5d.xlarge', 'ml.r5d.large', 'ml.p4d.24xlarge', 'ml.trn1.2xlarge'])(
    'sets no KmsKeyId for %s, whose local NVMe storage SageMaker encrypts itself, and keeps the key on the capture',
    async (instanceType) => {
      // Act
      const input = await deployOn(instanceType);

      // Assess
      expect(input).not.toHaveProperty('KmsKeyId', expect.anything());
      expect(input.KmsKeyId).toBeUndefined();
      expect(input.DataCaptureConfig?.KmsKeyId).toBe(KEY);
    },
  );
});

describe('Function: acceptsKmsKeyId', () => {
  it('reads the table, then EC2 naming for a family it does not list', () => {
    // Act + Assess
    expect(acceptsKmsKeyId('ml.m5.xlarge')).toBe(true);
    expect(acceptsKmsKeyId('ml.inf2.xlarge')).toBe(true);
    expect(acceptsKmsKeyId('ml.g6e.xlarge')).toBe(false);
    expect(acceptsKmsKeyId('ml.p3dn.24xlarge')).toBe(false);
    expect(acceptsKmsKeyId('ml.m7gd.large')).toBe(false);
    expect(acceptsKmsKeyId('ml.c7gn.large')).toBe(true);
  });

  it('knows every hosting instance family of the SageMaker model it was written against', () => {
    // Prepare: the families of botocore's ProductionVariantInstanceType enum (botocore 1.43)
    const families = [
      'c4',
      'c5',
      'c5d',
      'c6g',
      'c6gd',
      'c6gn',
      'c6i',
      'c6in',
      'c7g',
      'c7i',
      'c8g',
      'dl1',
      'g4dn',
      'g5',
      'g6',
      'g6e',
      'g7e',
      'inf1',
      'inf2',
      'm4',
      'm5',
      'm5d',
      'm6g',
      'm6gd',
      'm6i',
      'm7i',
      'm8g',
      'p2',
      'p3',
      'p4d',
      'p4de',
      'p5',
      'p5e',
      'p5en',
      'p6-b200',
      'p6-b300',
      'p6e-gb200',
      'r5',
      'r5d',
      'r6g',
      'r6gd',
      'r6i',
      'r7gd',
      'r7i',
      'r8g',
      't2',
      'trn1',
      'trn1n',
      'trn2',
    ];

    // Assess
    expect(families.filter((f) => !LOCAL_STORAGE_FAMILIES.has(f) && !EBS_ONLY_FAMILIES.has(f))).toEqual([]);
  });
});
