import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CopyObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  SendTaskSuccessCommand,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decide } from '../../lib/console/approvals';
import { ConsoleData } from '../../lib/console/data';
import { resolveTarget } from '../../lib/console/target';
import { lambdaArn, taskFunctionName } from '../../lib/local/constants';
import { startTestCloud, type TestCloud } from '../local/helpers';
import { versionRecord } from '../unit/lambdas/fixtures';

/**
 * Approval decisions through the real local cloud: the release's own RequestApproval state
 * (taken from statemachines/release.asl.json) with the real RequestApproval handler, decided
 * the way the console and `mlship approve|reject` decide (lib/console/approvals.ts `decide`)
 * over the edge, by the real decision handler. Issue 14, observations 3 and 4.
 */

const MODEL = 'delivery-time';
const VERSION = 'abcdef1-0a0b';
const APPROVAL_MACHINE = 'approval-only';

/** The release's RequestApproval state, with its exits turned into end states we can read. */
function approvalMachine(): string {
  const release = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'statemachines', 'release.asl.json'), 'utf8')) as {
    States: Record<string, { Parameters: { FunctionName: string }; Catch: Array<{ ErrorEquals: string[]; Next: string }>; Next?: string }>;
  };
  const state = structuredClone(release.States.RequestApproval!);
  state.Parameters.FunctionName = lambdaArn(taskFunctionName('RequestApproval'));
  state.Next = 'Approved';
  state.Catch = state.Catch.map((c) => ({
    ...c,
    Next: c.ErrorEquals.includes('ApprovalRejectedError') ? 'Rejected' : c.ErrorEquals.includes('States.Timeout') ? 'TimedOut' : 'Failed',
  }));
  return JSON.stringify({
    StartAt: 'RequestApproval',
    States: {
      RequestApproval: state,
      Approved: { Type: 'Succeed' },
      Rejected: { Type: 'Fail', Error: 'ApprovalRejected', CausePath: '$.error.Cause' },
      TimedOut: { Type: 'Fail', Error: 'ApprovalTimedOut' },
      Failed: { Type: 'Fail', Error: 'ReleaseFailed', CausePath: '$.error.Cause' },
    },
  });
}

describe('Workflow: approval decisions through the local cloud', () => {
  let t: TestCloud;
  let machineArn: string;
  let data: ConsoleData;
  let n = 0;

  beforeAll(async () => {
    process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
    t = await startTestCloud();
    machineArn = (
      await t.sfn.send(
        new CreateStateMachineCommand({
          name: APPROVAL_MACHINE,
          definition: approvalMachine(),
          roleArn: 'arn:aws:iam::000000000000:role/x',
        }),
      )
    ).stateMachineArn!;
    await t.s3.send(
      new PutObjectCommand({
        Bucket: t.cloud.bucket,
        Key: `registry/${MODEL}/versions/${VERSION}.json`,
        Body: JSON.stringify(versionRecord()),
      }),
    );
    data = new ConsoleData(resolveTarget({ endpoint: t.cloud.endpoint }));
  });
  afterAll(async () => {
    await t?.close();
  });

  const getJson = async <T = Record<string, any>>(key: string): Promise<T | undefined> => {
    try {
      return JSON.parse(await (await t.s3.send(new GetObjectCommand({ Bucket: t.cloud.bucket, Key: key }))).Body!.transformToString()) as T;
    } catch (err) {
      if ((err as Error).name === 'NoSuchKey') return undefined;
      throw err;
    }
  };
  const until = async <T>(probe: () => Promise<T | undefined>): Promise<T> => {
    for (;;) {
      const v = await probe();
      if (v !== undefined) return v;
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  /** Start one approval and wait until its request is stored. */
  async function pendingApproval(): Promise<{ id: string; executionArn: string }> {
    const name = `trial-${++n}-${Date.now().toString(36)}`;
    const input = {
      model: MODEL,
      PrepareReleaseResult: { version: VERSION, approvalTimeoutSeconds: 3600 },
      EvaluateModelResult: { validationOk: true, metrics: { mae: 4.5 } },
      LoadTestResult: { ok: true },
    };
    const { executionArn } = await t.sfn.send(
      new StartExecutionCommand({ stateMachineArn: machineArn, name, input: JSON.stringify(input) }),
    );
    const id = `${MODEL}/${name}`;
    await until(async () => ((await getJson(`approvals/${id}.json`))?.status === 'pending' ? true : undefined));
    return { id, executionArn: executionArn! };
  }

  /** What the execution received: the output of RequestApproval, or the rejection's cause. */
  async function received(executionArn: string): Promise<{ status: string; by?: string; rejectedBy?: string; answers: number }> {
    const exec = await until(async () => {
      const d = await t.sfn.send(new DescribeExecutionCommand({ executionArn }));
      return d.status === 'RUNNING' ? undefined : d;
    });
    const events = (await t.sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }))).events ?? [];
    const answers = events.filter((e) => e.type === 'TaskSucceeded' || e.type === 'TaskFailed').length;
    const output = exec.output ? (JSON.parse(exec.output) as { RequestApprovalResult?: { by?: string } }) : undefined;
    return {
      status: exec.status!,
      by: output?.RequestApprovalResult?.by,
      rejectedBy: /Rejected by ([^:]+)/.exec(exec.cause ?? '')?.[1],
      answers,
    };
  }

  /** The record once its delivery is written (the winner writes it right after SendTask*). */
  const settled = (id: string) =>
    until(async () => {
      const r = await getJson(`approvals/${id}.json`);
      return r?.decision?.delivered ? r : undefined;
    });

  it('answers 4 concurrent approvals by one approver with the recorded decision, delivered once: 20 trials', async () => {
    for (let trial = 0; trial < 20; trial++) {
      // Prepare
      const { id, executionArn } = await pendingApproval();

      // Act
      const outcomes = await Promise.all(
        Array.from({ length: 4 }, (_, i) => decide(data.deps, { id, decision: 'approve', by: 'alice', comment: `click ${i}` })),
      );

      // Assess: every click succeeds, the execution got alice's approval exactly once, and the record says so
      expect(
        outcomes.map((o) => o.ok),
        `trial ${trial}: ${JSON.stringify(outcomes)}`,
      ).toEqual([true, true, true, true]);
      const got = await received(executionArn);
      expect(got, `trial ${trial}`).toMatchObject({ status: 'SUCCEEDED', by: 'alice', answers: 1 });
      expect(await settled(id), `trial ${trial}`).toMatchObject({ status: 'approved', decision: { by: 'alice', delivered: true } });
    }
  });

  it('lets one of 4 concurrent decisions by different approvers win, refuses the others with 409, and the record matches what the execution received: 20 trials', async () => {
    const decisions = [
      { by: 'alice', decision: 'approve' as const },
      { by: 'bob', decision: 'approve' as const },
      { by: 'carol', decision: 'reject' as const, comment: 'latency' },
      { by: 'dave', decision: 'reject' as const, comment: 'metrics' },
    ];
    for (let trial = 0; trial < 20; trial++) {
      // Prepare
      const { id, executionArn } = await pendingApproval();

      // Act
      const outcomes = await Promise.all(decisions.map((d) => decide(data.deps, { id, ...d })));

      // Assess
      const winners = outcomes.flatMap((o, i) => (o.ok ? [decisions[i]!] : []));
      expect(winners, `trial ${trial}: ${JSON.stringify(outcomes)}`).toHaveLength(1);
      expect(outcomes.filter((o) => !o.ok).map((o) => !o.ok && o.kind)).toEqual(['refused', 'refused', 'refused']);
      const winner = winners[0]!;
      const got = await received(executionArn);
      const record = await settled(id);
      expect(record, `trial ${trial}`).toMatchObject({
        status: winner.decision === 'approve' ? 'approved' : 'rejected',
        decision: { by: winner.by, delivered: true },
      });
      if (winner.decision === 'approve') expect(got, `trial ${trial}`).toMatchObject({ status: 'SUCCEEDED', by: winner.by, answers: 1 });
      else expect(got, `trial ${trial}`).toMatchObject({ status: 'FAILED', rejectedBy: winner.by, answers: 1 });
    }
  });

  it('keeps the task token out of reach: reading approvals/ yields none, approval-tokens/ is refused, and SendTaskSuccess from outside is refused', async () => {
    // Prepare
    const { id, executionArn } = await pendingApproval();
    const bucket = t.cloud.bucket;
    const denied = (err: unknown) => ({
      name: (err as Error).name,
      status: (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode,
    });

    // Act: what anyone reaching the edge can try. First, every approval record.
    const listed = (await t.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'approvals/' }))).Contents ?? [];
    const texts = await Promise.all(
      listed.map(async (o) => (await t.s3.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key! }))).Body!.transformToString()),
    );
    const fromRecords = texts.flatMap((text) =>
      [...text.matchAll(/"taskToken"\s*:\s*"([^"]+)"|(mlsTT1[A-Za-z0-9_-]{40,})/g)].map((m) => m[1] ?? m[2]!),
    );
    const tokenRead = await t.s3
      .send(new GetObjectCommand({ Bucket: bucket, Key: `approval-tokens/${id}.json` }))
      .then(() => 'read', denied);
    const tokenCopy = await t.s3
      .send(
        new CopyObjectCommand({ Bucket: bucket, Key: `approvals/${MODEL}/leak.json`, CopySource: `${bucket}/approval-tokens/${id}.json` }),
      )
      .then(() => 'copied', denied);
    // Forging the record instead (it would then be "decided" without the function) or an audit entry.
    const forged = await t.s3
      .send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: `approvals/${id}.json`,
          Body: JSON.stringify({ id, status: 'approved', decision: { by: 'mallory' } }),
        }),
      )
      .then(() => 'written', denied);
    const fakeAudit = await t.s3
      .send(new PutObjectCommand({ Bucket: bucket, Key: `audit/approvals/${id}/x.json`, Body: '{}' }))
      .then(() => 'written', denied);
    // Then the bypass itself, with every token found, and with the real one (as if it leaked anyway).
    const real = t.cloud.stepFunctions.tokens.pending(executionArn).map((p) => p.token);
    const sends = await Promise.all(
      [...fromRecords, ...real].map((taskToken) =>
        t.sfn
          .send(
            new SendTaskSuccessCommand({
              taskToken,
              output: JSON.stringify({ approved: true, by: 'mallory', at: new Date().toISOString(), comment: null }),
            }),
          )
          .then(() => 'accepted', denied),
      ),
    );

    // Assess
    expect(fromRecords).toEqual([]);
    expect(tokenRead).toEqual({ name: 'AccessDenied', status: 403 });
    expect(tokenCopy).toMatchObject({ status: 403 });
    expect([forged, fakeAudit]).toEqual([
      { name: 'AccessDenied', status: 403 },
      { name: 'AccessDenied', status: 403 },
    ]);
    expect(real).toHaveLength(1);
    expect(sends).toEqual([{ name: 'AccessDeniedException', status: 400 }]);
    expect((await t.sfn.send(new DescribeExecutionCommand({ executionArn }))).status).toBe('RUNNING');
    expect(await getJson(`approvals/${id}.json`)).toMatchObject({ status: 'pending' });
    expect(JSON.stringify(await getJson(`approvals/${id}.json`))).not.toContain(real[0]);

    // The gate still works for an approver, and the execution gets that decision.
    const outcome = await decide(data.deps, { id, decision: 'reject', by: 'erin', comment: 'checked the bypass' });
    expect(outcome.ok).toBe(true);
    expect(await received(executionArn)).toMatchObject({ status: 'FAILED', rejectedBy: 'erin', answers: 1 });
  });

  it("refuses the commit author's own approval (separation of duties) and audits every decision, repeat and refusal", async () => {
    // Prepare: a version whose commit Ann authored
    await t.s3.send(
      new PutObjectCommand({
        Bucket: t.cloud.bucket,
        Key: `registry/${MODEL}/versions/${VERSION}.json`,
        Body: JSON.stringify(versionRecord({ author: { name: 'Ann Author', email: 'ann@example.com' } })),
      }),
    );
    const { id, executionArn } = await pendingApproval();

    // Act
    const own = await decide(data.deps, { id, decision: 'approve', by: 'ann' });
    const other = await decide(data.deps, { id, decision: 'approve', by: 'bob', comment: 'reviewed' });
    const again = await decide(data.deps, { id, decision: 'approve', by: 'bob' });
    const late = await decide(data.deps, { id, decision: 'reject', by: 'carol', comment: 'too late' });

    // Assess
    expect(own).toMatchObject({ ok: false, kind: 'refused', message: expect.stringContaining('author') });
    expect(other.ok && again.ok).toBe(true);
    expect(late).toMatchObject({ ok: false, kind: 'refused' });
    expect(await received(executionArn)).toMatchObject({ status: 'SUCCEEDED', by: 'bob', answers: 1 });
    await settled(id);
    const keys = (
      (await t.s3.send(new ListObjectsV2Command({ Bucket: t.cloud.bucket, Prefix: `audit/approvals/${id}/` }))).Contents ?? []
    ).map((o) => o.Key!);
    const entries = await Promise.all(keys.map((k) => getJson<{ event: string; by: string }>(k)));
    expect(entries.map((e) => `${e!.event}:${e!.by}`).sort()).toEqual([
      'decided:bob',
      'delivered:bob',
      'refused:ann',
      'refused:carol',
      'repeated:bob',
    ]);
    // Restore the version record the other tests use.
    await t.s3.send(
      new PutObjectCommand({
        Bucket: t.cloud.bucket,
        Key: `registry/${MODEL}/versions/${VERSION}.json`,
        Body: JSON.stringify(versionRecord()),
      }),
    );
  });
});
