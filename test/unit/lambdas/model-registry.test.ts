import './task-env';
import {
  CreateModelPackageCommand,
  CreateModelPackageGroupCommand,
  SageMakerClient,
  UpdateModelPackageCommand,
} from '@aws-sdk/client-sagemaker';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../../../lambdas/record-outcome/handler';
import { approvalStatusOf, modelPackageInput } from '../../../lambdas/shared/model-registry';
import type { VersionRecord } from '../../../lambdas/shared/registry';
import { fakeS3, type FakeBucket } from './fake-s3';
import { BUCKET, EXECUTION_ARN, versionRecord } from './fixtures';

const versionKey = 'registry/delivery-time/versions/abcdef1-0a0b.json';
const ARN = 'arn:aws:sagemaker:us-east-1:000000000000:model-package/mlship-delivery-time/3';
const release = (outcome: string, extra: Record<string, unknown> = {}) => ({
  workflow: 'release',
  outcome,
  state: { model: 'delivery-time', commitId: 'abcdef1', PrepareReleaseResult: { version: 'abcdef1-0a0b' }, ...extra },
  executionId: EXECUTION_ARN,
  executionName: 'e1',
});

describe('Module: model-registry', () => {
  describe('Method: approvalStatusOf', () => {
    it('follows the decision and leaves undecided or imageless versions unregistered', () => {
      const of = (status: VersionRecord['status'], over: Partial<VersionRecord> = {}) =>
        approvalStatusOf(versionRecord({ status, ...over }));
      expect(of('evaluated')).toBeNull();
      expect(of('awaiting-approval')).toBe('PendingManualApproval');
      expect([of('production'), of('archived')]).toEqual(['Approved', 'Approved']);
      expect([of('rejected'), of('approval-timed-out'), of('rolled-back'), of('gate-failed')]).toEqual([
        'Rejected',
        'Rejected',
        'Rejected',
        'Rejected',
      ]);
      expect(of('build-failed', { build: null })).toBeNull();
    });
  });

  describe('Method: modelPackageInput', () => {
    it('carries the image, the bundle, the reports and the lineage, with a client token per version', () => {
      const evaluation = {
        validationOk: true,
        metrics: { rmse: 1 },
        failures: [],
        reportUri: 's3://b/q.json',
        validationUri: 'v',
        htmlUri: 'h',
      };
      const record = versionRecord({ status: 'awaiting-approval', evaluation });
      const input = modelPackageInput(BUCKET, record, 'PendingManualApproval');
      expect(input).toMatchObject({
        ModelPackageGroupName: 'mlship-delivery-time',
        ModelApprovalStatus: 'PendingManualApproval',
        InferenceSpecification: {
          Containers: [{ Image: record.build!.imageUri, ModelDataSource: { S3DataSource: { S3Uri: record.build!.artifactsUri } } }],
        },
        ModelMetrics: {
          ModelQuality: { Statistics: { ContentType: 'application/json', S3Uri: 's3://b/q.json' } },
          ModelDataQuality: { Statistics: { S3Uri: `s3://${BUCKET}/reports/delivery-time/abcdef1-0a0b/baseline/statistics.json` } },
        },
        MetadataProperties: { CommitId: record.commitId, GeneratedBy: record.execution.arn },
        CustomerMetadataProperties: { 'mlship:version': 'abcdef1-0a0b' },
      });
      expect(input.ClientToken).toMatch(/^[a-f0-9]{32}$/);
      expect(modelPackageInput(BUCKET, versionRecord({ version: 'abcdef1-0a0c' }), 'Approved').ClientToken).not.toBe(input.ClientToken);
    });
  });
});

describe('Handler: RecordOutcome mirrors to SageMaker Model Registry', () => {
  let bucket: FakeBucket;
  const sns = mockClient(SNSClient);
  const sagemaker = mockClient(SageMakerClient);
  beforeEach(() => {
    bucket = fakeS3();
    sns.reset();
    sagemaker.reset();
    sns.on(PublishCommand).resolves({});
  });
  afterEach(() => bucket.mock.restore());

  it('moves the known package to Rejected with the cause, and keeps the state on the version record', async () => {
    // Prepare
    const mirror = { groupName: 'mlship-delivery-time', modelPackageArn: ARN, approvalStatus: 'PendingManualApproval', error: null };
    bucket.put(versionKey, versionRecord({ status: 'awaiting-approval', modelRegistry: mirror as VersionRecord['modelRegistry'] }));
    sagemaker.on(UpdateModelPackageCommand).resolves({ ModelPackageArn: ARN });

    // Act
    await handler(release('rejected', { error: { Error: 'ApprovalRejectedError', Cause: 'Rejected by bob: too slow' } }));

    // Assess
    expect(sagemaker).toReceiveCommandWith(UpdateModelPackageCommand, {
      ModelPackageArn: ARN,
      ModelApprovalStatus: 'Rejected',
      ApprovalDescription: 'Rejected by bob: too slow',
    });
    expect(sagemaker).not.toHaveReceivedCommand(CreateModelPackageCommand);
    expect(bucket.json<VersionRecord>(versionKey).modelRegistry).toEqual({ ...mirror, approvalStatus: 'Rejected' });
  });

  it('registers a version first seen at its outcome (a failed gate) as Rejected', async () => {
    bucket.put(versionKey, versionRecord({ status: 'evaluated' }));
    sagemaker
      .on(CreateModelPackageGroupCommand)
      .rejects(Object.assign(new Error('Model Package Group already exists: x'), { name: 'ValidationException' }));
    sagemaker.on(CreateModelPackageCommand).resolves({ ModelPackageArn: ARN });
    sagemaker.on(UpdateModelPackageCommand).resolves({ ModelPackageArn: ARN });

    await handler(release('gate-failed', { EvaluateModelResult: { failures: ['rmse 9 above 5'] } }));

    expect(sagemaker).toReceiveCommandWith(CreateModelPackageCommand, { ModelApprovalStatus: 'Rejected' });
    expect(sagemaker).toReceiveCommandWith(UpdateModelPackageCommand, { ModelApprovalStatus: 'Rejected' });
    expect(bucket.json<VersionRecord>(versionKey).modelRegistry).toMatchObject({
      modelPackageArn: ARN,
      approvalStatus: 'Rejected',
      error: null,
    });
  });

  it('records the outcome and notifies even when SageMaker refuses, keeping the error on the record', async () => {
    bucket.put(versionKey, versionRecord({ status: 'production' }));
    sagemaker.on(CreateModelPackageGroupCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));

    const result = await handler(release('succeeded'));

    expect(result.outcome).toBe('succeeded');
    expect(sns).toHaveReceivedCommand(PublishCommand);
    expect(bucket.json<VersionRecord>(versionKey)).toMatchObject({
      outcome: { state: 'succeeded' },
      modelRegistry: { modelPackageArn: null, error: 'AccessDeniedException: not authorized' },
    });
  });
});

describe('Handler: RecordOutcome (drift) notes the drift report on the model package', () => {
  let bucket: FakeBucket;
  const sns = mockClient(SNSClient);
  const sagemaker = mockClient(SageMakerClient);
  beforeEach(() => {
    bucket = fakeS3();
    sns.reset();
    sagemaker.reset();
    sns.on(PublishCommand).resolves({});
    sagemaker.on(UpdateModelPackageCommand).resolves({ ModelPackageArn: ARN });
  });
  afterEach(() => bucket.mock.restore());

  it('puts the latest drift verdict and report of the checked version on its package', async () => {
    // Prepare
    const mirror = { groupName: 'mlship-delivery-time', modelPackageArn: ARN, approvalStatus: 'Approved', error: null };
    bucket.put(versionKey, versionRecord({ status: 'production', modelRegistry: mirror as VersionRecord['modelRegistry'] }));
    const reportUri = `s3://${BUCKET}/monitoring/delivery-time/run-1/drift-report.html`;

    // Act
    await handler({
      workflow: 'drift',
      outcome: 'checked',
      state: { model: 'delivery-time', CheckDriftResult: { verdict: 'drift', run: 'run-1', reportUri, version: 'abcdef1-0a0b' } },
      executionId: EXECUTION_ARN,
      executionName: 'd1',
    });

    // Assess
    expect(sagemaker).toReceiveCommandWith(UpdateModelPackageCommand, {
      ModelPackageArn: ARN,
      CustomerMetadataProperties: {
        'mlship:lastDriftRun': 'run-1',
        'mlship:lastDriftVerdict': 'drift',
        'mlship:lastDriftReport': reportUri,
      },
    });
  });
});
