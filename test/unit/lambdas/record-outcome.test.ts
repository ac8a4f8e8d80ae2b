import './task-env';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../../../lambdas/record-outcome/handler';
import type { ApprovalRecord } from '../../../lambdas/shared/approvals';
import type { VersionRecord } from '../../../lambdas/shared/registry';
import { fakeS3, sdkError, type FakeBucket } from './fake-s3';
import { approvalRecord, EXECUTION_ARN, versionRecord } from './fixtures';

const versionKey = 'registry/delivery-time/versions/abcdef1-0a0b.json';
const releaseState = (extra: Record<string, unknown> = {}) => ({
  model: 'delivery-time',
  commitId: 'abcdef1',
  PrepareReleaseResult: { version: 'abcdef1-0a0b' },
  ...extra,
});
const release = (outcome: string, state: Record<string, unknown>) => ({
  workflow: 'release',
  outcome,
  state,
  executionId: EXECUTION_ARN,
  executionName: 'e1',
});

describe('Handler: RecordOutcome (release)', () => {
  let bucket: FakeBucket;
  const sns = mockClient(SNSClient);
  // Keeps the Model Registry mirror off the network (test/unit/lambdas/model-registry.test.ts has its behaviour).
  mockClient(SageMakerClient);
  beforeEach(() => {
    bucket = fakeS3();
    sns.reset();
    sns.on(PublishCommand).resolves({});
    bucket.put(
      versionKey,
      versionRecord({
        status: 'evaluated',
        evaluation: {
          validationOk: false,
          metrics: { rmse: 9 },
          failures: ['rmse 9 above 5'],
          reportUri: 'j',
          validationUri: 'v',
          htmlUri: 's3://b/q.html',
        },
      }),
    );
  });
  afterEach(() => bucket.mock.restore());

  it('records a failed gate on the version and notifies with the reason and the report link', async () => {
    // Act
    const result = await handler(
      release('gate-failed', releaseState({ EvaluateModelResult: { validationOk: false, failures: ['rmse 9 above 5'] } })),
    );

    // Assess
    expect(result).toEqual({ outcome: 'gate-failed', notified: true, cause: 'quality gate failed: rmse 9 above 5; report: s3://b/q.html' });
    expect(bucket.json<VersionRecord>(versionKey)).toMatchObject({
      status: 'gate-failed',
      outcome: { state: 'gate-failed', error: null, cause: result.cause },
    });
    expect(sns).toReceiveCommandWith(PublishCommand, {
      Subject: 'mlship: delivery-time abcdef1-0a0b gate-failed',
      Message: expect.stringMatching(/quality gate failed: rmse 9 above 5[\s\S]*Quality report: s3:\/\/b\/q\.html/),
      MessageAttributes: expect.objectContaining({ outcome: { DataType: 'String', StringValue: 'gate-failed' } }),
    });
  });

  it('records a failed shadow test with its verdict and reasons, and names the verdict in the notification', async () => {
    // Prepare
    const shadow = {
      verdict: 'fail' as const,
      reasons: ['agreement 0.7 is below experiment.shadow.bounds.minAgreement 0.9'],
      requests: 200,
      reportUri: 's3://b/shadow.json',
    };
    bucket.put(versionKey, versionRecord({ status: 'evaluated', shadow }));

    // Act
    const result = await handler(
      release(
        'shadow-test-failed',
        releaseState({ CheckShadowTestResult: { verdict: 'fail', reason: shadow.reasons[0], reportUri: shadow.reportUri } }),
      ),
    );

    // Assess
    expect(result.cause).toBe(
      'shadow test fail: agreement 0.7 is below experiment.shadow.bounds.minAgreement 0.9; report: s3://b/shadow.json',
    );
    expect(bucket.json<VersionRecord>(versionKey)).toMatchObject({
      status: 'shadow-test-failed',
      outcome: { state: 'shadow-test-failed' },
    });
    expect(sns).toReceiveCommandWith(PublishCommand, {
      Subject: 'mlship: delivery-time abcdef1-0a0b shadow-test-failed',
      Message: expect.stringContaining(
        'Shadow test: fail (agreement 0.7 is below experiment.shadow.bounds.minAgreement 0.9) s3://b/shadow.json',
      ),
    });
  });

  it('records a failed A/B test with its verdict, says production is unchanged, and names the verdict in the notification', async () => {
    // Prepare
    const reason = 'the candidate is significantly worse: rmse loss candidate 9 vs production 0.01 (n 30 / 30)';
    const ab = {
      verdict: 'fail' as const,
      reasons: [reason],
      plan: null,
      startedAt: '2026-11-27T00:00:00.000Z',
      reportUri: 's3://b/ab.json',
    };
    bucket.put(versionKey, versionRecord({ status: 'approved', ab }));

    // Act
    const result = await handler(
      release('ab-test-failed', releaseState({ CheckAbTestResult: { verdict: 'fail', reason, reportUri: ab.reportUri } })),
    );

    // Assess
    expect(result.cause).toBe(`A/B test fail: ${reason}; production unchanged; report: s3://b/ab.json`);
    expect(bucket.json<VersionRecord>(versionKey)).toMatchObject({ status: 'ab-test-failed', outcome: { state: 'ab-test-failed' } });
    expect(sns).toReceiveCommandWith(PublishCommand, {
      Subject: 'mlship: delivery-time abcdef1-0a0b ab-test-failed',
      Message: expect.stringContaining(`A/B test: fail (${reason}) s3://b/ab.json`),
    });
  });

  it('keeps the production status of a successful release and records the outcome', async () => {
    bucket.put(versionKey, versionRecord({ status: 'production' }));
    await handler(release('succeeded', releaseState()));
    expect(bucket.json<VersionRecord>(versionKey)).toMatchObject({ status: 'production', outcome: { state: 'succeeded' } });
  });

  it('records what became of the staging endpoint, and a failed deletion in the notification, without changing the outcome', async () => {
    // Act
    const deleted = await handler(
      release('succeeded', releaseState({ DeleteStagingEndpointResult: { endpointName: 's', action: 'deleted', detail: 'deleted s' } })),
    );
    const afterDeleted = bucket.json<VersionRecord>(versionKey).stagingCleanup;
    const failed = await handler(
      release(
        'rejected',
        releaseState({
          error: { Error: 'ApprovalRejectedError', Cause: 'Rejected by bob' },
          DeleteStagingEndpointResult: {
            Error: 'AccessDeniedException',
            Cause: '{"errorMessage":"not authorized to perform: sagemaker:DeleteEndpoint"}',
          },
        }),
      ),
    );

    // Assess
    expect(deleted.outcome).toBe('succeeded');
    expect(afterDeleted).toEqual({ action: 'deleted', detail: 'deleted s' });
    expect(failed.outcome).toBe('rejected');
    expect(bucket.json<VersionRecord>(versionKey)).toMatchObject({
      status: 'rejected',
      outcome: { error: { Error: 'ApprovalRejectedError' } },
      stagingCleanup: { action: 'failed', detail: 'AccessDeniedException: not authorized to perform: sagemaker:DeleteEndpoint' },
    });
    expect(sns.commandCalls(PublishCommand)[1]!.args[0].input.Message).toContain(
      'The staging endpoint was not deleted (AccessDeniedException: not authorized to perform: sagemaker:DeleteEndpoint); delete it by hand.',
    );
  });

  it("records the approver's rejection from the approval record", async () => {
    bucket.put(
      'approvals/delivery-time/e1.json',
      approvalRecord({ status: 'rejected', decision: { by: 'bob', at: '2026-11-27T01:10:00Z', comment: 'no', delivered: true } }),
    );
    await handler(release('rejected', releaseState({ error: { Error: 'ApprovalRejectedError', Cause: 'Rejected by bob: no' } })));
    expect(bucket.json<VersionRecord>(versionKey)).toMatchObject({
      status: 'rejected',
      approval: { decision: 'rejected', by: 'bob', comment: 'no' },
    });
    expect(sns).toReceiveCommandWith(PublishCommand, { Message: expect.stringContaining('Rejected by bob: no') });
  });

  it('marks a pending approval expired on a timeout', async () => {
    bucket.put('approvals/delivery-time/e1.json', approvalRecord());
    await handler(release('approval-timed-out', releaseState({ error: { Error: 'States.Timeout', Cause: '' } })));
    expect(bucket.json<ApprovalRecord>('approvals/delivery-time/e1.json').status).toBe('expired');
    expect(bucket.json<VersionRecord>(versionKey)).toMatchObject({ status: 'approval-timed-out', approval: { decision: 'expired' } });
  });

  it('marks a decision that the timeout beat expired, so the record says what the release received', async () => {
    // Prepare: alice's approval was recorded, but the task timed out before it was delivered
    bucket.put(
      'approvals/delivery-time/e1.json',
      approvalRecord({
        status: 'approved',
        decision: { by: 'alice', at: '2026-11-27T02:59:59Z', comment: null, delivered: false, deliveringSince: '2026-11-27T02:59:59Z' },
      }),
    );
    // Act
    await handler(release('approval-timed-out', releaseState({ error: { Error: 'States.Timeout', Cause: '' } })));
    // Assess
    expect(bucket.json<ApprovalRecord>('approvals/delivery-time/e1.json')).toMatchObject({
      status: 'expired',
      decision: { by: 'alice' },
      note: expect.stringContaining('timed out'),
    });
    expect(bucket.json<VersionRecord>(versionKey)).toMatchObject({ status: 'approval-timed-out', approval: { decision: 'expired' } });
  });

  it("keeps the message of a caught Lambda error's JSON cause", async () => {
    const cause = JSON.stringify({ errorType: 'ConcurrentUpdateError', errorMessage: 'registry busy', trace: [] });
    await handler(release('failed', releaseState({ error: { Error: 'ConcurrentUpdateError', Cause: cause } })));
    expect(bucket.json<VersionRecord>(versionKey).outcome).toMatchObject({
      state: 'failed',
      error: { Error: 'ConcurrentUpdateError', Cause: 'registry busy' },
    });
  });

  it('names the training channel and the upload command when SageMaker refuses a job for an empty S3 channel', async () => {
    // Prepare: the refusal as Step Functions hands it to TrainModel's Catch on AWS (the service's message, then its details)
    const uri = 's3://team-datasets/delivery-time/train/';
    const refusal =
      `No S3 objects found under S3 URL "${uri}" given in input data source. Please ensure that the bucket exists in the selected region (eu-west-1), ` +
      'that objects exist under that S3 prefix, and that the role "arn:aws:iam::123456789012:role/mlship-sagemaker" has "s3:ListBucket" permissions on bucket "team-datasets". ' +
      '(Service: AmazonSageMaker; Status Code: 400; Error Code: ValidationException; Request ID: 0f1e)';
    const request = {
      InputDataConfig: [
        {
          ChannelName: 'holdout',
          DataSource: { S3DataSource: { S3Uri: 's3://mlship-artifacts/builds/delivery-time/abcdef1-0a0b/data/' } },
        },
        { ChannelName: 'train', DataSource: { S3DataSource: { S3Uri: uri } } },
      ],
    };
    const state = releaseState({
      PrepareTrainingResult: { mode: 'sagemaker', request },
      error: { Error: 'SageMaker.AmazonSageMakerException', Cause: refusal },
    });

    // Act
    const result = await handler(release('training-failed', state));

    // Assess
    expect(result.cause).toMatch(
      /^training channel "train" \(model\.yaml training\.channels\.train\) has no data at s3:\/\/team-datasets\/delivery-time\/train\/: upload it with mlship data put <file or folder> s3:\/\/team-datasets\/delivery-time\/train\/ \(add --aws on AWS\)/,
    );
    expect(result.cause).toContain(`SageMaker.AmazonSageMakerException: No S3 objects found under S3 URL "${uri}"`);
  });

  it("makes a model fault's message the cause, recorded and notified", async () => {
    // Prepare: EvaluateModel's ModelAnswerError, as Step Functions hands it to the Catch
    const message =
      'the model behind mlship-delivery-time-staging answered predictions that are NaN or Infinity, which JSON cannot carry: {"predictions":[{"value":NaN}]}; model log: /data/sagemaker/logs/mlship-delivery-time-staging';
    const error = { Error: 'ModelAnswerError', Cause: JSON.stringify({ errorType: 'ModelAnswerError', errorMessage: message, trace: [] }) };
    // Act
    const result = await handler(release('failed', releaseState({ error })));
    // Assess
    expect(result.cause).toBe(`ModelAnswerError: ${message}`);
    expect(bucket.json<VersionRecord>(versionKey).outcome).toMatchObject({ state: 'failed', cause: result.cause });
    expect(sns).toReceiveCommandWith(PublishCommand, { Message: expect.stringContaining(`failed — ModelAnswerError: ${message}`) });
  });

  it("says why a deployment rolled back and where the production model's log is", async () => {
    // Act
    const result = await handler(
      release(
        'rolled-back',
        releaseState({
          PrepareReleaseResult: {
            version: 'abcdef1-0a0b',
            stagingEndpoint: 'mlship-delivery-time-staging',
            productionEndpoint: 'mlship-delivery-time-production',
          },
          CheckProductionResult: {
            status: 'RolledBack',
            failureReason: 'Rolled back: model server of variant AllTraffic exited while baking (exit code 1)',
          },
        }),
      ),
    );
    // Assess
    expect(result.cause).toBe(
      'production deployment rolled back, production serves the previous version: Rolled back: model server of variant AllTraffic exited while baking (exit code 1); model log: CloudWatch log group /aws/sagemaker/Endpoints/mlship-delivery-time-production',
    );
  });

  it('still notifies a release that failed before it had a version', async () => {
    await handler(
      release('failed', {
        model: 'delivery-time',
        error: { Error: 'InvalidManifestError', Cause: 'models/delivery-time/model.yaml: task: ...' },
      }),
    );
    expect(sns).toReceiveCommandWith(PublishCommand, {
      Message: expect.stringContaining('InvalidManifestError: models/delivery-time/model.yaml'),
    });
    expect(bucket.json<VersionRecord>(versionKey).outcome).toBeNull();
  });

  it('refuses an unknown outcome; SNS throttling is transient', async () => {
    await expect(handler(release('exploded', releaseState()))).rejects.toMatchObject({
      name: 'InvalidEventError',
      message: expect.stringContaining('outcome'),
    });
    sns.on(PublishCommand).rejects(sdkError('Throttling', 400));
    await expect(handler(release('failed', releaseState()))).rejects.toMatchObject({ name: 'TransientError' });
  });
});

describe('Handler: RecordOutcome (drift)', () => {
  let bucket: FakeBucket;
  const sns = mockClient(SNSClient);
  beforeEach(() => {
    bucket = fakeS3();
    sns.reset();
    sns.on(PublishCommand).resolves({});
  });
  afterEach(() => bucket.mock.restore());

  it('records the verdict and the retraining decision of the run and notifies', async () => {
    // Act
    const result = await handler({
      workflow: 'drift',
      outcome: 'checked',
      state: {
        model: 'delivery-time',
        CheckDriftResult: { verdict: 'drift', retrain: true, reason: '2/2 features drifted', run: 'd1', reportUri: 's3://r' },
        TriggerRetrainingResult: { started: true, executionArn: 'arn:release', skippedReason: null },
      },
      executionId: 'arn:drift',
      executionName: 'd1',
    });

    // Assess
    expect(result).toMatchObject({ outcome: 'drift', notified: true, cause: expect.stringContaining('drift check drift') });
    expect(bucket.json('monitoring/delivery-time/d1/outcome.json')).toMatchObject({ outcome: 'drift', retraining: { started: true } });
    expect(bucket.json('monitoring/delivery-time/latest.json')).toMatchObject({ run: 'd1', outcome: 'drift' });
    expect(sns).toReceiveCommandWith(PublishCommand, { Message: expect.stringContaining('retraining release started: arn:release') });
  });

  it('notifies a data-quality alert with its alerts and the skipped counts', async () => {
    // Act
    const result = await handler({
      workflow: 'drift',
      outcome: 'checked',
      state: {
        model: 'delivery-time',
        CheckDriftResult: {
          verdict: 'data-quality',
          retrain: false,
          reason: 'data-quality alert: x: 100.0% missing against 0.0% in the baseline',
          run: 'd3',
          reportUri: 's3://r',
          dataQuality: {
            verdict: 'data-quality',
            captureLines: 81,
            skippedLines: 1,
            skippedValues: { distance_km: 2 },
            alerts: ['x: 100.0% missing against 0.0% in the baseline'],
          },
        },
      },
      executionId: 'arn:drift',
      executionName: 'd3',
    });

    // Assess
    expect(result).toEqual({
      outcome: 'data-quality',
      notified: true,
      cause: expect.stringContaining('data-quality alert: x: 100.0% missing'),
    });
    expect(bucket.json('monitoring/delivery-time/d3/outcome.json')).toMatchObject({
      outcome: 'data-quality',
      dataQuality: { skippedLines: 1 },
    });
    expect(sns).toReceiveCommandWith(PublishCommand, {
      Subject: 'mlship: delivery-time drift check data-quality',
      Message: expect.stringMatching(/Data-quality alert: x: 100\.0% missing[^]*Skipped: 1 of 81 capture lines; values: distance_km 2/),
      MessageAttributes: expect.objectContaining({ outcome: { DataType: 'String', StringValue: 'data-quality' } }),
    });
  });

  it('records a failed check', async () => {
    const result = await handler({
      workflow: 'drift',
      outcome: 'failed',
      state: { model: 'delivery-time', error: { Error: 'SourceNotFoundError', Cause: 'x' } },
      executionId: 'arn:drift',
      executionName: 'd2',
    });
    expect(result.outcome).toBe('failed');
    expect(bucket.json('monitoring/delivery-time/d2/outcome.json')).toMatchObject({
      outcome: 'failed',
      error: { Error: 'SourceNotFoundError' },
    });
  });
});
