import './task-env';
import { S3Client } from '@aws-sdk/client-s3';
import { CreateModelPackageCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { DescribeExecutionCommand, GetExecutionHistoryCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decideApproval, isAuthor } from '../../../lambdas/decide-approval/decide';
import { expiryOf, listApprovals, readApproval } from '../../../lambdas/shared/approvals';
import { handler } from '../../../lambdas/request-approval/handler';
import type { ApprovalRecord } from '../../../lambdas/shared/approvals';
import {
  ApprovalAlreadyDecidedError,
  ApprovalExpiredError,
  ApprovalNotFoundError,
  SeparationOfDutiesError,
} from '../../../lambdas/shared/errors';
import type { VersionRecord } from '../../../lambdas/shared/registry';
import { fakeS3, sdkError, type FakeBucket } from './fake-s3';
import { approvalRecord, approvalToken, BUCKET, EXECUTION_ARN, releaseEvent, versionRecord } from './fixtures';

const versionKey = 'registry/delivery-time/versions/abcdef1-0a0b.json';
const approvalKey = 'approvals/delivery-time/e1.json';
const tokenKey = 'approval-tokens/delivery-time/e1.json';
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
  // The Model Registry mirror (test/unit/lambdas/model-registry.test.ts has its behaviour).
  const sagemaker = mockClient(SageMakerClient);
  beforeEach(() => {
    bucket = fakeS3();
    sns.reset();
    sagemaker.reset();
    sagemaker
      .on(CreateModelPackageCommand)
      .resolves({ ModelPackageArn: 'arn:aws:sagemaker:us-east-1:000000000000:model-package/mlship-delivery-time/1' });
    sns.on(PublishCommand).resolves({ MessageId: 'm' });
    bucket.put(versionKey, versionRecord({ status: 'evaluated' }));
  });
  afterEach(() => bucket.mock.restore());

  it('stores the token apart from the pending request, with links, author and separation of duties; marks the version and notifies', async () => {
    // Prepare
    bucket.put(versionKey, versionRecord({ status: 'evaluated', author: { name: 'Ann', email: 'ann@example.com' } }));

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
      status: 'pending',
      author: { name: 'Ann', email: 'ann@example.com' },
      separationOfDuties: true,
      reportLinks: {
        html: 's3://mlship-artifacts/reports/delivery-time/abcdef1-0a0b/quality-report.html',
        json: 's3://mlship-artifacts/reports/delivery-time/abcdef1-0a0b/quality-report.json',
        validation: 's3://mlship-artifacts/reports/delivery-time/abcdef1-0a0b/validation.json',
        loadTest: 's3://mlship-artifacts/reports/delivery-time/abcdef1-0a0b/load-test.json',
      },
      summary: { metrics: { rmse: 0.42 }, validationOk: true, loadTestOk: true },
    });
    expect(JSON.stringify(record)).not.toContain('token-1');
    expect(bucket.json(tokenKey)).toMatchObject({ id: 'delivery-time/e1', taskToken: 'token-1', executionArn: EXECUTION_ARN });
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

  it('renews the token on a retry, and leaves a decided request alone', async () => {
    await handler(requestEvent('token-1'));
    await handler(requestEvent('token-2'));
    expect(bucket.json<{ taskToken: string }>(tokenKey).taskToken).toBe('token-2');
    bucket.put(approvalKey, { ...bucket.json<ApprovalRecord>(approvalKey), status: 'approved' });
    await handler(requestEvent('token-3'));
    expect(bucket.json<ApprovalRecord>(approvalKey)).toMatchObject({ status: 'approved' });
    // The retry's task is the one that waits now: a recorded decision must reach it.
    expect(bucket.json<{ taskToken: string }>(tokenKey).taskToken).toBe('token-3');
  });

  it('refuses an event without a task token; SNS throttling is transient', async () => {
    await expect(handler({ ...requestEvent(), taskToken: '' })).rejects.toMatchObject({
      name: 'InvalidEventError',
      message: expect.stringContaining('taskToken'),
    });
    sns.on(PublishCommand).rejects(sdkError('Throttling', 400));
    await expect(handler(requestEvent())).rejects.toMatchObject({ name: 'TransientError' });
  });
});

describe('Function: decideApproval', () => {
  let bucket: FakeBucket;
  const sfn = mockClient(SFNClient);
  let clock = new Date('2026-11-27T01:30:00Z');
  const deps = { s3: new S3Client({ region: 'us-east-1' }), sfn: new SFNClient({ region: 'us-east-1' }), bucket: BUCKET, now: () => clock };
  const pending = (over: Partial<ApprovalRecord> = {}) => approvalRecord(over);
  const audit = () =>
    bucket
      .keys('audit/approvals/delivery-time/e1/')
      .map((k) => bucket.json<{ event: string; by: string; decision: string; reason: string | null }>(k));
  beforeEach(() => {
    bucket = fakeS3();
    clock = new Date('2026-11-27T01:30:00Z');
    sfn.reset();
    sfn.on(SendTaskSuccessCommand).resolves({});
    sfn.on(SendTaskFailureCommand).resolves({});
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
    bucket.put(approvalKey, pending());
    bucket.put(tokenKey, approvalToken());
  });
  afterEach(() => bucket.mock.restore());

  it('records the decision before delivering it, with the token from approval-tokens/, and audits both', async () => {
    // Prepare: what the record said when SendTaskSuccess was called
    let recordAtDelivery: ApprovalRecord | undefined;
    sfn.on(SendTaskSuccessCommand).callsFake(() => ((recordAtDelivery = bucket.json<ApprovalRecord>(approvalKey)), {}));

    // Act
    const { record, repeated } = await decideApproval(deps, {
      id: 'delivery-time/e1',
      decision: 'approve',
      by: 'alice',
      comment: 'ship it',
    });

    // Assess
    expect(recordAtDelivery).toMatchObject({ status: 'approved', decision: { by: 'alice', delivered: false } });
    expect(repeated).toBe(false);
    expect(record).toMatchObject({
      status: 'approved',
      decision: { by: 'alice', comment: 'ship it', at: '2026-11-27T01:30:00.000Z', delivered: true, deliveringSince: null },
    });
    expect(sfn).toReceiveCommandWith(SendTaskSuccessCommand, {
      taskToken: 'token-1',
      output: JSON.stringify({ approved: true, by: 'alice', at: '2026-11-27T01:30:00.000Z', comment: 'ship it' }),
    });
    expect(bucket.json<ApprovalRecord>(approvalKey)).toMatchObject({ status: 'approved', decision: { delivered: true } });
    expect(
      audit()
        .map((a) => a.event)
        .sort(),
    ).toEqual(['decided', 'delivered']);
  });

  it('answers the same decision by the same person with the recorded one, and refuses any other', async () => {
    // Prepare
    await decideApproval(deps, { id: 'delivery-time/e1', decision: 'approve', by: 'alice' });

    // Act
    const again = await decideApproval(deps, { id: 'delivery-time/e1', decision: 'approve', by: 'alice', comment: 'still yes' });
    const other = decideApproval(deps, { id: 'delivery-time/e1', decision: 'approve', by: 'bob' });
    const flip = decideApproval(deps, { id: 'delivery-time/e1', decision: 'reject', by: 'alice', comment: 'no' });

    // Assess
    expect(again).toMatchObject({ repeated: true, record: { status: 'approved', decision: { by: 'alice', comment: null } } });
    await expect(other).rejects.toThrow(ApprovalAlreadyDecidedError);
    await expect(flip).rejects.toThrow(ApprovalAlreadyDecidedError);
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(1);
    expect(sfn).not.toReceiveCommand(SendTaskFailureCommand);
    expect(
      audit()
        .map((a) => `${a.event}:${a.by}:${a.decision}`)
        .sort(),
    ).toEqual([
      'decided:alice:approve',
      'delivered:alice:approve',
      'refused:alice:reject',
      'refused:bob:approve',
      'repeated:alice:approve',
    ]);
  });

  it('sends a rejection as ApprovalRejectedError with the approver and comment', async () => {
    await decideApproval(deps, { id: 'delivery-time/e1', decision: 'reject', by: 'bob', comment: 'latency too high' });
    expect(sfn).toReceiveCommandWith(SendTaskFailureCommand, {
      taskToken: 'token-1',
      error: 'ApprovalRejectedError',
      cause: 'Rejected by bob: latency too high',
    });
  });

  it('lets exactly one of concurrent different decisions win, and delivers only that one', async () => {
    const results = await Promise.allSettled([
      decideApproval(deps, { id: 'delivery-time/e1', decision: 'approve', by: 'alice' }),
      decideApproval(deps, { id: 'delivery-time/e1', decision: 'reject', by: 'bob', comment: 'no' }),
      decideApproval(deps, { id: 'delivery-time/e1', decision: 'approve', by: 'carol' }),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.name)).toEqual([
      'ApprovalAlreadyDecidedError',
      'ApprovalAlreadyDecidedError',
    ]);
    expect(sfn.commandCalls(SendTaskSuccessCommand).length + sfn.commandCalls(SendTaskFailureCommand).length).toBe(1);
  });

  it('refuses a request past its expiry without touching it; expiry is reached at expiresAt', async () => {
    // Prepare
    clock = new Date('2026-11-27T03:00:00.000Z');

    // Act & Assess
    await expect(decideApproval(deps, { id: 'delivery-time/e1', decision: 'approve', by: 'alice' })).rejects.toThrow(ApprovalExpiredError);
    expect(bucket.json<ApprovalRecord>(approvalKey).status).toBe('pending');
    expect(sfn).not.toReceiveCommand(SendTaskSuccessCommand);
    expect(audit()).toMatchObject([{ event: 'refused', reason: 'expired at 2026-11-27T03:00:00.000Z' }]);
  });

  it('records expired (not approved) when the task timed out before the decision reached it', async () => {
    sfn.on(SendTaskSuccessCommand).rejects(sdkError('TaskTimedOut', 400));
    await expect(decideApproval(deps, { id: 'delivery-time/e1', decision: 'approve', by: 'alice' })).rejects.toThrow(ApprovalExpiredError);
    expect(bucket.json<ApprovalRecord>(approvalKey)).toMatchObject({
      status: 'expired',
      decision: { by: 'alice', delivered: false },
      note: expect.stringContaining('timed out'),
    });
  });

  it('tries the renewed token when a retry of RequestApproval replaced it meanwhile', async () => {
    // Prepare: the first send finds token-1 spent because the task was retried with token-2
    sfn.on(SendTaskSuccessCommand).callsFakeOnce(() => {
      bucket.put(tokenKey, approvalToken({ taskToken: 'token-2' }));
      throw sdkError('TaskDoesNotExist', 400);
    });

    // Act
    const { record } = await decideApproval(deps, { id: 'delivery-time/e1', decision: 'approve', by: 'alice' });

    // Assess
    expect(record.decision?.delivered).toBe(true);
    expect(sfn.commandCalls(SendTaskSuccessCommand).map((c) => c.args[0].input.taskToken)).toEqual(['token-1', 'token-2']);
  });

  it('lets a repeat deliver a recorded decision whose delivery failed', async () => {
    // Prepare: the first attempt recorded the decision, then SendTaskSuccess failed transiently
    sfn.on(SendTaskSuccessCommand).rejectsOnce(sdkError('ServiceUnavailable', 503)).resolves({});
    await expect(decideApproval(deps, { id: 'delivery-time/e1', decision: 'approve', by: 'alice' })).rejects.toMatchObject({
      name: 'ServiceUnavailable',
    });
    expect(bucket.json<ApprovalRecord>(approvalKey)).toMatchObject({
      status: 'approved',
      decision: { delivered: false, deliveringSince: null },
    });

    // Act
    const { record, repeated } = await decideApproval(deps, { id: 'delivery-time/e1', decision: 'approve', by: 'alice' });

    // Assess
    expect(repeated).toBe(true);
    expect(record.decision?.delivered).toBe(true);
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(2);
  });

  it('takes over a delivery whose function died only after the lease, and finds the release already answered', async () => {
    // Prepare: alice's decision recorded 61 s ago, its delivery never recorded; the token is spent
    bucket.put(
      approvalKey,
      pending({
        status: 'approved',
        decision: {
          by: 'alice',
          at: '2026-11-27T01:29:00.000Z',
          comment: null,
          delivered: false,
          deliveringSince: '2026-11-27T01:29:00.000Z',
        },
      }),
    );
    sfn.on(SendTaskSuccessCommand).rejects(sdkError('TaskDoesNotExist', 400));
    const early = { ...deps, now: () => new Date('2026-11-27T01:29:30.000Z') };

    // Act
    const within = await decideApproval(early, { id: 'delivery-time/e1', decision: 'approve', by: 'alice' });
    const after = await decideApproval(deps, { id: 'delivery-time/e1', decision: 'approve', by: 'alice' });

    // Assess: within the lease nothing is sent; after it, the running release shows the answer arrived
    expect(within.record.decision?.delivered).toBe(false);
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(1);
    expect(after.record).toMatchObject({ status: 'approved', decision: { delivered: true } });
  });

  it("reads a finished release's history to tell a delivery that died unrecorded from one that never arrived", async () => {
    // Prepare: two stale undelivered approvals; the release has ended; its history has alice's answer only
    const stale = (by: string) =>
      pending({
        status: 'approved',
        decision: { by, at: '2026-11-27T01:20:00.000Z', comment: null, delivered: false, deliveringSince: '2026-11-27T01:20:00.000Z' },
      });
    sfn.on(SendTaskSuccessCommand).rejects(sdkError('TaskDoesNotExist', 400));
    sfn.on(DescribeExecutionCommand).resolves({ status: 'SUCCEEDED' });
    sfn.on(GetExecutionHistoryCommand).resolves({
      events: [
        {
          id: 9,
          type: 'TaskSucceeded',
          timestamp: new Date(),
          taskSucceededEventDetails: {
            resourceType: 'lambda',
            resource: 'invoke.waitForTaskToken',
            output: JSON.stringify({ approved: true, by: 'alice', at: '2026-11-27T01:20:00.000Z', comment: null }),
          },
        },
      ],
    });

    // Act
    bucket.put(approvalKey, stale('alice'));
    const alice = await decideApproval(deps, { id: 'delivery-time/e1', decision: 'approve', by: 'alice' });
    bucket.put(approvalKey, stale('bob'));
    const bob = decideApproval(deps, { id: 'delivery-time/e1', decision: 'approve', by: 'bob' });

    // Assess
    expect(alice.record).toMatchObject({ status: 'approved', decision: { delivered: true } });
    await expect(bob).rejects.toThrow(ApprovalExpiredError);
    expect(bucket.json<ApprovalRecord>(approvalKey)).toMatchObject({
      status: 'expired',
      note: 'the release ended before the decision reached it',
    });
  });

  it("refuses the commit's author when separation of duties is on, and allows them when it is off", async () => {
    // Prepare
    bucket.put(approvalKey, pending({ author: { name: 'Alice Doe', email: 'alice@example.com' } }));

    // Act & Assess
    await expect(
      decideApproval(deps, {
        id: 'delivery-time/e1',
        decision: 'approve',
        by: 'arn:aws:sts::123456789012:assumed-role/Approvers/alice@example.com',
      }),
    ).rejects.toThrow(SeparationOfDutiesError);
    await expect(decideApproval(deps, { id: 'delivery-time/e1', decision: 'approve', by: 'alice' })).rejects.toThrow(
      SeparationOfDutiesError,
    );
    expect(bucket.json<ApprovalRecord>(approvalKey).status).toBe('pending');
    expect(audit().map((a) => a.event)).toEqual(['refused', 'refused']);
    bucket.put(approvalKey, pending({ author: { name: 'Alice Doe', email: 'alice@example.com' }, separationOfDuties: false }));
    await expect(decideApproval(deps, { id: 'delivery-time/e1', decision: 'approve', by: 'alice' })).resolves.toMatchObject({
      record: { status: 'approved' },
    });
  });

  it('refuses unknown and malformed ids, and a decision without an approver', async () => {
    await expect(decideApproval(deps, { id: 'delivery-time/e9', decision: 'approve', by: 'a' })).rejects.toThrow(ApprovalNotFoundError);
    await expect(decideApproval(deps, { id: '../registry/x', decision: 'approve', by: 'a' })).rejects.toMatchObject({
      name: 'InvalidEventError',
    });
    await expect(decideApproval(deps, { id: 'delivery-time/..', decision: 'approve', by: 'a' })).rejects.toMatchObject({
      name: 'InvalidEventError',
    });
    await expect(decideApproval(deps, { id: 'delivery-time/e1', decision: 'approve', by: ' ' })).rejects.toMatchObject({
      name: 'InvalidEventError',
    });
  });
});

describe('Function: isAuthor', () => {
  it('matches IAM session and user names, and local names, against email, local part and name', () => {
    const author = { name: 'Alice Doe', email: 'Alice@Example.com' };
    expect(isAuthor('arn:aws:sts::1:assumed-role/Approvers/alice@example.com', author)).toBe(true);
    expect(isAuthor('arn:aws:iam::1:user/alice', author)).toBe(true);
    expect(isAuthor('Alice Doe', author)).toBe(true);
    expect(isAuthor('arn:aws:iam::1:user/bob', author)).toBe(false);
    expect(isAuthor('alice-the-other', author)).toBe(false);
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
    const base = {
      model: 'delivery-time',
      version: 'v',
      executionArn: 'a',
      taskToken: 't',
      reportLinks: { html: '', json: '', validation: '', loadTest: '' },
      summary: { metrics: {}, validationOk: true, loadTestOk: true },
    };
    bucket.put('approvals/delivery-time/a.json', {
      ...base,
      id: 'delivery-time/a',
      requestedAt: '2026-11-27T00:00:00Z',
      expiresAt: '2026-11-28T00:00:00Z',
      status: 'pending',
    });
    bucket.put('approvals/delivery-time/b.json', {
      ...base,
      id: 'delivery-time/b',
      requestedAt: '2026-11-26T00:00:00Z',
      expiresAt: '2026-11-26T01:00:00Z',
      status: 'pending',
    });
    bucket.put('approvals/ticket-triage/c.json', {
      ...base,
      model: 'ticket-triage',
      id: 'ticket-triage/c',
      requestedAt: '2026-11-27T01:00:00Z',
      expiresAt: '2026-11-28T00:00:00Z',
      status: 'approved',
      decision: { by: 'x', at: 'y', comment: null },
    });
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

describe('Module: shared/approvals (the seam of task, decision function, console and CLI)', () => {
  let bucket: FakeBucket;
  const sns = mockClient(SNSClient);
  beforeEach(() => {
    bucket = fakeS3();
    sns.reset();
    sns.on(PublishCommand).resolves({ MessageId: 'm' });
    bucket.put(versionKey, versionRecord({ status: 'evaluated' }));
  });
  afterEach(() => bucket.mock.restore());

  it('reads back what RequestApproval recorded: pending until expiresAt, expired from that instant on', async () => {
    // Prepare
    const result = await handler(requestEvent());
    const deps = (at: number) => ({ s3: new S3Client({ region: 'us-east-1' }), bucket: BUCKET, now: () => new Date(at) });
    const expires = Date.parse(result.expiresAt);

    // Act
    const before = await readApproval(deps(expires - 1), result.approvalId);
    const at = await readApproval(deps(expires), result.approvalId);
    const listed = await listApprovals(deps(expires), { status: 'expired' });

    // Assess
    expect(before?.status).toBe('pending');
    expect(at?.status).toBe('expired');
    expect(listed.map((a) => a.id)).toEqual([result.approvalId]);
    expect(await readApproval(deps(expires), 'delivery-time/none')).toBeUndefined();
  });

  it('computes expiry in one place from the request time and the workflow timeout', () => {
    expect(expiryOf(new Date('2026-11-27T00:00:00Z'), 3600)).toBe('2026-11-27T01:00:00.000Z');
  });
});
