import './task-env';
import { S3Client } from '@aws-sdk/client-s3';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeHandler } from '../../../lambdas/load-test/handler';
import { runOpenLoop } from '../../../lambdas/load-test/load';
import { evaluateModel, runGate, type QualityReport } from '../../../lambdas/ml';
import { percentile, summarize } from '../../../lambdas/load-test/stats';
import type { VersionRecord } from '../../../lambdas/shared/registry';
import { deliveryCsv } from './data';
import { fakeS3, sdkError, type FakeBucket } from './fake-s3';
import { BUCKET, NOW, releaseEvent, versionRecord } from './fixtures';

const versionKey = 'registry/delivery-time/versions/abcdef1-0a0b.json';
const answer = () => ({ Body: new TextEncoder().encode('{"predictions":[{"value":1}]}') as never });

/** A virtual clock: time moves only when the code under test sleeps, or a fake endpoint takes time. */
function virtualTime() {
  const t = { now: 0 };
  return { t, clock: () => t.now, sleep: async (ms: number) => void (t.now += ms) };
}

describe('Function: percentile / summarize', () => {
  it('uses nearest-rank percentiles over successful requests', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([percentile(sorted, 50), percentile(sorted, 95), percentile(sorted, 99), percentile(sorted, 100)]).toEqual([50, 95, 99, 100]);
    expect(percentile([], 99)).toBe(0);
    const stats = summarize(
      [
        { latencyMs: 10, ok: true },
        { latencyMs: 30, ok: true },
        { latencyMs: 20, ok: true },
        { latencyMs: 999, ok: false, error: 'ModelError' },
      ],
      2000,
    );
    expect(stats).toMatchObject({
      requests: 4,
      errors: 1,
      errorRate: 0.25,
      p50Ms: 20,
      p99Ms: 30,
      maxMs: 30,
      achievedRps: 2,
      errorKinds: { ModelError: 1 },
    });
  });
});

describe('Function: runOpenLoop', () => {
  const runtime = mockClient(SageMakerRuntimeClient);
  beforeEach(() => runtime.reset());

  it('sends on schedule without waiting for answers (open loop)', async () => {
    // Prepare: no answer comes back until every request has been sent
    const { t, clock, sleep } = virtualTime();
    const sentAt: number[] = [];
    const pending: (() => void)[] = [];
    runtime.on(InvokeEndpointCommand).callsFake(() => {
      sentAt.push(t.now);
      return new Promise((resolve) => pending.push(() => resolve(answer())));
    });

    // Act
    const running = runOpenLoop({ runtime: new SageMakerRuntimeClient({ region: 'us-east-1' }), clock, sleep }, 'ep', [{ x: 1 }], 10, 2);
    while (sentAt.length < 20) await new Promise((r) => setImmediate(r));
    t.now += 50;
    pending.forEach((p) => p());
    const { samples } = await running;

    // Assess
    expect(sentAt).toEqual(Array.from({ length: 20 }, (_, i) => i * 100));
    expect(samples).toHaveLength(20);
    expect(samples.every((s) => s.ok)).toBe(true);
    expect(samples[0]!.latencyMs).toBe(1950);
    expect(samples[19]!.latencyMs).toBe(50);
  });
});

describe('Handler: LoadTest', () => {
  let bucket: FakeBucket;
  const runtime = mockClient(SageMakerRuntimeClient);
  const deps = () => {
    const v = virtualTime();
    return {
      s3: new S3Client({ region: 'us-east-1' }),
      runtime: new SageMakerRuntimeClient({ region: 'us-east-1', maxAttempts: 1 }),
      bucket: BUCKET,
      clock: v.clock,
      sleep: v.sleep,
      now: () => NOW,
      t: v.t,
    };
  };
  beforeEach(() => {
    bucket = fakeS3();
    runtime.reset();
    bucket.put(versionKey, versionRecord({ status: 'evaluated' }));
    bucket.put('builds/delivery-time/abcdef1-0a0b/data/holdout.csv', deliveryCsv(15));
  });
  afterEach(() => bucket.mock.restore());
  const event = { ...releaseEvent(), endpointName: 'mlship-delivery-time-staging' };

  it("drives the manifest's rate for its duration, passes the bounds and writes load-test.json", async () => {
    // Prepare: 20 rps for 2 s; each answer takes 5 ms of virtual time
    const d = deps();
    runtime.on(InvokeEndpointCommand).callsFake(async () => ((d.t.now += 5), answer()));

    // Act
    const result = await makeHandler(d)(event);

    // Assess
    expect(result).toMatchObject({ ok: true, requests: 40, errors: 0, errorRate: 0, failures: [] });
    expect(result.p99Ms).toBeLessThanOrEqual(200);
    expect(result.reportUri).toBe('s3://mlship-artifacts/reports/delivery-time/abcdef1-0a0b/load-test.json');
    expect(bucket.json('reports/delivery-time/abcdef1-0a0b/load-test.json')).toMatchObject({
      target: { rps: 20, durationSeconds: 2 },
      bounds: { p99Ms: 200, maxErrorRate: 0.05 },
      ok: true,
    });
    expect(bucket.json<VersionRecord>(versionKey).loadTest).toMatchObject({ ok: true });
    const bodies = runtime
      .commandCalls(InvokeEndpointCommand)
      .map((c) => JSON.parse(new TextDecoder().decode(c.args[0].input.Body as Uint8Array)) as { instances: unknown[] });
    expect(bodies.every((b) => b.instances.length === 1)).toBe(true);
  });

  it('adds its result to the quality report the evaluation wrote, JSON and HTML', async () => {
    // Prepare: the report EvaluateModel wrote, without a load test
    const labels = [1, 2, 3, 4];
    const evaluation = evaluateModel({ task: 'regression', labels, predictions: [1.1, 2, 2.9, 4.2], bootstrap: 0, seed: 1 });
    const before: QualityReport = {
      model: 'delivery-time',
      version: 'abcdef1-0a0b',
      task: 'regression',
      generatedAt: NOW.toISOString(),
      validation: runGate({ rmse: { direction: 'lower', bound: 1, tolerance: {} } }, evaluation.metrics, undefined),
      evaluation,
      lineage: { commit: 'abcdef1' },
    };
    bucket.put('reports/delivery-time/abcdef1-0a0b/quality-report.json', before);
    const d = deps();
    runtime.on(InvokeEndpointCommand).callsFake(async () => ((d.t.now += 5), answer()));

    // Act
    const result = await makeHandler(d)(event);

    // Assess
    const report = bucket.json<QualityReport>('reports/delivery-time/abcdef1-0a0b/quality-report.json');
    expect(report).toMatchObject({
      ...before,
      loadTest: { ok: true, requests: 40, p99Ms: result.p99Ms, errorRate: 0, bounds: { p99Ms: 200, maxErrorRate: 0.05 } },
    });
    const page = bucket.text('reports/delivery-time/abcdef1-0a0b/quality-report.html');
    expect(page).toContain('<h2>Load test <span class="pill ok">pass</span></h2>');
    expect(page).toMatch(/<td>40<\/td><td>20 req\/s<\/td>/);
  });

  it('fails on too many errors and on a slow p99, naming each bound', async () => {
    // Prepare: every 4th request fails; the others take 300 ms
    const d = deps();
    let n = 0;
    runtime.on(InvokeEndpointCommand).callsFake(async () => {
      if (++n % 4 === 0) throw sdkError('ModelError', 424);
      d.t.now += 300;
      return answer();
    });

    // Act
    const result = await makeHandler(d)(event);

    // Assess
    expect(result.ok).toBe(false);
    expect(result.errorRate).toBe(0.25);
    expect(result.failures).toEqual([
      expect.stringContaining('p99 latency'),
      expect.stringContaining('error rate 25.00%'),
      expect.stringMatching(/^first error: ModelInvocationError: the model behind mlship-delivery-time-staging answered/),
    ]);
    expect(bucket.json('reports/delivery-time/abcdef1-0a0b/load-test.json')).toMatchObject({ errorKinds: { ModelInvocationError: 10 } });
  });

  it('fails when nothing succeeds, and terminally when the bundle has no holdout', async () => {
    const d = deps();
    runtime.on(InvokeEndpointCommand).rejects(sdkError('ValidationException', 400, 'Endpoint not found'));
    await expect(makeHandler(d)(event)).resolves.toMatchObject({ ok: false, failures: expect.arrayContaining(['no request succeeded']) });
    bucket.objects.delete('mlship-artifacts/builds/delivery-time/abcdef1-0a0b/data/holdout.csv');
    await expect(makeHandler(deps())(event)).rejects.toMatchObject({ name: 'SourceNotFoundError' });
  });
});
