import './task-env';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../../../lambdas/evaluate-model/handler';
import type { VersionRecord } from '../../../lambdas/shared/registry';
import type { QualityReport } from '../../../lambdas/ml/types';
import { sampleSizeMeans } from '../../../lambdas/ml/abtest';
import { deliveryCsv, predictHours } from './data';
import { fakeS3, sdkError, type FakeBucket } from './fake-s3';
import { manifest, releaseEvent, versionRecord } from './fixtures';

const versionKey = 'registry/delivery-time/versions/abcdef1-0a0b.json';
const event = { ...releaseEvent(), endpointName: 'mlship-delivery-time-staging' };
type Body = { instances: { distance_km: number; service: string }[] };
const decode = (input: { Body?: unknown }): Body => JSON.parse(new TextDecoder().decode(input.Body as Uint8Array)) as Body;
const answer = (predictions: unknown[]) => ({
  Body: new TextEncoder().encode(JSON.stringify({ predictions })) as never,
  ContentType: 'application/json',
});

describe('Handler: EvaluateModel', () => {
  let bucket: FakeBucket;
  const runtime = mockClient(SageMakerRuntimeClient);
  beforeEach(() => {
    bucket = fakeS3();
    runtime.reset();
    bucket.put(versionKey, versionRecord({ status: 'built' }));
    bucket.put('builds/delivery-time/abcdef1-0a0b/data/train.csv', deliveryCsv(200, 1));
    bucket.put('builds/delivery-time/abcdef1-0a0b/data/holdout.csv', deliveryCsv(120, 2));
  });
  afterEach(() => bucket.mock.restore());

  it('scores the holdout through the endpoint in batches, gates it and writes the reports and baseline', async () => {
    // Prepare
    runtime.on(InvokeEndpointCommand).callsFake((input) => answer(decode(input).instances.map((i) => ({ value: predictHours(i) }))));

    // Act
    const result = await handler(event);

    // Assess
    expect(result.validationOk).toBe(true);
    expect(result.failures).toEqual([]);
    expect(result.metrics.rmse).toBeGreaterThan(0);
    expect(result.metrics.rmse).toBeLessThan(0.5);
    expect(result.reportUri).toBe('s3://mlship-artifacts/reports/delivery-time/abcdef1-0a0b/quality-report.html');
    const sizes = runtime.commandCalls(InvokeEndpointCommand).map((c) => decode(c.args[0].input).instances.length);
    expect(sizes.sort((a, b) => b - a)).toEqual([50, 50, 20]);
    expect(runtime).toReceiveCommandWith(InvokeEndpointCommand, {
      EndpointName: 'mlship-delivery-time-staging',
      ContentType: 'application/json',
    });
    expect(bucket.keys('reports/')).toEqual(
      ['baseline/constraints.json', 'baseline/statistics.json', 'quality-report.html', 'quality-report.json', 'validation.json'].map(
        (f) => `reports/delivery-time/abcdef1-0a0b/${f}`,
      ),
    );
    expect(bucket.json('reports/delivery-time/abcdef1-0a0b/validation.json')).toMatchObject({
      validation_ok: true,
      comparedWithProduction: false,
    });
    expect(bucket.text('reports/delivery-time/abcdef1-0a0b/quality-report.html')).toMatch(/<html/i);
    const record = bucket.json<VersionRecord>(versionKey);
    expect(record.status).toBe('evaluated');
    expect(record.evaluation).toMatchObject({ validationOk: true, metrics: { rmse: result.metrics.rmse } });
    expect(record.training).toMatchObject({ rows: 200, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  it("records the build's params.json (hyperparameters) in the version record, where the console reads lineage on AWS", async () => {
    // Prepare: the build left params.json beside its model (models/breast-cancer does)
    bucket.put('builds/delivery-time/abcdef1-0a0b/model/params.json', { C: 0.5, max_iter: 200 });
    runtime.on(InvokeEndpointCommand).callsFake((input) => answer(decode(input).instances.map((i) => ({ value: predictHours(i) }))));

    // Act
    await handler(event);

    // Assess
    expect(bucket.json<VersionRecord>(versionKey).hyperparameters).toEqual({
      values: { C: 0.5, max_iter: 200 },
      uri: 's3://mlship-artifacts/builds/delivery-time/abcdef1-0a0b/model/params.json',
    });
  });

  it('fails the gate of a bad model against its absolute bound', async () => {
    runtime.on(InvokeEndpointCommand).callsFake((input) => answer(decode(input).instances.map(() => ({ value: 40 }))));
    const result = await handler(event);
    expect(result.validationOk).toBe(false);
    expect(result.failures.join(' ')).toContain('rmse');
  });

  it('scores production on the same holdout and fails a candidate that is worse than it', async () => {
    // Prepare: production recorded a poor figure on its own, older holdout, but is better on this one
    bucket.put('registry/delivery-time/production.json', {
      model: 'delivery-time',
      version: '1111111-aaaa',
      since: 'then',
      endpointName: 'p',
    });
    bucket.put(
      'registry/delivery-time/versions/1111111-aaaa.json',
      versionRecord({
        version: '1111111-aaaa',
        status: 'production',
        build: null,
        evaluation: { validationOk: true, metrics: { rmse: 99 }, failures: [], reportUri: '', validationUri: '', htmlUri: '' },
      }),
    );
    runtime
      .on(InvokeEndpointCommand, { EndpointName: 'mlship-delivery-time-staging' })
      .callsFake((input) => answer(decode(input).instances.map((i) => ({ value: predictHours(i) + 2 }))));
    runtime
      .on(InvokeEndpointCommand, { EndpointName: 'mlship-delivery-time-production' })
      .callsFake((input) => answer(decode(input).instances.map((i) => ({ value: predictHours(i) }))));

    // Act
    const result = await handler(event);

    // Assess
    expect(result.validationOk).toBe(false);
    const validation = bucket.json<{ comparedWithProduction: boolean; notes: string[] }>(
      'reports/delivery-time/abcdef1-0a0b/validation.json',
    );
    expect(validation.comparedWithProduction).toBe(true);
    expect(validation.notes.join(' ')).toContain("scored on this version's holdout (120 rows)");
    const report = bucket.json<{ production: { metrics: { rmse: number } } }>('reports/delivery-time/abcdef1-0a0b/quality-report.json');
    expect(report.production.metrics.rmse).toBeLessThan(result.metrics.rmse);
    // Evaluation requests are tagged so the drift check can leave them out of live traffic.
    const ids = runtime.commandCalls(InvokeEndpointCommand).map((c) => c.args[0].input.InferenceId);
    expect(ids.every((id) => id?.startsWith('mlship-eval-abcdef1-0a0b'))).toBe(true);
  });

  it("plans the A/B test of experiment.ab in the quality report from production's per-request losses on this holdout", async () => {
    // Prepare: the candidate is off by 2 everywhere, production is the good model
    bucket.put(versionKey, versionRecord({ status: 'built', manifest: manifest({ experiment: { ab: { minDetectableEffect: 0.5 } } }) }));
    bucket.put('registry/delivery-time/production.json', {
      model: 'delivery-time',
      version: '1111111-aaaa',
      since: 'then',
      endpointName: 'p',
    });
    bucket.put(
      'registry/delivery-time/versions/1111111-aaaa.json',
      versionRecord({ version: '1111111-aaaa', status: 'production', build: null }),
    );
    runtime
      .on(InvokeEndpointCommand, { EndpointName: 'mlship-delivery-time-staging' })
      .callsFake((input) => answer(decode(input).instances.map((i) => ({ value: predictHours(i) + 2 }))));
    runtime
      .on(InvokeEndpointCommand, { EndpointName: 'mlship-delivery-time-production' })
      .callsFake((input) => answer(decode(input).instances.map((i) => ({ value: predictHours(i) }))));
    // Production's squared errors on the holdout, computed here from the rows
    const rows = deliveryCsv(120, 2)
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(','));
    const sq = rows.map(([d, service, hours]) => (predictHours({ distance_km: Number(d), service: service! }) - Number(hours)) ** 2);
    const mean = sq.reduce((a, b) => a + b, 0) / sq.length;
    const sd = Math.sqrt(sq.reduce((a, b) => a + (b - mean) ** 2, 0) / (sq.length - 1));

    // Act
    await handler(event);

    // Assess
    const report = bucket.json<QualityReport>('reports/delivery-time/abcdef1-0a0b/quality-report.json');
    expect(report.lossSpread).toMatchObject({ source: 'production 1111111-aaaa on this holdout', rows: 120 });
    expect(report.lossSpread!.sd.rmse).toBeCloseTo(sd, 10);
    const plan = report.ab!.plan!;
    expect(plan).toMatchObject({ metric: 'rmse', baseline: report.production!.metrics.rmse, sigma: report.lossSpread!.sd.rmse });
    expect(plan.nPerArm).toBe(Math.max(30, sampleSizeMeans({ sigma: sd, delta: plan.lossEffect, alpha: 0.05, power: 0.8 })));
    expect(report.ab).toMatchObject({ trafficPercent: 10, onTimeout: 'rollback', reason: null });
  });

  it('fails a candidate better on average but worse on one slice, naming the slice, with the slice table worst first', async () => {
    // Prepare: production is 0.55 h off everywhere; the candidate is exact on standard parcels and 0.7 h off on express ones
    const sliced = manifest({
      evaluation: {
        bootstrap: 200,
        metrics: { rmse: { direction: 'lower', bound: 5, tolerance: { relative: 0.1 } } },
        slices: [{ feature: 'service' }, { feature: 'distance_km', buckets: [{ name: 'near', below: 100 }, { name: 'far' }] }],
      },
    });
    bucket.put(versionKey, versionRecord({ status: 'built', manifest: sliced }));
    bucket.put('builds/delivery-time/abcdef1-0a0b/data/holdout.csv', deliveryCsv(400, 2));
    bucket.put('registry/delivery-time/production.json', {
      model: 'delivery-time',
      version: '1111111-aaaa',
      since: 'then',
      endpointName: 'p',
    });
    bucket.put(
      'registry/delivery-time/versions/1111111-aaaa.json',
      versionRecord({ version: '1111111-aaaa', status: 'production', build: null }),
    );
    runtime
      .on(InvokeEndpointCommand, { EndpointName: 'mlship-delivery-time-staging' })
      .callsFake((input) => answer(decode(input).instances.map((i) => ({ value: predictHours(i) + (i.service === 'express' ? 0.7 : 0) }))));
    runtime
      .on(InvokeEndpointCommand, { EndpointName: 'mlship-delivery-time-production' })
      .callsFake((input) => answer(decode(input).instances.map((i) => ({ value: predictHours(i) + 0.55 }))));

    // Act
    const result = await handler(event);

    // Assess
    const report = bucket.json<{ production: { metrics: { rmse: number } }; slices: { slices: { name: string }[] } }>(
      'reports/delivery-time/abcdef1-0a0b/quality-report.json',
    );
    expect(result.metrics.rmse).toBeLessThan(report.production.metrics.rmse);
    expect(result.validationOk).toBe(false);
    expect(result.failures).toEqual([expect.stringMatching(/^RMSE \+2\d % on service=express, n=\d+ \(/)]);
    expect(report.slices.slices[0]!.name).toBe('service=express');
    expect(bucket.json('reports/delivery-time/abcdef1-0a0b/validation.json')).toMatchObject({ validation_ok: false });
    const html = bucket.text('reports/delivery-time/abcdef1-0a0b/quality-report.html');
    const table = html.slice(html.indexOf('Slices (worst first)'));
    expect(table.indexOf('service=express')).toBeGreaterThan(0);
    expect(table.indexOf('service=express')).toBeLessThan(table.indexOf('service=standard'));
  });

  it("gates each extra evaluation dataset as a slice: a candidate worse on one client's data fails, naming it", async () => {
    // Prepare: the holdout plus two client datasets; the candidate is 1.2 h off beyond 205 km, where only client-b ships (160-350 km; the others 10-200 km)
    const withDatasets = manifest({
      evaluation: {
        bootstrap: 200,
        metrics: { rmse: { direction: 'lower', bound: 5, tolerance: { relative: 0.1 } } },
        datasets: [
          { name: 'client-a', path: 'data/eval-client-a.csv' },
          { name: 'client-b', path: 'data/eval-client-b.csv' },
        ],
        sliceGate: { minRows: 30 },
      },
    });
    bucket.put(versionKey, versionRecord({ status: 'built', manifest: withDatasets }));
    bucket.put('builds/delivery-time/abcdef1-0a0b/data/eval-client-a.csv', deliveryCsv(80, 3));
    bucket.put('builds/delivery-time/abcdef1-0a0b/data/eval-client-b.csv', deliveryCsv(80, 4, 150));
    bucket.put('registry/delivery-time/production.json', {
      model: 'delivery-time',
      version: '1111111-aaaa',
      since: 'then',
      endpointName: 'p',
    });
    bucket.put(
      'registry/delivery-time/versions/1111111-aaaa.json',
      versionRecord({ version: '1111111-aaaa', status: 'production', build: null }),
    );
    runtime
      .on(InvokeEndpointCommand, { EndpointName: 'mlship-delivery-time-staging' })
      .callsFake((input) => answer(decode(input).instances.map((i) => ({ value: predictHours(i) + (i.distance_km >= 205 ? 1.2 : 0) }))));
    runtime
      .on(InvokeEndpointCommand, { EndpointName: 'mlship-delivery-time-production' })
      .callsFake((input) => answer(decode(input).instances.map((i) => ({ value: predictHours(i) }))));

    // Act
    const result = await handler(event);

    // Assess: client-b fails; the holdout's own metrics are the holdout's (120 rows)
    expect(result.validationOk).toBe(false);
    expect(result.failures.join('\n')).toMatch(/RMSE \+\d+ % on dataset=client-b, n=80 \(/);
    expect(result.failures.join('\n')).not.toMatch(/dataset=client-a/);
    const report = bucket.json<{ evaluation: { n: number }; slices: { slices: { name: string; n: number }[] } }>(
      'reports/delivery-time/abcdef1-0a0b/quality-report.json',
    );
    expect(report.evaluation.n).toBe(120);
    expect(report.slices.slices.map((s) => s.name)).toEqual(expect.arrayContaining(['dataset=client-a', 'dataset=client-b']));
  });

  it("falls back to production's recorded metrics when its endpoint cannot be scored, and says so", async () => {
    // Prepare: production was far better than this candidate can be, and its endpoint is gone
    bucket.put('registry/delivery-time/production.json', {
      model: 'delivery-time',
      version: '1111111-aaaa',
      since: 'then',
      endpointName: 'p',
    });
    bucket.put(
      'registry/delivery-time/versions/1111111-aaaa.json',
      versionRecord({
        version: '1111111-aaaa',
        status: 'production',
        build: null,
        evaluation: { validationOk: true, metrics: { rmse: 0.01 }, failures: [], reportUri: '', validationUri: '', htmlUri: '' },
      }),
    );
    runtime
      .on(InvokeEndpointCommand, { EndpointName: 'mlship-delivery-time-staging' })
      .callsFake((input) => answer(decode(input).instances.map((i) => ({ value: predictHours(i) }))));
    runtime.on(InvokeEndpointCommand, { EndpointName: 'mlship-delivery-time-production' }).rejects(sdkError('ValidationError', 400));

    // Act
    const result = await handler(event);

    // Assess
    expect(result.validationOk).toBe(false);
    const validation = bucket.json<{ comparedWithProduction: boolean; notes: string[] }>(
      'reports/delivery-time/abcdef1-0a0b/validation.json',
    );
    expect(validation.comparedWithProduction).toBe(true);
    expect(validation.notes.join(' ')).toContain('compared with the metrics it recorded');
    expect(bucket.json('reports/delivery-time/abcdef1-0a0b/quality-report.json')).toMatchObject({
      production: { version: '1111111-aaaa', metrics: { rmse: 0.01 } },
    });
  });

  it('fails with ModelAnswerError, quoting the answer and naming the log, when the endpoint breaks the inference contract', async () => {
    const log = 'model log: CloudWatch log group /aws/sagemaker/Endpoints/mlship-delivery-time-staging';
    runtime.on(InvokeEndpointCommand).resolves(answer([{ value: 1 }]));
    await expect(handler(event)).rejects.toMatchObject({
      name: 'ModelAnswerError',
      message: expect.stringContaining('one prediction per instance'),
    });
    runtime.on(InvokeEndpointCommand).callsFake((input) => answer(decode(input).instances.map(() => ({ label: 'x' }))));
    await expect(handler(event)).rejects.toMatchObject({
      name: 'ModelAnswerError',
      message: expect.stringContaining('without a finite numeric "value": {"label":"x"}'),
    });
    runtime.on(InvokeEndpointCommand).callsFake((input) => answer(decode(input).instances.map(() => ({ value: null }))));
    await expect(handler(event)).rejects.toMatchObject({
      name: 'ModelAnswerError',
      message: expect.stringContaining(`{"value":null}; ${log}`),
    });
  });

  it('names NaN in an answer JSON cannot carry', async () => {
    runtime.on(InvokeEndpointCommand).callsFake((input) => ({
      Body: new TextEncoder().encode(
        `{"predictions":[${decode(input)
          .instances.map(() => '{"value": NaN}')
          .join(',')}]}`,
      ) as never,
    }));
    await expect(handler(event)).rejects.toMatchObject({
      name: 'ModelAnswerError',
      message: expect.stringMatching(
        /^the model behind mlship-delivery-time-staging answered predictions that are NaN or Infinity, which JSON cannot carry: \{"predictions":\[\{"value": NaN\}/,
      ),
    });
  });

  it("fails with ModelInvocationError carrying the model's message and SageMaker's log when the model answers 500", async () => {
    const modelError = Object.assign(sdkError('ModelError', 424, 'Received server error (500) from primary with message "boom"'), {
      OriginalStatusCode: 500,
      OriginalMessage: '{"error":"KeyError: distance_km"}',
      LogStreamArn: 'arn:aws:logs:us-east-1:123456789012:log-group:/aws/sagemaker/Endpoints/mlship-delivery-time-staging',
    });
    runtime.on(InvokeEndpointCommand).rejects(modelError);
    await expect(handler(event)).rejects.toMatchObject({
      name: 'ModelInvocationError',
      status: 500,
      message:
        'the model behind mlship-delivery-time-staging answered HTTP 500: {"error":"KeyError: distance_km"}; model log: arn:aws:logs:us-east-1:123456789012:log-group:/aws/sagemaker/Endpoints/mlship-delivery-time-staging',
    });
  });

  it('fails with InvalidDataError naming a feature of the manifest the holdout lacks', async () => {
    bucket.put('builds/delivery-time/abcdef1-0a0b/data/holdout.csv', 'service,hours\nexpress,1.5\n');
    await expect(handler(event)).rejects.toMatchObject({
      name: 'InvalidDataError',
      message: expect.stringMatching(
        /^feature "distance_km" of the manifest is missing from s3:\/\/.*holdout\.csv \(its columns: service, hours\)$/,
      ),
    });
  });

  it('names the missing bundle file, and passes endpoint throttling on as TransientError', async () => {
    bucket.objects.delete('mlship-artifacts/builds/delivery-time/abcdef1-0a0b/data/holdout.csv');
    await expect(handler(event)).rejects.toMatchObject({
      name: 'SourceNotFoundError',
      message: expect.stringContaining('data/holdout.csv'),
    });
    bucket.put('builds/delivery-time/abcdef1-0a0b/data/holdout.csv', deliveryCsv(10, 2));
    runtime.on(InvokeEndpointCommand).rejects(sdkError('ThrottlingException', 400));
    await expect(handler(event)).rejects.toMatchObject({ name: 'TransientError' });
  });

  it('names the row and column of a holdout value that is not a number', async () => {
    bucket.put('builds/delivery-time/abcdef1-0a0b/data/holdout.csv', 'distance_km,service,hours\n12,express,1.5\nfar,express,2\n');
    await expect(handler(event)).rejects.toMatchObject({
      name: 'InvalidDataError',
      message: expect.stringContaining('row 3, column "distance_km"'),
    });
  });
});
