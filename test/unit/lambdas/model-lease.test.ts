import './task-env';
import { S3Client } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeHandler } from '../../../lambdas/model-lease/handler';
import { makeHandler as makeRecordOutcome } from '../../../lambdas/record-outcome/handler';
import { fakeS3, sdkError, type FakeBucket } from './fake-s3';
import { approvalRecord, BUCKET, versionRecord } from './fixtures';

/**
 * ModelLease against an in-memory bucket that enforces If-Match / If-None-Match as S3 does,
 * with Step Functions answering from a table of execution statuses and start times.
 */

const MODEL = 'delivery-time';
const LEASE = `registry/${MODEL}/lease.json`;
const arn = (name: string) => `arn:aws:states:us-east-1:000000000000:execution:mlship-release:${name}`;

interface Exec {
  status: string;
  startDate: Date;
}

describe('Handler: ModelLease', () => {
  let bucket: FakeBucket;
  const sfn = mockClient(SFNClient);
  const sns = mockClient(SNSClient);
  let executions: Map<string, Exec>;
  let now: Date;
  let throttleStops = 0;
  const deps = () => ({
    s3: new S3Client({ region: 'us-east-1' }),
    sfn: new SFNClient({ region: 'us-east-1' }),
    sns: new SNSClient({ region: 'us-east-1' }),
    bucket: BUCKET,
    topicArn: 'arn:aws:sns:us-east-1:000000000000:t',
    now: () => now,
  });
  const handler = makeHandler(deps());
  const recordOutcome = makeRecordOutcome(deps());

  /** An execution that has run PrepareRelease: its version record exists. */
  function release(name: string, startedSecondsAgo: number, trigger: 'push' | 'drift' = 'push') {
    const version = `${name.padEnd(7, '0').slice(0, 7)}-0a0b`;
    executions.set(arn(name), { status: 'RUNNING', startDate: new Date(now.getTime() - startedSecondsAgo * 1000) });
    bucket.put(
      `registry/${MODEL}/versions/${version}.json`,
      versionRecord({ version, status: 'building', trigger, execution: { arn: arn(name), name } }),
    );
    const event = (action: 'acquire' | 'enter-production') => ({
      action,
      model: MODEL,
      version,
      commitId: 'abcdef1',
      trigger,
      executionId: arn(name),
      executionName: name,
    });
    return { name, version, acquire: () => handler(event('acquire')), claim: () => handler(event('enter-production')) };
  }

  beforeEach(() => {
    now = new Date('2026-11-27T12:00:00Z');
    bucket = fakeS3();
    executions = new Map();
    sfn.reset();
    sns.reset();
    sns.on(PublishCommand).resolves({});
    sfn.on(DescribeExecutionCommand).callsFake((input: { executionArn: string }) => {
      const e = executions.get(input.executionArn);
      if (!e) throw sdkError('ExecutionDoesNotExist', 400);
      return { executionArn: input.executionArn, ...e };
    });
    throttleStops = 0;
    sfn.on(StopExecutionCommand).callsFake((input: { executionArn: string }) => {
      if (throttleStops-- > 0) throw sdkError('ThrottlingException', 400);
      const e = executions.get(input.executionArn);
      if (e?.status === 'RUNNING') e.status = 'ABORTED';
      return { stopDate: now };
    });
  });
  afterEach(() => bucket.mock.restore());

  describe('Method: acquire', () => {
    it('takes a free lease with a create-only write', async () => {
      const a = release('aaaaaaa', 10);
      await expect(a.acquire()).resolves.toMatchObject({ status: 'acquired' });
      expect(bucket.json(LEASE)).toMatchObject({ holder: { executionName: a.name, phase: 'candidate', version: a.version } });
    });

    it('lets exactly one of two releases deciding at the same moment hold the model: the newer', async () => {
      for (let trial = 0; trial < 20; trial++) {
        // Prepare
        bucket.objects.clear();
        const older = release(`o${trial}aaaaa`, 2);
        const newer = release(`n${trial}bbbbb`, 1);

        // Act: both read "free" before either writes
        const [ro, rn] = await Promise.all(trial % 2 ? [older.acquire(), newer.acquire()] : [newer.acquire(), older.acquire()].reverse());

        // Assess
        expect(rn.status).toBe('acquired');
        expect(ro.status === 'superseded' || executions.get(arn(older.name))!.status === 'ABORTED').toBe(true);
        expect(bucket.json<any>(LEASE).holder.executionName).toBe(newer.name);
      }
    });

    it('supersedes an older release that has not been approved: stops it and records its outcome, expiring its approval', async () => {
      // Prepare: A holds the lease and waits for its approval
      const a = release('aaaaaaa', 60);
      await a.acquire();
      bucket.put(
        `approvals/${MODEL}/${a.name}.json`,
        approvalRecord({ id: `${MODEL}/${a.name}`, executionArn: arn(a.name), version: a.version, status: 'pending' }),
      );
      const b = release('bbbbbbb', 1);

      // Act
      const result = await b.acquire();

      // Assess
      expect(result).toMatchObject({ status: 'acquired', holder: a.name, detail: expect.stringContaining(`superseded ${a.name}`) });
      expect(sfn.commandCalls(StopExecutionCommand)[0]!.args[0].input).toMatchObject({
        executionArn: arn(a.name),
        error: 'ReleaseSuperseded',
        cause: expect.stringContaining(b.name),
      });
      expect(bucket.json<any>(`registry/${MODEL}/versions/${a.version}.json`)).toMatchObject({
        status: 'superseded',
        outcome: { state: 'superseded', error: { Error: 'ReleaseSuperseded' } },
      });
      expect(bucket.json<any>(`approvals/${MODEL}/${a.name}.json`).status).toBe('expired');
      expect(bucket.json(LEASE)).toMatchObject({
        holder: { executionName: b.name },
        last: { executionArn: arn(a.name), how: 'superseded' },
      });
      expect(
        sns
          .commandCalls(PublishCommand)
          .map((c) => c.args[0].input.Message)
          .join('\n'),
      ).toContain(`superseded by ${b.name}`);
    });

    it('finishes stopping the superseded release on a retry of its own attempt', async () => {
      // Prepare: the first attempt wrote the lease and died before StopExecution
      const a = release('aaaaaaa', 60);
      await a.acquire();
      const b = release('bbbbbbb', 1);
      throttleStops = 1;
      await expect(b.acquire()).rejects.toMatchObject({ name: 'TransientError' });

      // Act
      await expect(b.acquire()).resolves.toMatchObject({ status: 'acquired' });

      // Assess
      expect(executions.get(arn(a.name))!.status).toBe('ABORTED');
      expect(bucket.json<any>(`registry/${MODEL}/versions/${a.version}.json`).outcome.state).toBe('superseded');
    });

    it('ends a release superseded when the holder is newer', async () => {
      const newer = release('nnnnnnn', 1);
      await newer.acquire();
      const older = release('ooooooo', 5);
      await expect(older.acquire()).resolves.toMatchObject({
        status: 'superseded',
        holder: newer.name,
        detail: `superseded by ${newer.name} (${newer.version}), a newer release of ${MODEL}`,
      });
      expect(sfn.commandCalls(StopExecutionCommand)).toHaveLength(0);
    });

    it('waits, once notified, behind a release deploying to production, then takes the lease when it ends', async () => {
      // Prepare
      const a = release('aaaaaaa', 600);
      await a.acquire();
      await a.claim();
      const b = release('bbbbbbb', 1);

      // Act
      const first = await b.acquire();
      const second = await b.acquire();

      // Assess
      expect(first).toMatchObject({
        status: 'waiting',
        holder: a.name,
        detail: expect.stringMatching(new RegExp(`^waiting for ${a.name}, which is deploying`)),
      });
      expect(second.status).toBe('waiting');
      expect(sns.commandCalls(PublishCommand)).toHaveLength(1);
      expect(bucket.json<any>(`registry/${MODEL}/versions/${b.version}.json`).waitingFor).toMatchObject({ executionName: a.name });
      expect(sfn.commandCalls(StopExecutionCommand)).toHaveLength(0);

      // Act: A ends and releases through RecordOutcome
      executions.get(arn(a.name))!.status = 'SUCCEEDED';
      await recordOutcome({
        workflow: 'release',
        outcome: 'succeeded',
        state: { model: MODEL, PrepareReleaseResult: { version: a.version } },
        executionId: arn(a.name),
        executionName: a.name,
      });
      const third = await b.acquire();

      // Assess
      expect(third.status).toBe('acquired');
      expect(bucket.json<any>(`registry/${MODEL}/versions/${b.version}.json`).waitingFor).toBeNull();
    });

    it('fails with LeaseWaitTimeoutError after waiting longer than the bound', async () => {
      const a = release('aaaaaaa', 90_000);
      await a.acquire();
      await a.claim();
      const b = release('bbbbbbb', 86_401);
      await expect(b.acquire()).rejects.toMatchObject({ name: 'LeaseWaitTimeoutError' });
    });

    it.each(['FAILED', 'ABORTED', 'TIMED_OUT', 'SUCCEEDED', 'deleted'])(
      'takes over the lease of a holder that ended %s without releasing it',
      async (status) => {
        // Prepare
        const a = release('aaaaaaa', 600);
        await a.acquire();
        await a.claim();
        if (status === 'deleted') executions.delete(arn(a.name));
        else executions.get(arn(a.name))!.status = status;
        const b = release('bbbbbbb', 1);

        // Act + Assess
        await expect(b.acquire()).resolves.toMatchObject({ status: 'acquired', detail: expect.stringContaining('took over the lease') });
        expect(bucket.json(LEASE)).toMatchObject({
          holder: { executionName: b.name },
          last: { executionArn: arn(a.name), how: 'taken-over' },
        });
        expect(sfn.commandCalls(StopExecutionCommand)).toHaveLength(0);
      },
    );

    it('skips a retraining release while any release of the model runs, without stopping it', async () => {
      const a = release('aaaaaaa', 60);
      await a.acquire();
      const d = release('ddddddd', 1, 'drift');
      await expect(d.acquire()).resolves.toMatchObject({
        status: 'superseded',
        detail: expect.stringMatching(/^skipped: aaaaaaa \(a push release of delivery-time\) is running/),
      });
      expect(sfn.commandCalls(StopExecutionCommand)).toHaveLength(0);
      expect(bucket.json<any>(LEASE).holder.executionName).toBe(a.name);
    });

    it('lets a push supersede a retraining release that has not been approved', async () => {
      const d = release('ddddddd', 60, 'drift');
      await d.acquire();
      const p = release('ppppppp', 1);
      await expect(p.acquire()).resolves.toMatchObject({ status: 'acquired', holder: d.name });
      expect(executions.get(arn(d.name))!.status).toBe('ABORTED');
    });
  });

  describe('Method: enter-production', () => {
    it('moves the lease to production, so a newer push waits instead of superseding', async () => {
      const a = release('aaaaaaa', 60);
      await a.acquire();
      await expect(a.claim()).resolves.toMatchObject({ status: 'held' });
      expect(bucket.json<any>(LEASE).holder.phase).toBe('production');
      await expect(release('bbbbbbb', 1).acquire()).resolves.toMatchObject({ status: 'waiting' });
    });

    it('reports superseded when a newer release took the lease before the approval landed', async () => {
      const a = release('aaaaaaa', 60);
      await a.acquire();
      const b = release('bbbbbbb', 1);
      await b.acquire();
      await expect(a.claim()).resolves.toMatchObject({
        status: 'superseded',
        holder: b.name,
        detail: `superseded by ${b.name} (${b.version}) before deploying to production`,
      });
    });

    it('lets the claim and a superseding push race with exactly one winner (20 trials)', async () => {
      for (let trial = 0; trial < 20; trial++) {
        bucket.objects.clear();
        const a = release(`a${trial}aaaaa`, 60);
        await a.acquire();
        const b = release(`b${trial}bbbbb`, 1);
        const [claimed, acquired] = await Promise.all([a.claim(), b.acquire()]);
        // Either A deploys and B waits, or B supersedes A and A does not deploy.
        if (claimed.status === 'held') expect(acquired.status).toBe('waiting');
        else expect([claimed.status, acquired.status]).toEqual(['superseded', 'acquired']);
      }
    });
  });

  describe('Function: releaseLease (RecordOutcome)', () => {
    it('frees the lease only for its holder', async () => {
      const a = release('aaaaaaa', 60);
      await a.acquire();
      const b = release('bbbbbbb', 1);
      await b.acquire();
      // A's own terminal path runs after it was superseded: the lease stays B's
      await recordOutcome({
        workflow: 'release',
        outcome: 'superseded',
        state: { model: MODEL, PrepareReleaseResult: { version: a.version } },
        executionId: arn(a.name),
        executionName: a.name,
      });
      expect(bucket.json<any>(LEASE).holder.executionName).toBe(b.name);
      await recordOutcome({
        workflow: 'release',
        outcome: 'failed',
        state: { model: MODEL, PrepareReleaseResult: { version: b.version } },
        executionId: arn(b.name),
        executionName: b.name,
      });
      expect(bucket.json(LEASE)).toMatchObject({ holder: null, last: { executionArn: arn(b.name), how: 'released' } });
    });
  });
});
