import { DescribeEndpointCommand } from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand } from '@aws-sdk/client-sagemaker-runtime';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { StopExecutionCommand } from '@aws-sdk/client-sfn';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODEL, WorkflowHarness, type Knobs } from './harness';

/**
 * The online A/B test after the approval (experiment.ab) on the real release machine, the real
 * AbTest task and the local endpoint host: the candidate answers a weighted share of production's
 * requests as a second production variant, the test sends ground truth for every answer, and the
 * release promotes, rolls back (AbTestFailed) or runs out of time as the pre-registered test says.
 */
let h: WorkflowHarness;
beforeAll(async () => {
  h = await WorkflowHarness.start();
});
afterAll(async () => {
  await h?.close();
});

const PRODUCTION = `mlship-${MODEL}-production`;

/** Half the traffic to the candidate; an effect of 1 rmse needs fewer than the floor of 30 labelled requests per arm; alpha 0.001 so an equal candidate practically never fails by chance. */
const withAb =
  (maxDuration = '90s', onTimeout = 'rollback') =>
  (yaml: string) =>
    `${yaml}experiment:\n  ab:\n    trafficPercent: 50\n    minDetectableEffect: 1\n    alpha: 0.001\n    maxDuration: ${maxDuration}\n    onTimeout: ${onTimeout}\n`;

interface Answer {
  id: string;
  x: number;
  variant: string | undefined;
  value: number | undefined;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** Ground truth for answered requests, in Model Monitor's format under the hour's partition, as a labelling job would upload it. */
async function sendGroundTruth(answers: Answer[], batch: number) {
  const t = new Date();
  const key = `ground-truth/${MODEL}/${t.getUTCFullYear()}/${pad(t.getUTCMonth() + 1)}/${pad(t.getUTCDate())}/${pad(t.getUTCHours())}/labels-${batch}.jsonl`;
  const body = answers
    .map((a) =>
      JSON.stringify({
        groundTruthData: { data: String(2 * a.x + 1), encoding: 'CSV' },
        eventMetadata: { eventId: a.id },
        eventVersion: '0',
      }),
    )
    .join('\n');
  await h.s3.send(new PutObjectCommand({ Bucket: h.cloud.bucket, Key: key, Body: body }));
}

/**
 * Release the knobs and approve; once the A/B test has started, call `onAb` and send production
 * one request at a time (with its ground truth) until the release ends. `traffic: false` sends none.
 */
async function releaseUnderAb(
  knobs: Knobs,
  opts: { onAb?: () => void; traffic?: boolean; maxDuration?: string; onTimeout?: 'rollback' | 'promote' } = {},
) {
  const started = await h.release(knobs, withAb(opts.maxDuration, opts.onTimeout));
  const approval = await h.approvalOf(started.name, started.executionArn);
  expect(approval, await h.explain(started.executionArn)).toBeDefined();
  await h.decide(started.name, 'approve');
  const answers: Answer[] = [];
  let pending: Answer[] = [];
  let switched = false;
  for (let i = 0; ; i++) {
    const running = h.cloud.stepFunctions.records().find((r) => r.executionArn === started.executionArn)?.status === 'RUNNING';
    if (!running) break;
    if (!switched && (await h.path(started.executionArn)).includes('StartAbTest')) {
      opts.onAb?.();
      switched = true;
    }
    if (!switched || opts.traffic === false) {
      await new Promise((r) => setTimeout(r, 200));
      continue;
    }
    const a: Answer = { id: `ab-test-${started.name}-${i}`, x: i % 10, variant: undefined, value: undefined };
    try {
      const out = await h.runtime.send(
        new InvokeEndpointCommand({
          EndpointName: PRODUCTION,
          Body: JSON.stringify({ instances: [{ x: a.x }] }),
          ContentType: 'application/json',
          InferenceId: a.id,
        }),
      );
      a.variant = out.InvokedProductionVariant;
      a.value = JSON.parse(Buffer.from(out.Body!).toString('utf8')).predictions[0].value;
      pending.push(a);
    } catch {
      // an endpoint mid-update may refuse a request; it simply has no ground truth
    }
    answers.push(a);
    if (pending.length >= 10) {
      await sendGroundTruth(pending, i);
      pending = [];
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return { ...started, answers, record: await h.wait(started.executionArn), version: approval.version as string };
}

/** The production endpoint, once settled, has one variant again, serving `version`'s production config. */
async function expectProductionAlone(version: string) {
  const ep = await h.cloud.sageMaker.waitForEndpoint(PRODUCTION);
  expect(ep.EndpointConfigName).toBe(`mlship-${MODEL}-${version}-p`);
  const described = await h.sagemaker.send(new DescribeEndpointCommand({ EndpointName: PRODUCTION }));
  expect((described.ProductionVariants ?? []).map((v) => v.VariantName)).toEqual(['AllTraffic']);
}

describe('Workflow: release A/B test after the approval', () => {
  it('skips the test of a first release, saying why, and deploys production', async () => {
    const { record, executionArn } = await h.releaseApproved({ quality: 'good' }, withAb());
    expect(record.status, await h.explain(executionArn)).toBe('SUCCEEDED');
    const path = await h.path(executionArn);
    expect(path).toContain('StartAbTest');
    expect(path).not.toContain('CheckAbTest');
    const version = (await h.getJson(`registry/${MODEL}/production.json`)).version;
    const rec = await h.getJson(`registry/${MODEL}/versions/${version}.json`);
    expect(rec.ab).toMatchObject({ verdict: 'skipped', reasons: [expect.stringMatching(/first release: there is no production version/)] });
  });

  it('promotes a candidate that is not worse once each arm has the pre-registered number of labelled requests', async () => {
    // Act
    const run = await releaseUnderAb({ quality: 'good' });

    // Assess: promoted after the test
    expect(run.record.status, await h.explain(run.executionArn)).toBe('SUCCEEDED');
    const path = await h.path(run.executionArn);
    expect(path.indexOf('CheckAbTest')).toBeGreaterThan(path.indexOf('ClaimProduction'));
    expect(path.indexOf('DeployProduction')).toBeGreaterThan(path.lastIndexOf('CheckAbTest'));
    expect((await h.getJson(`registry/${MODEL}/production.json`)).version).toBe(run.version);
    // The plan was written before traffic, the verdict after
    const rec = await h.getJson(`registry/${MODEL}/versions/${run.version}.json`);
    expect(rec.ab, JSON.stringify(rec.ab)).toMatchObject({
      verdict: 'pass',
      plan: { metric: 'rmse', method: expect.stringMatching(/two-sample z-test/), nPerArm: 30, alpha: 0.001, power: 0.8 },
    });
    // ... exactly the plan the approver saw: EvaluateModel wrote it into the quality report, sized from production's holdout errors
    const quality = await h.getJson(`reports/${MODEL}/${run.version}/quality-report.json`);
    expect(quality.ab.plan).toEqual(rec.ab.plan);
    expect(rec.ab.plan.sigmaSource).toMatch(/^production [0-9a-z]{7}-[0-9a-f]{4} on this holdout$/);
    const report = await h.getJson(`reports/${MODEL}/${run.version}/ab.json`);
    expect(report.test.production.n).toBe(30);
    expect(report.test.candidate.n).toBe(30);
    // Every request was answered, through both swaps; both variants answered callers, by weight
    expect(run.answers.filter((a) => a.variant === undefined)).toEqual([]);
    const variants = new Set(run.answers.map((a) => a.variant));
    expect([...variants].sort()).toEqual(expect.arrayContaining(['AllTraffic', 'Candidate']));
    await expectProductionAlone(run.version);
  });

  it('rolls a significantly worse candidate back: AbTestFailed, production alone on the previous version', async () => {
    const before = (await h.getJson(`registry/${MODEL}/production.json`)).version;
    const offsetFile = join(h.temp, 'ab-offset');
    const run = await releaseUnderAb({ quality: 'good', offsetFile, offset: 3 }, { onAb: () => writeFileSync(offsetFile, 'on') });
    expect(run.record.status, await h.explain(run.executionArn)).toBe('FAILED');
    expect(run.record.error).toBe('AbTestFailed');
    expect(run.record.cause).toMatch(/A\/B test fail: the candidate is significantly worse: rmse loss candidate/);
    expect(await h.path(run.executionArn)).not.toContain('DeployProduction');
    expect((await h.getJson(`registry/${MODEL}/production.json`)).version).toBe(before);
    const rec = await h.getJson(`registry/${MODEL}/versions/${run.version}.json`);
    expect(rec.ab).toMatchObject({ verdict: 'fail' });
    expect(rec.status).toBe('ab-test-failed');
    await expectProductionAlone(before);
  });

  it('rolls back when the arms do not reach the sample size within maxDuration (the default onTimeout)', async () => {
    const before = (await h.getJson(`registry/${MODEL}/production.json`)).version;
    const run = await releaseUnderAb({ quality: 'good' }, { traffic: false, maxDuration: '20s' });
    expect(run.record.status, await h.explain(run.executionArn)).toBe('FAILED');
    expect(run.record.error).toBe('AbTestFailed');
    expect(run.record.cause).toMatch(/A\/B test insufficient-data: .*fewer than the 30 per arm.*experiment\.ab\.onTimeout is rollback/);
    expect((await h.getJson(`registry/${MODEL}/production.json`)).version).toBe(before);
    await expectProductionAlone(before);
  });

  it('promotes when out of time only with onTimeout promote, saying so on the record', async () => {
    const run = await releaseUnderAb({ quality: 'good' }, { traffic: false, maxDuration: '20s', onTimeout: 'promote' });
    expect(run.record.status, await h.explain(run.executionArn)).toBe('SUCCEEDED');
    expect((await h.getJson(`registry/${MODEL}/production.json`)).version).toBe(run.version);
    const rec = await h.getJson(`registry/${MODEL}/versions/${run.version}.json`);
    expect(rec.ab).toMatchObject({ verdict: 'insufficient-data', reasons: [expect.stringMatching(/onTimeout is promote/)] });
    await expectProductionAlone(run.version);
  });
});

describe('Workflow: a release stopped in its A/B test', () => {
  it('has its candidate variant taken off production by the next release, even when that one fails its build', async () => {
    // Arrange: an approved release in its A/B test (no traffic, a long window), the candidate a second production variant
    if (!(await h.getJson(`registry/${MODEL}/production.json`))) await h.releaseApproved({ quality: 'good' }, withAb());
    const before = (await h.getJson(`registry/${MODEL}/production.json`)).version;
    const stopped = await h.release({ quality: 'good' }, withAb('10m'));
    const approval = await h.approvalOf(stopped.name, stopped.executionArn);
    expect(approval, await h.explain(stopped.executionArn)).toBeDefined();
    await h.decide(stopped.name, 'approve');
    for (let i = 0; ; i++) {
      const ep = await h.sagemaker.send(new DescribeEndpointCommand({ EndpointName: PRODUCTION }));
      if (ep.EndpointStatus === 'InService' && (ep.ProductionVariants ?? []).length > 1) break;
      if (i > 600) throw new Error(`no candidate variant came on production: ${await h.explain(stopped.executionArn)}`);
      await new Promise((r) => setTimeout(r, 200));
    }

    // Act: a person stops it (StopExecution runs no state of the release: no RemoveAbVariant), then pushes a broken build
    await h.sfn.send(new StopExecutionCommand({ executionArn: stopped.executionArn, error: 'Stopped', cause: 'stopped by hand' }));
    const next = await h.release({ failBuild: true }, withAb());
    const record = await h.wait(next.executionArn);

    // Assess: the next release failed as it should, and production serves alone on the version it had
    expect(record.error, await h.explain(next.executionArn)).toBe('BuildFailed');
    expect((await h.getJson(`registry/${MODEL}/production.json`)).version).toBe(before);
    await expectProductionAlone(before);
  });
});
