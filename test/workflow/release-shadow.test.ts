import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeEndpointCommand } from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand } from '@aws-sdk/client-sagemaker-runtime';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODEL, WorkflowHarness, type Knobs } from './harness';

/**
 * The shadow stage on the real release machine, the real ShadowTest task and the local endpoint
 * host: the first release skips it; later ones run the candidate as a shadow of production while
 * the test sends live traffic, and every request the test sends must be answered by production.
 */
let h: WorkflowHarness;
beforeAll(async () => {
  h = await WorkflowHarness.start();
});
afterAll(async () => {
  await h?.close();
});

const PRODUCTION = `mlship-${MODEL}-production`;

const text = async (key: string) => (await h.s3.send(new GetObjectCommand({ Bucket: h.cloud.bucket, Key: key }))).Body!.transformToString();

/** Every shadowed request is copied (100 %); 15 pairs end the stage, 40 s without them too; too little traffic fails. */
const withShadow = (yaml: string) =>
  `${yaml}experiment:\n  shadow:\n    samplingPercent: 100\n    minRequests: 15\n    maxDuration: 40s\n    insufficientData: fail\n    bounds:\n      maxP95AbsDifference: 0.5\n`;

interface Answer {
  id: string;
  x: number;
  status: number;
  variant: string | undefined;
  value: number | undefined;
}

/**
 * Release the knobs; once the shadow stage has started, call `onShadow` (which switches the
 * candidate's behaviour) and send production one request at a time until the release asks for
 * approval or ends. Returns every answer the test got.
 */
async function releaseUnderTraffic(knobs: Knobs, onShadow: () => void = () => undefined) {
  const started = await h.release(knobs, withShadow);
  const answers: Answer[] = [];
  let switched = false;
  for (let i = 0; ; i++) {
    const running = h.cloud.stepFunctions.records().find((r) => r.executionArn === started.executionArn)?.status === 'RUNNING';
    const pending = (await h.getJson(`approvals/${MODEL}/${started.name}.json`))?.status === 'pending';
    if (!running || pending) break;
    if (!switched && (await h.path(started.executionArn)).includes('StartShadowTest')) {
      onShadow();
      switched = true;
    }
    if (!switched) {
      await new Promise((r) => setTimeout(r, 200));
      continue;
    }
    const id = `shadow-test-${started.name}-${i}`;
    try {
      const out = await h.runtime.send(
        new InvokeEndpointCommand({
          EndpointName: PRODUCTION,
          Body: JSON.stringify({ instances: [{ x: i % 10 }] }),
          ContentType: 'application/json',
          InferenceId: id,
        }),
      );
      const doc = JSON.parse(Buffer.from(out.Body!).toString('utf8'));
      answers.push({ id, x: i % 10, status: 200, variant: out.InvokedProductionVariant, value: doc.predictions[0].value });
    } catch (err) {
      answers.push({
        id,
        x: i % 10,
        status: (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 0,
        variant: undefined,
        value: undefined,
      });
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return { ...started, answers };
}

/** Production's answers are untouched: every request answered 200 by the production variant with y = 2x + 1 (± the fixture's noise). */
function expectProductionAnswered(answers: Answer[]) {
  expect(answers.length).toBeGreaterThan(0);
  const wrong = answers.filter((a) => a.status !== 200 || a.variant !== 'AllTraffic' || Math.abs(a.value! - (2 * a.x + 1)) > 0.5);
  expect(wrong, JSON.stringify(wrong.slice(0, 3))).toEqual([]);
}

/** The production endpoint, once settled, serves the production config with no shadow variant. */
async function expectShadowRemoved() {
  const ep = await h.cloud.sageMaker.waitForEndpoint(PRODUCTION);
  expect(ep.EndpointConfigName).toMatch(/-p$/);
  const described = await h.sagemaker.send(new DescribeEndpointCommand({ EndpointName: PRODUCTION }));
  expect(described.ShadowProductionVariants ?? []).toEqual([]);
}

describe('Workflow: release shadow stage', () => {
  it('skips the stage of a first release, saying why, and goes on to the approval', async () => {
    const { record, executionArn, name } = await h.releaseApproved({ quality: 'good' }, withShadow);
    expect(record.status, await h.explain(executionArn)).toBe('SUCCEEDED');
    const path = await h.path(executionArn);
    expect(path).toContain('StartShadowTest');
    expect(path).not.toContain('CheckShadowTest');
    const version = (await h.getJson(`registry/${MODEL}/production.json`)).version;
    const rec = await h.getJson(`registry/${MODEL}/versions/${version}.json`);
    expect(rec.shadow).toMatchObject({
      verdict: 'skipped',
      reasons: [expect.stringMatching(/first release: there is no production version/)],
    });
    const notification = readFileSync(join(h.cloud.dataDir, 'notifications.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { message: string })
      .find((n) => n.message.includes(name) && / succeeded/.test(n.message));
    expect(notification?.message ?? '').toMatch(/Shadow test: skipped \(first release/);
  });

  it('passes a candidate that agrees with production on live traffic, both answers captured under one inferenceId', async () => {
    // Act
    const started = await releaseUnderTraffic({ quality: 'good' });

    // Assess: the verdict and its report
    const approval = await h.approvalOf(started.name, started.executionArn);
    expect(approval, await h.explain(started.executionArn)).toBeDefined();
    const version = approval.version;
    const rec = await h.getJson(`registry/${MODEL}/versions/${version}.json`);
    expect(rec.shadow, JSON.stringify(rec.shadow)).toMatchObject({ verdict: 'pass' });
    const report = await h.getJson(`reports/${MODEL}/${version}/shadow.json`);
    expect(report.requests).toBeGreaterThanOrEqual(15);
    expect(report.agreement.task).toBe('regression');
    expect(report.agreement.p95AbsDifference).toBeLessThanOrEqual(0.5);
    // Latency and error rate per variant, read with CloudWatch GetMetricData (the local cloud serves it from the endpoint host)
    expect(report.variants, JSON.stringify(report.variants)).toMatchObject({ available: true });
    const traffic = Object.fromEntries((report.variants.variants as { variant: string; invocations: number }[]).map((v) => [v.variant, v]));
    expect(traffic.AllTraffic).toMatchObject({ errorRate: 0, invocations: expect.any(Number) });
    expect(traffic.Shadow).toMatchObject({ errorRate: 0, invocations: expect.any(Number) });
    expect(traffic.AllTraffic.invocations).toBeGreaterThanOrEqual(15);
    expect(traffic.Shadow.invocations).toBeGreaterThanOrEqual(15);
    // Production answered every request; the shadow's answers went to the capture only
    expectProductionAnswered(started.answers);
    const captured = async (variant: string) => {
      const ids = new Set<string>();
      for (const key of await h.keys(`capture/${MODEL}/${PRODUCTION}/${variant}/`))
        for (const line of (await text(key)).split('\n').filter(Boolean)) ids.add(JSON.parse(line).eventMetadata.inferenceId);
      return ids;
    };
    const [production, shadow] = [await captured('AllTraffic'), await captured('Shadow')];
    const both = started.answers.filter((a) => production.has(a.id) && shadow.has(a.id));
    expect(both.length).toBeGreaterThanOrEqual(15);
    await expectShadowRemoved();

    // The approval then promotes as before
    await h.decide(started.name, 'approve');
    expect((await h.wait(started.executionArn)).status, await h.explain(started.executionArn)).toBe('SUCCEEDED');
  });

  it('ends in ShadowTestFailed when the candidate disagrees with production beyond the bound', async () => {
    const offsetFile = join(h.temp, 'offset-now');
    const started = await releaseUnderTraffic({ quality: 'good', offsetFile, offset: 3 }, () => writeFileSync(offsetFile, 'on'));
    const record = await h.wait(started.executionArn);
    expect(record.status, await h.explain(started.executionArn)).toBe('FAILED');
    expect(record.error).toBe('ShadowTestFailed');
    expect(record.cause).toMatch(
      /shadow test fail: p95 absolute difference 3 is above experiment\.shadow\.bounds\.maxP95AbsDifference 0\.5/,
    );
    expectProductionAnswered(started.answers);
    await expectShadowRemoved();
  });

  it.each([
    ['crashes', (f: string): Knobs => ({ quality: 'good', exitFile: f })],
    ['hangs', (f: string): Knobs => ({ quality: 'good', hangFile: f })],
  ])('leaves every answer to production when the shadow model %s, and fails for too little traffic', async (what, knobs) => {
    const file = join(h.temp, `shadow-${what}`);
    const started = await releaseUnderTraffic(knobs(file), () => writeFileSync(file, 'now'));
    const record = await h.wait(started.executionArn);
    expect(record.status, await h.explain(started.executionArn)).toBe('FAILED');
    expect(record.error).toBe('ShadowTestFailed');
    expect(record.cause).toMatch(/shadow test insufficient-data: \d+ shadowed requests, fewer than the 15 experiment\.shadow\.minRequests/);
    expectProductionAnswered(started.answers);
    await expectShadowRemoved();
  });
});

describe('Workflow: a superseded release in its shadow stage', () => {
  it('has its shadow taken off production by the release that superseded it, even when that one fails its build', async () => {
    // Arrange: a release waits in its shadow stage (no traffic, a long window), its candidate a shadow of production
    const long = (yaml: string) => withShadow(yaml).replace('maxDuration: 40s', 'maxDuration: 10m');
    if (!(await h.getJson(`registry/${MODEL}/production.json`))) await h.releaseApproved({ quality: 'good' }, withShadow);
    const older = await h.release({ quality: 'good' }, long);
    for (let i = 0; ; i++) {
      const ep = await h.sagemaker.send(new DescribeEndpointCommand({ EndpointName: PRODUCTION }));
      if (ep.EndpointStatus === 'InService' && (ep.ShadowProductionVariants ?? []).length > 0) break;
      if (i > 600) throw new Error(`no shadow variant came on production: ${await h.explain(older.executionArn)}`);
      await new Promise((r) => setTimeout(r, 200));
    }

    // Act: a newer push supersedes it (StopExecution runs no state of the older release) and never reaches a shadow stage
    const newer = await h.release({ failBuild: true }, long);
    const record = await h.wait(newer.executionArn);

    // Assess: the newer release failed as it should, the older one was stopped, and production has no shadow left
    expect(record.error, await h.explain(newer.executionArn)).toBe('BuildFailed');
    expect((await h.wait(older.executionArn)).status).toBe('ABORTED');
    await expectShadowRemoved();
  });
});
