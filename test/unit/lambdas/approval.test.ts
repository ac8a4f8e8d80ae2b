import './task-env';
import { S3Client } from '@aws-sdk/client-s3';
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decideApproval, listApprovals } from '../../../lambdas/request-approval/decide';
import { handler } from '../../../lambdas/request-approval/handler';
import type { ApprovalRecord } from '../../../lambdas/shared/approvals';
import { ApprovalAlreadyDecidedError, ApprovalExpiredError, ApprovalNotFoundError } from '../../../lambdas/shared/errors';
import type { VersionRecord } from '../../../lambdas/shared/registry';
import { fakeS3, sdkError, type FakeBucket } from './fake-s3';
import { approvalRecord, BUCKET, EXECUTION_ARN, releaseEvent, versionRecord } from './fixtures';

const versionKey = 'registry/delivery-time/versions/abcdef1-0a0b.json';
const approvalKey = 'approvals/delivery-time/e1.json';
const requestEvent = (token = 'token-1') => ({
  ...releaseEvent(),
  taskToken: token,
  timeoutSeconds: 3600,
  evaluation: { validationOk: true, metrics: { rmse: 0.42 }, failures: [], reportUri: 's3://x' },
  loadTest: { ok: true, p99Ms: 12 },
});

describe('Handler: RequestApproval', () => {
  let bucket: FakeBucket;
  const sns = mockClient(SNSClient);
  beforeEach(() => {
    bucket = fakeS3();
    sns.reset();
    sns.on(PublishCommand).resolves({ MessageId: 'm' });
    bucket.put(versionKey, versionRecord({ status: 'evaluated' }));
  });
  afterEach(() => bucket.mock.restore());

  it('stores the pending approval with its token and links, marks the version and notifies', async () => {
    // Act
    const before = Date.now();
    const result = await handler(requestEvent());

    // Assess
    expect(result.approvalId).toBe('delivery-time/e1');
    const record = bucket.json<ApprovalRecord>(approvalKey);
    expect(record).toMatchObject({
      id: 'delivery-time/e1',
      model: 'delivery-time',
      version: 'abcdef1-0a0b',
      executionArn: EXECUTION_ARN,
      taskToken: 'token-1',
      status: 'pending',
      reportLinks: {
        html: 's3://mlship-artifacts/reports/delivery-time/abcdef1-0a0b/quality-report.html',
        json: 's3://mlship-artifacts/reports/delivery-time/abcdef1-0a0b/quality-report.json',
        validation: 's3://mlship-artifacts/reports/delivery-time/abcdef1-0a0b/validation.json',
        loadTest: 's3://mlship-artifacts/reports/delivery-time/abcdef1-0a0b/load-test.json',
      },
      summary: { metrics: { rmse: 0.42 }, validationOk: true, loadTestOk: true },
    });
    const wait = Date.parse(record.expiresAt) - Date.parse(record.requestedAt);
    expect(wait).toBe(3_600_000);
    expect(Date.parse(record.requestedAt)).toBeGreaterThanOrEqual(before - 1000);
    expect(bucket.json<VersionRecord>(versionKey).status).toBe('awaiting-approval');
    expect(sns).toReceiveCommandWith(PublishCommand, {
      TopicArn: 'arn:aws:sns:us-east-1:000000000000:mlship',
      Subject: 'mlship: delivery-time abcdef1-0a0b awaits approval',
      Message: expect.stringContaining('mlship approve delivery-time/e1'),
    });
  });

  it('renews the token of a pending request on a retry, and leaves a decided one alone', async () => {
    await handler(requestEvent('token-1'));
    await handler(requestEvent('token-2'));
    expect(bucket.json<ApprovalRecord>(approvalKey).taskToken).toBe('token-2');
    bucket.put(approvalKey, { ...bucket.json<ApprovalRecord>(approvalKey), status: 'approved' });
    await handler(requestEvent('token-3'));
    expect(bucket.json<ApprovalRecord>(approvalKey)).toMatchObject({ taskToken: 'token-2', status: 'approved' });
  });

  it('refuses an event without a task token; SNS throttling is transient', async () => {
    await expect(handler({ ...requestEvent(), taskToken: '' })).rejects.toMatchObject({ name: 'InvalidEventError', message: expect.stringContaining('taskToken') });
    sns.on(PublishCommand).rejects(sdkError('Throttling', 400));
    await expect(handler(requestEvent())).rejects.toMatchObject({ name: 'TransientError' });
  });
});

describe('Function: decideApproval', () => {
  let bucket: FakeBucket;
  const sfn = mockClient(SFNClient);
  const deps = { s3: new S3Client({ region: 'us-east-1' }), sfn: new SFNClient({ region: 'us-east-1' }), bucket: BUCKET, now: () => new Date('2026-11-27T01:30:00Z') };
  const pending = (over: Partial<ApprovalRecord> = {}) => approvalRecord(over);
  beforeEach(() => {
    bucket = fakeS3();
    sfn.reset();
    sfn.on(SendTaskSuccessCommand).resolves({});
    sfn.on(SendTaskFailureCommand).resolves({});
    bucket.put(approvalKey, pending());
  });
  afterEach(() => bucket.mock.restore());

  it('records an approval once and sends the decision as the task output', async () => {
    // Act
    const record = await decideApproval(deps, { id: 'delivery-time/e1', decision: 'approve', by: 'alice', comment: 'ship it' });

    // Assess
    expect(record).toMatchObject({ status: 'approved', decision: { by: 'alice', comment: 'ship it', at: '2026-11-27T01:30:00.000Z', delivered: true } });
    expect(sfn).toReceiveCommandWith(SendTaskSuccessCommand, {
      taskToken: 'token-1',
      output: JSON.stringify({ approved: true, by: 'alice', at: '2026-11-27T01:30:00.000Z', comment: 'ship it' }),
    });
    expect(bucket.json<ApprovalRecord>(approvalKey).status).toBe('approved');
    await expect(decideApproval(deps, { id: 'delivery-time/e1', decision: 'reject', by: 'bob' })).rejects.toThrow(ApprovalAlreadyDecidedError);
    expect(sfn).not.toReceiveCommand(SendTaskFailureCommand);
  });

  it('sends a rejection as ApprovalRejectedError with the approver and comment', async () => {
    await decideApproval(deps, { id: 'delivery-time/e1', decision: 'reject', by: 'bob', comment: 'latency too high' });
    expect(sfn).toReceiveCommandWith(SendTaskFailureCommand, { taskToken: 'token-1', error: 'ApprovalRejectedError', cause: 'Rejected by bob: latency too high' });
  });

  it('lets exactly one of two concurrent decisions win', async () => {
    const results = await Promise.allSettled([
      decideApproval(deps, { id: 'delivery-time/e1', decision: 'approve', by: 'alice' }),
      decideApproval(deps, { id: 'delivery-time/e1', decision: 'reject', by: 'bob' }),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.find((r) => r.status === 'rejected')).toMatchObject({ reason: expect.any(ApprovalAlreadyDecidedError) });
    expect(sfn.commandCalls(SendTaskSuccessCommand).length + sfn.commandCalls(SendTaskFailureCommand).length).toBe(1);
  });

  it('refuses an expired request, marking it expired', async () => {
    bucket.put(approvalKey, pending({ expiresAt: '2026-11-27T01:10:00.000Z' }));
    await expect(decideApproval(deps, { id: 'delivery-time/e1', decision: 'approve', by: 'alice' })).rejects.toThrow(ApprovalExpiredError);
    expect(bucket.json<ApprovalRecord>(approvalKey).status).toBe('expired');
    expect(sfn).not.toReceiveCommand(SendTaskSuccessCommand);
  });

  it('marks the request expired when the execution no longer waits for the token', async () => {
    sfn.on(SendTaskSuccessCommand).rejects(sdkError('TaskTimedOut', 400));
    await expect(decideApproval(deps, { id: 'delivery-time/e1', decision: 'approve', by: 'alice' })).rejects.toThrow(ApprovalExpiredError);
    expect(bucket.json<ApprovalRecord>(approvalKey).status).toBe('expired');
  });

  it('does not mark a request expired that another approver decided while the token was being spent', async () => {
    // Prepare: our SendTaskSuccess finds the token spent because bob's decision landed
    sfn.on(SendTaskSuccessCommand).callsFake(() => {
      bucket.put(approvalKey, pending({ status: 'rejected', decision: { by: 'bob', at: '2026-11-27T01:30:01.000Z', comment: null, delivered: true } }));
      throw sdkError('TaskDoesNotExist', 400);
    });

    // Act & Assess
    await expect(decideApproval(deps, { id: 'delivery-time/e1', decision: 'approve', by: 'alice' })).rejects.toThrow(ApprovalAlreadyDecidedError);
    expect(bucket.json<ApprovalRecord>(approvalKey)).toMatchObject({ status: 'rejected', decision: { by: 'bob' } });
  });

  it('delivers a recorded but undelivered decision when the same approver repeats it', async () => {
    // Prepare: the first attempt recorded the decision, then SendTaskSuccess failed transiently
    sfn.on(SendTaskSuccessCommand).rejectsOnce(sdkError('ServiceUnavailable', 503)).resolves({});
    await expect(decideApproval(deps, { id: 'delivery-time/e1', decision: 'approve', by: 'alice' })).rejects.toMatchObject({ name: 'ServiceUnavailable' });

    // Act
    const record = await decideApproval(deps, { id: 'delivery-time/e1', decision: 'approve', by: 'alice' });

    // Assess
    expect(record.decision?.delivered).toBe(true);
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(2);
  });

  it('refuses unknown and malformed ids, and a decision without an approver', async () => {
    await expect(decideApproval(deps, { id: 'delivery-time/e9', decision: 'approve', by: 'a' })).rejects.toThrow(ApprovalNotFoundError);
    await expect(decideApproval(deps, { id: '../registry/x', decision: 'approve', by: 'a' })).rejects.toMatchObject({ name: 'InvalidEventError' });
    await expect(decideApproval(deps, { id: 'delivery-time/..', decision: 'approve', by: 'a' })).rejects.toMatchObject({ name: 'InvalidEventError' });
    await expect(decideApproval(deps, { id: 'delivery-time/e1', decision: 'approve', by: ' ' })).rejects.toMatchObject({ name: 'InvalidEventError' });
  });
});

describe('Function: listApprovals', () => {
  let bucket: FakeBucket;
  beforeEach(() => {
    bucket = fakeS3();
  });
  afterEach(() => bucket.mock.restore());

  it('lists newest first, filters by status and model, and shows overdue pending requests as expired', async () => {
    // Prepare
    const base = { model: 'delivery-time', version: 'v', executionArn: 'a', taskToken: 't', reportLinks: { html: '', json: '', validation: '', loadTest: '' }, summary: { metrics: {}, validationOk: true, loadTestOk: true } };
    bucket.put('approvals/delivery-time/a.json', { ...base, id: 'delivery-time/a', requestedAt: '2026-11-27T00:00:00Z', expiresAt: '2026-11-28T00:00:00Z', status: 'pending' });
    bucket.put('approvals/delivery-time/b.json', { ...base, id: 'delivery-time/b', requestedAt: '2026-11-26T00:00:00Z', expiresAt: '2026-11-26T01:00:00Z', status: 'pending' });
    bucket.put('approvals/ticket-triage/c.json', { ...base, model: 'ticket-triage', id: 'ticket-triage/c', requestedAt: '2026-11-27T01:00:00Z', expiresAt: '2026-11-28T00:00:00Z', status: 'approved', decision: { by: 'x', at: 'y', comment: null } });
    const deps = { s3: new S3Client({ region: 'us-east-1' }), bucket: BUCKET, now: () => new Date('2026-11-27T01:30:00Z') };

    // Act & Assess
    expect((await listApprovals(deps)).map((a) => [a.id, a.status])).toEqual([
      ['ticket-triage/c', 'approved'],
      ['delivery-time/a', 'pending'],
      ['delivery-time/b', 'expired'],
    ]);
    expect((await listApprovals(deps, { status: 'pending' })).map((a) => a.id)).toEqual(['delivery-time/a']);
    expect((await listApprovals(deps, { model: 'ticket-triage' })).map((a) => a.id)).toEqual(['ticket-triage/c']);
  });
});
