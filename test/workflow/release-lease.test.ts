import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { SendTaskSuccessCommand, SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listExecutionRows } from '../../lib/cli/commands/status';
import { ConsoleData } from '../../lib/console/data';
import { buildFeed } from '../../lib/console/feed';
import { resolveTarget } from '../../lib/console/target';
import type { LambdaHandler } from '../../lib/local/services/lambda';
import { MODEL, WorkflowHarness } from './harness';

/**
 * One release per model at a time (issue 14.1), through the real local cloud: the real
 * release ASL and the real PrepareRelease, ModelLease and RecordOutcome handlers (which hold
 * the rule) on the real local S3 and Step Functions. The tasks that build, deploy, evaluate
 * and ask for approval are fakes that log every time a release touches an endpoint, so a
 * trial takes a second and the log shows whether two releases ever shared one.
 */

const run = promisify(execFile);
type Event = { executionName: string; stage?: 'staging' | 'production'; endpointName?: string; version: string; taskToken?: string };
interface Touch {
  exec: string;
  stage: 'staging' | 'production';
  task: string;
}

const touches: Touch[] = [];
const tokens = new Map<string, string>();
/** Releases whose production deployment stays Updating until the test lets go. */
const productionHeld = new Set<string>();
/** Releases whose build fails and whose RecordOutcome fails: they end without releasing the lease. */
const crashing = new Set<string>();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const touch = (e: Event, stage: 'staging' | 'production', task: string) => touches.push({ exec: e.executionName, stage, task });
let realRecordOutcome: LambdaHandler | undefined;

const functions: Record<string, LambdaHandler> = {
  'mlship-StartBuild': async (e) => ({ buildId: `build:${(e as Event).executionName}` }),
  'mlship-CheckBuild': async (e) => {
    await sleep(20);
    return {
      status: crashing.has((e as Event).executionName) ? 'FAILED' : 'SUCCEEDED',
      failedPhase: null,
      logLink: null,
      imageUri: 'local/tiny:x',
    };
  },
  'mlship-DeployEndpoint': async (raw) => {
    const e = raw as Event;
    touch(e, e.stage!, 'DeployEndpoint');
    await sleep(20);
    return { endpointName: e.endpointName, endpointConfigName: `${e.endpointName}-${e.version}`, action: 'updated' };
  },
  'mlship-CheckEndpoint': async (raw) => {
    const e = raw as Event;
    touch(e, e.stage!, 'CheckEndpoint');
    return { status: e.stage === 'production' && productionHeld.has(e.executionName) ? 'Updating' : 'InService', failureReason: null };
  },
  'mlship-EvaluateModel': async (raw) => {
    touch(raw as Event, 'staging', 'EvaluateModel');
    await sleep(80);
    return { validationOk: true, metrics: { mae: 1 }, failures: [], reportUri: 's3://mlship-artifacts/reports/x' };
  },
  'mlship-LoadTest': async (raw) => {
    touch(raw as Event, 'staging', 'LoadTest');
    await sleep(80);
    return {
      ok: true,
      p50Ms: 1,
      p95Ms: 2,
      p99Ms: 3,
      errorRate: 0,
      achievedRps: 10,
      failures: [],
      reportUri: 's3://mlship-artifacts/reports/y',
    };
  },
  'mlship-RequestApproval': async (raw) => {
    const e = raw as Event;
    tokens.set(e.executionName, e.taskToken!);
    return { approvalId: `${MODEL}/${e.executionName}`, expiresAt: new Date(Date.now() + 600_000).toISOString() };
  },
  'mlship-PromoteVersion': async (raw) => {
    const e = raw as Event;
    touch(e, 'production', 'PromoteVersion');
    return { production: e.version, previous: null };
  },
  'mlship-RecordOutcome': async (raw, context) => {
    if (crashing.has((raw as Event).executionName)) throw Object.assign(new Error('broken by the test'), { name: 'AccessDeniedException' });
    // The real handler, the module the local Lambda would load (the cloud set its environment).
    realRecordOutcome ??= ((await import('../../lambdas/record-outcome/handler')) as unknown as { handler: LambdaHandler }).handler;
    return realRecordOutcome(raw, context);
  },
};

let h: WorkflowHarness;
beforeAll(async () => {
  h = await WorkflowHarness.start({ functions });
  // One release first, so the handler modules are loaded: two releases waiting on the same
  // cold import would otherwise reach the lease in the same millisecond, which only S3's
  // conditional writes settle (see the last test).
  const warm = await start(await source(), 'push');
  await approve(warm);
  expect((await h.wait(warm.executionArn)).status, await h.explain(warm.executionArn)).toBe('SUCCEEDED');
});
afterAll(async () => {
  await h?.close();
});

interface Source {
  commitId: string;
  sourceUri: string;
}
interface Started {
  executionArn: string;
  name: string;
  version?: string;
}

/** A new commit of the model, archived to S3 as the push trigger does. */
async function source(): Promise<Source> {
  const commitId = await h.commit({ quality: 'good' });
  const { stdout } = await run('git', ['-C', h.repo, 'archive', '--format=zip', commitId], {
    encoding: 'buffer',
    maxBuffer: 64 * 1024 * 1024,
  });
  return { commitId, sourceUri: await h.cloud.uploadSource(MODEL, commitId, stdout) };
}

function start(src: Source, trigger: 'push' | 'drift'): Promise<Started> {
  return h.cloud.startWorkflow('release', `${MODEL}-${src.commitId.slice(0, 8)}`, {
    model: MODEL,
    commitId: src.commitId,
    sourceUri: src.sourceUri,
    trigger,
    pollSeconds: 1,
  });
}

const statusOf = (arn: string) => h.cloud.stepFunctions.records().find((r) => r.executionArn === arn)?.status;

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** Wait until the release asks for approval; fails at once if it ends instead. */
async function approvalOf(s: Started): Promise<string> {
  return until(`${s.name} to ask for approval`, async () => {
    const token = tokens.get(s.name);
    if (token) return token;
    if (statusOf(s.executionArn) !== 'RUNNING')
      throw new Error(`${s.name} ended before asking for approval:\n${await h.explain(s.executionArn)}`);
    return undefined;
  });
}

async function approve(s: Started): Promise<void> {
  const token = await approvalOf(s);
  // The fake RequestApproval above stands in for the decision function too: answering a task
  // token takes the in-process tasks' credential, which the local cloud sets for them.
  const tasks = new SFNClient({
    endpoint: h.cloud.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID!, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY! },
  });
  await tasks
    .send(
      new SendTaskSuccessCommand({
        taskToken: token,
        output: JSON.stringify({ approved: true, by: 'lease-test', at: new Date().toISOString(), comment: null }),
      }),
    )
    .finally(() => tasks.destroy());
}

async function versionOf(s: Started): Promise<any> {
  const keys = await h.keys(`registry/${MODEL}/versions/`);
  for (const key of keys) {
    const v = await h.getJson(key);
    if (v?.execution?.arn === s.executionArn) return v;
  }
  return undefined;
}

/** Each release's touches of a stage form one unbroken run: no release touched it between two of another's. */
function expectOneAtATime(log: Touch[]): void {
  for (const stage of ['staging', 'production'] as const) {
    const runs: string[] = [];
    for (const t of log.filter((x) => x.stage === stage)) if (runs.at(-1) !== t.exec) runs.push(t.exec);
    expect(new Set(runs).size, `${stage} touched by turns: ${runs.join(' > ')}`).toBe(runs.length);
  }
}

const consoleData = () => new ConsoleData(resolveTarget({ endpoint: h.cloud.endpoint }));

const notifications = () =>
  readFileSync(join(h.cloud.dataDir, 'notifications.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { message: string; subject?: string });

async function expectLeaseFreeAfter(s: Started): Promise<void> {
  const lease = await h.getJson(`registry/${MODEL}/lease.json`);
  expect(lease).toMatchObject({ holder: null, last: { executionArn: s.executionArn, how: 'released' } });
}

describe('Workflow: one release per model at a time', () => {
  it('two quick pushes (20 trials): the newer supersedes the older, which stops touching the endpoints, and only the newer deploys', async () => {
    for (let trial = 0; trial < 20; trial++) {
      // Prepare: two commits, archived
      const [s1, s2] = [await source(), await source()];
      const from = touches.length;

      // Act: the second push lands while the first is building, on staging, evaluating,
      // load-testing or awaiting approval (0-850 ms after it took the lease). Not before: two
      // releases reaching the lease in the same instant are the last test's case, which needs
      // the local S3 to honour conditional writes as S3 does.
      const a = await start(s1, 'push');
      // It is past the lease once it builds. (A read during the lease's overwrite can be torn
      // on the local S3: read again.)
      await until(
        `${a.name} to take the lease`,
        async () =>
          (await h.getJson(`registry/${MODEL}/lease.json`).catch(() => undefined))?.holder?.executionArn === a.executionArn ||
          (await h.path(a.executionArn)).includes('BuildImage'),
      );
      await sleep((trial * 97) % 850);
      const b = await start(s2, 'push');
      await approve(b);
      const ra = await until(
        `${a.name} to end`,
        () => (statusOf(a.executionArn) !== 'RUNNING' ? h.wait(a.executionArn) : undefined),
        5_000,
      ).catch(async (err: Error) => {
        throw new Error(
          `${err.message}\n${await h.explain(a.executionArn)}\n${await h.explain(b.executionArn)}\nlease: ${JSON.stringify(await h.getJson(`registry/${MODEL}/lease.json`))}`,
        );
      });
      const rb = await h.wait(b.executionArn);

      // Assess
      const why = `trial ${trial}:\n${await h.explain(a.executionArn)}\n${await h.explain(b.executionArn)}`;
      expect(ra.error, why).toBe('ReleaseSuperseded');
      expect(rb.status, why).toBe('SUCCEEDED');
      const log = touches.slice(from);
      expectOneAtATime(log);
      expect(
        log.filter((t) => t.stage === 'production').every((t) => t.exec === b.name),
        why,
      ).toBe(true);
      const va = await versionOf(a);
      expect(va, why).toMatchObject({ status: 'superseded', outcome: { state: 'superseded' } });
      expect(JSON.stringify(va.outcome), why).toContain(b.name);
      await expectLeaseFreeAfter(b);
    }
    const superseded = notifications().filter((n) => / superseded$/.test(n.subject ?? ''));
    expect(superseded.length).toBeGreaterThanOrEqual(20);
    expect(superseded[0]!.message).toMatch(/superseded by tiny-/);
  }, 240_000);

  it('shows a superseded release as such in `mlship status` and the console', async () => {
    const rows = await listExecutionRows(h.sfn, 100);
    const superseded = rows.filter((r) => r.state.startsWith('ReleaseSuperseded'));
    expect(superseded.length).toBeGreaterThanOrEqual(20);
    for (const r of superseded) expect(r.state).toMatch(/^ReleaseSuperseded: superseded by tiny-/);
    const data = consoleData();
    for (const r of superseded.slice(0, 3)) expect((await data.release(r.executionArn)).lease).toMatch(/^superseded by tiny-/);
    expect((await buildFeed(data)).filter((i) => / superseded( by tiny-|$)/.test(i.text)).length).toBeGreaterThanOrEqual(20);
  });

  it('queues a push behind a release that is deploying to production, visibly, and runs it after', async () => {
    // Prepare: A approved, its production deployment held in Updating
    const [s1, s2] = [await source(), await source()];
    const from = touches.length;
    const a = await start(s1, 'push');
    await approvalOf(a);
    productionHeld.add(a.name);
    await approve(a);
    await until('A to deploy production', () => touches.some((t) => t.exec === a.name && t.stage === 'production'));

    // Act
    const b = await start(s2, 'push');
    await until('B to wait for the lease', async () => (await h.path(b.executionArn)).filter((s) => s === 'WaitForLease').length >= 2);

    // Assess: B waits, says so, and touches nothing while A deploys
    expect(statusOf(a.executionArn)).toBe('RUNNING');
    expect(touches.slice(from).some((t) => t.exec === b.name)).toBe(false);
    const row = (await listExecutionRows(h.sfn, 100)).find((r) => r.executionArn === b.executionArn)!;
    expect(row.state).toMatch(new RegExp(`^(WaitForLease|AcquireLease): waiting for ${a.name}, which is deploying`));
    expect((await versionOf(b)).waitingFor).toMatchObject({ executionName: a.name });
    expect(notifications().filter((n) => n.message.includes(`waiting for ${a.name}`))).toHaveLength(1);
    expect((await consoleData().release(b.executionArn)).lease).toMatch(new RegExp(`^waiting for ${a.name}, which is deploying`));

    // Act: A finishes; B goes on
    productionHeld.delete(a.name);
    expect((await h.wait(a.executionArn)).status).toBe('SUCCEEDED');
    await approve(b);
    const rb = await h.wait(b.executionArn);

    // Assess
    expect(rb.status, await h.explain(b.executionArn)).toBe('SUCCEEDED');
    expectOneAtATime(touches.slice(from));
    const production = touches
      .slice(from)
      .filter((t) => t.stage === 'production')
      .map((t) => t.exec);
    expect(production.lastIndexOf(a.name)).toBeLessThan(production.indexOf(b.name));
    expect((await versionOf(b)).waitingFor).toBeNull();
    await expectLeaseFreeAfter(b);
  }, 60_000);

  it('skips a retraining release while a push release runs, and lets a push supersede a retraining release', async () => {
    // Prepare: a push release waiting for its approval
    const [sp, sd, sd2, sp2] = [await source(), await source(), await source(), await source()];
    const from = touches.length;
    const p = await start(sp, 'push');
    await approvalOf(p);

    // Act: drift starts a retraining release
    const d = await start(sd, 'drift');
    const rd = await h.wait(d.executionArn);

    // Assess: skipped, recorded, touching nothing; the push release goes on and holds the model
    expect(rd.error, await h.explain(d.executionArn)).toBe('ReleaseSuperseded');
    expect(await h.path(d.executionArn)).not.toContain('BuildImage');
    expect((await versionOf(d)).outcome).toMatchObject({ state: 'superseded' });
    expect(JSON.stringify((await versionOf(d)).outcome)).toMatch(/skipped: tiny-\S+ \(a push release of tiny\) is running/);
    expect(statusOf(p.executionArn)).toBe('RUNNING');
    expect((await h.getJson(`registry/${MODEL}/lease.json`)).holder).toMatchObject({ executionArn: p.executionArn });
    await approve(p);
    expect((await h.wait(p.executionArn)).status).toBe('SUCCEEDED');

    // Act: a retraining release runs (awaiting approval) when a push arrives
    const d2 = await start(sd2, 'drift');
    await approvalOf(d2);
    const p2 = await start(sp2, 'push');
    await approve(p2);

    // Assess
    const rd2 = await h.wait(d2.executionArn);
    expect(rd2.status).toBe('ABORTED');
    expect(rd2.error).toBe('ReleaseSuperseded');
    expect(rd2.cause).toContain(p2.name);
    expect((await h.wait(p2.executionArn)).status).toBe('SUCCEEDED');
    expect(touches.slice(from).some((t) => t.exec === d.name)).toBe(false);
    expectOneAtATime(touches.slice(from));
    await expectLeaseFreeAfter(p2);
  }, 60_000);

  it('does not let a holder that was stopped or failed without releasing the lease block the model', async () => {
    // Prepare: A holds the lease and is stopped from outside (no terminal path runs)
    const [s1, s2, s3, s4] = [await source(), await source(), await source(), await source()];
    const a = await start(s1, 'push');
    await approvalOf(a);
    await h.sfn.send(new StopExecutionCommand({ executionArn: a.executionArn }));
    expect((await h.getJson(`registry/${MODEL}/lease.json`)).holder).toMatchObject({ executionArn: a.executionArn });

    // Act
    const b = await start(s2, 'push');
    await approve(b);

    // Assess
    expect((await h.wait(b.executionArn)).status, await h.explain(b.executionArn)).toBe('SUCCEEDED');
    expect(await h.path(b.executionArn)).not.toContain('WaitForLease');
    expect((await h.getJson(`registry/${MODEL}/lease.json`)).last).toMatchObject({ executionArn: b.executionArn, how: 'released' });

    // Prepare: C fails and its RecordOutcome fails too, so it ends FAILED still holding the lease
    const c = await start(s3, 'push');
    crashing.add(c.name);
    const rc = await h.wait(c.executionArn);
    expect(rc.status).toBe('FAILED');
    expect((await h.getJson(`registry/${MODEL}/lease.json`)).holder).toMatchObject({ executionArn: c.executionArn });

    // Act
    const d = await start(s4, 'push');
    await approve(d);

    // Assess
    expect((await h.wait(d.executionArn)).status, await h.explain(d.executionArn)).toBe('SUCCEEDED');
    await expectLeaseFreeAfter(d);
  }, 60_000);
});

/** Whether the local S3 refuses a create-only write of an existing key, as S3 does. */
async function conditionalWritesEnforced(): Promise<boolean> {
  const key = 'probe/conditional-write';
  await h.s3.send(new PutObjectCommand({ Bucket: h.cloud.bucket, Key: key, Body: 'x' }));
  try {
    await h.s3.send(new PutObjectCommand({ Bucket: h.cloud.bucket, Key: key, Body: 'y', IfNoneMatch: '*' }));
    return false;
  } catch (err) {
    return (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 412;
  }
}

describe('Workflow: two pushes at the same instant', () => {
  it('lets exactly one release hold the model (needs the local S3 to enforce If-None-Match / If-Match)', async (ctx) => {
    // Without conditional writes two releases that read "free" in the same millisecond can both
    // write; S3 refuses the second. The local edge enforces them on another branch. It also needs
    // a GET to return one version's ETag and body together: s3rver renames an object's metadata
    // and its bytes into place one after the other, so a read during an overwrite can pair the
    // new ETag with the old body, and an If-Match on that ETag then overwrites the new lease.
    if (!(await conditionalWritesEnforced())) ctx.skip();
    for (let trial = 0; trial < 20; trial++) {
      const [s1, s2] = [await source(), await source()];
      const from = touches.length;
      const [a, b] = await Promise.all([start(s1, 'push'), start(s2, 'push')]);
      const loser = await until('one of them to be superseded', () => [a, b].find((x) => statusOf(x.executionArn) !== 'RUNNING')).catch(
        async (err: Error) => {
          throw new Error(
            `trial ${trial}: ${err.message}; both hold the model?\n${await h.explain(a.executionArn)}\n${await h.explain(b.executionArn)}\nlease: ${JSON.stringify(await h.getJson(`registry/${MODEL}/lease.json`))}`,
          );
        },
      );
      const winner = loser === a ? b : a;
      expect((await h.wait(loser.executionArn)).error, await h.explain(loser.executionArn)).toBe('ReleaseSuperseded');
      await approve(winner);
      expect((await h.wait(winner.executionArn)).status).toBe('SUCCEEDED');
      expectOneAtATime(touches.slice(from));
    }
  }, 240_000);
});
