import './task-env';
import { S3Client } from '@aws-sdk/client-s3';
import {
  CreateEndpointConfigCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  SageMakerClient,
  UpdateEndpointCommand,
} from '@aws-sdk/client-sagemaker';
import { CloudWatchClient, GetMetricDataCommand, type MetricDataResult } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeHandler } from '../../../lambdas/shadow-test/handler';
import { fakeS3, type FakeBucket } from './fake-s3';
import { EXECUTION_ARN, manifest, NOW, versionRecord } from './fixtures';

const VERSION = 'abcdef1-0a0b';
const PROD_VERSION = '1234567-beef';
const versionKey = `registry/delivery-time/versions/${VERSION}.json`;
const PRODUCTION = 'mlship-delivery-time-production';
const PROD_CONFIG = `mlship-delivery-time-${PROD_VERSION}-p`;
const SHADOW_CONFIG = `mlship-delivery-time-${VERSION}-x`;
const base = { model: 'delivery-time', version: VERSION, executionId: EXECUTION_ARN, executionName: 'e1' };
const placement = {
  endpointName: PRODUCTION,
  productionConfigName: PROD_CONFIG,
  shadowConfigName: SHADOW_CONFIG,
  productionVariant: 'AllTraffic',
};
const DRAINED = {
  BlueGreenUpdatePolicy: { TrafficRoutingConfiguration: { Type: 'ALL_AT_ONCE', WaitIntervalInSeconds: 0 }, TerminationWaitInSeconds: 30 },
};
const shadowManifest = (shadow: Record<string, unknown> = {}) => manifest({ experiment: { shadow: { samplingPercent: 40, ...shadow } } });

/** One SageMaker capture line, as the endpoint host and SageMaker write it. */
const line = (id: string, value: number, time = '2026-11-27T00:59:30Z') =>
  JSON.stringify({
    captureData: {
      endpointInput: {
        observedContentType: 'application/json',
        mode: 'INPUT',
        data: JSON.stringify({ instances: [{ distance_km: 1, service: 'a' }] }),
        encoding: 'JSON',
      },
      endpointOutput: {
        observedContentType: 'application/json',
        mode: 'OUTPUT',
        data: JSON.stringify({ predictions: [{ value }] }),
        encoding: 'JSON',
      },
    },
    eventMetadata: { eventId: `e-${id}`, inferenceId: id, inferenceTime: time },
    eventVersion: '0',
  });

describe('Handler: ShadowTest', () => {
  let bucket: FakeBucket;
  const sagemaker = mockClient(SageMakerClient);
  const cloudwatch = mockClient(CloudWatchClient);
  const handler = makeHandler({
    s3: new S3Client({}),
    sagemaker: new SageMakerClient({}),
    cloudwatch: new CloudWatchClient({}),
    bucket: 'mlship-artifacts',
    now: () => NOW,
  });
  beforeEach(() => {
    bucket = fakeS3();
    sagemaker.reset();
    cloudwatch.reset();
    cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
    bucket.put(versionKey, versionRecord({ manifest: shadowManifest() }));
    bucket.put('registry/delivery-time/production.json', { model: 'delivery-time', version: PROD_VERSION, since: NOW.toISOString() });
    sagemaker
      .on(DescribeEndpointCommand)
      .resolves({ EndpointName: PRODUCTION, EndpointConfigName: PROD_CONFIG, EndpointStatus: 'InService' });
    sagemaker.on(DescribeEndpointConfigCommand).resolves({
      EndpointConfigName: PROD_CONFIG,
      ProductionVariants: [
        {
          VariantName: 'AllTraffic',
          ModelName: `mlship-delivery-time-${PROD_VERSION}`,
          InstanceType: 'ml.m5.large',
          InitialInstanceCount: 2,
          InitialVariantWeight: 1,
        },
      ],
      DataCaptureConfig: {
        EnableCapture: true,
        InitialSamplingPercentage: 100,
        DestinationS3Uri: 's3://mlship-artifacts/capture/delivery-time',
        CaptureOptions: [{ CaptureMode: 'Input' }],
      },
      KmsKeyId: 'key-1',
    });
    sagemaker.on(CreateEndpointConfigCommand).resolves({});
    sagemaker.on(UpdateEndpointCommand).resolves({});
  });
  afterEach(() => bucket.mock.restore());

  describe('Method: start', () => {
    it('skips without experiment.shadow, saying so on the result and the version', async () => {
      bucket.put(versionKey, versionRecord({ manifest: manifest() }));
      const r = await handler({ ...base, action: 'start' });
      expect(r).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/experiment\.shadow is not set/), placement: null });
      expect(bucket.json<any>(versionKey).shadow).toMatchObject({ verdict: 'skipped' });
      expect(sagemaker.commandCalls(UpdateEndpointCommand)).toHaveLength(0);
    });

    it('skips a first release: there is no production to compare with', async () => {
      bucket.mock.restore();
      bucket = fakeS3();
      bucket.put(versionKey, versionRecord({ manifest: shadowManifest() }));
      const r = await handler({ ...base, action: 'start' });
      expect(r).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/^first release/) });
    });

    it('skips when the production endpoint is Failed instead of waiting for it', async () => {
      sagemaker.on(DescribeEndpointCommand).resolves({ EndpointName: PRODUCTION, EndpointStatus: 'Failed', FailureReason: 'no capacity' });
      const r = await handler({ ...base, action: 'start' });
      expect(r).toMatchObject({ status: 'skipped', reason: expect.stringContaining('is Failed (no capacity)') });
    });

    it("copies production's config with the candidate as shadow variant at the sampling share of production's weight", async () => {
      // Act
      const r = await handler({ ...base, action: 'start', pollSeconds: 5 });

      // Assess
      expect(r).toMatchObject({ status: 'running', placement, startedAt: NOW.toISOString(), pollSeconds: 15 });
      const [created] = sagemaker.commandCalls(CreateEndpointConfigCommand).map((c) => c.args[0].input);
      expect(created).toMatchObject({
        EndpointConfigName: SHADOW_CONFIG,
        ProductionVariants: [
          {
            VariantName: 'AllTraffic',
            ModelName: `mlship-delivery-time-${PROD_VERSION}`,
            InitialInstanceCount: 2,
            InitialVariantWeight: 1,
          },
        ],
        ShadowProductionVariants: [
          { VariantName: 'Shadow', ModelName: `mlship-delivery-time-${VERSION}`, InitialInstanceCount: 1, InitialVariantWeight: 0.4 },
        ],
        DataCaptureConfig: { DestinationS3Uri: 's3://mlship-artifacts/capture/delivery-time' },
        KmsKeyId: 'key-1',
      });
      expect(sagemaker.commandCalls(UpdateEndpointCommand).map((c) => c.args[0].input)).toEqual([
        { EndpointName: PRODUCTION, EndpointConfigName: SHADOW_CONFIG, DeploymentConfig: DRAINED },
      ]);
    });

    it("replaces a stopped release's leftover shadow, basing its config on the production version's and going back to it", async () => {
      sagemaker
        .on(DescribeEndpointCommand)
        .resolves({ EndpointName: PRODUCTION, EndpointConfigName: 'mlship-delivery-time-0ld0ld0-aaaa-x', EndpointStatus: 'InService' });
      const r = await handler({ ...base, action: 'start' });
      expect(r).toMatchObject({ status: 'running', placement: { productionConfigName: PROD_CONFIG } });
      expect(sagemaker.commandCalls(DescribeEndpointConfigCommand).map((c) => c.args[0].input)).toEqual([
        { EndpointConfigName: PROD_CONFIG },
      ]);
    });

    it('carries on from the update a first attempt made instead of making a second', async () => {
      sagemaker.on(DescribeEndpointCommand).resolves({
        EndpointName: PRODUCTION,
        EndpointConfigName: PROD_CONFIG,
        EndpointStatus: 'Updating',
        PendingDeploymentSummary: { EndpointConfigName: SHADOW_CONFIG } as never,
      });
      const r = await handler({ ...base, action: 'start' });
      expect(r).toMatchObject({ status: 'running', placement });
      expect(sagemaker.commandCalls(UpdateEndpointCommand)).toHaveLength(0);
    });
  });

  describe('Method: check', () => {
    const startedAt = '2026-11-27T00:59:00.000Z';
    const capture = (variant: string, lines: string[]) =>
      bucket.put(`capture/delivery-time/${PRODUCTION}/${variant}/2026/11/27/00/${variant}.jsonl`, lines.join('\n'));

    it('keeps collecting under minRequests while maxDuration has not passed, touching no endpoint', async () => {
      sagemaker
        .on(DescribeEndpointCommand)
        .resolves({ EndpointName: PRODUCTION, EndpointConfigName: SHADOW_CONFIG, EndpointStatus: 'InService' });
      capture('AllTraffic', [line('a', 1), line('b', 2)]);
      capture('Shadow', [line('a', 1)]);
      const r = await handler({ ...base, action: 'check', placement, startedAt });
      expect(r).toMatchObject({ status: 'collecting', requests: 1, verdict: null });
      expect(sagemaker.commandCalls(UpdateEndpointCommand)).toHaveLength(0);
    });

    it('judges the pairs joined on inferenceId at minRequests, writes shadow.json, records the verdict and takes the shadow off', async () => {
      // Prepare: three requests answered by both (one far apart), one only by production, one only by the shadow
      bucket.put(versionKey, versionRecord({ manifest: shadowManifest({ minRequests: 3, bounds: { maxP95AbsDifference: 1 } }) }));
      capture('AllTraffic', [line('a', 1), line('b', 2), line('c', 3), line('d', 4)]);
      capture('Shadow', [line('a', 1.1), line('b', 2.1), line('c', 7), line('z', 9)]);
      // The shadow in service, then production back on its own config once the removal is done
      sagemaker
        .on(DescribeEndpointCommand)
        .resolvesOnce({ EndpointName: PRODUCTION, EndpointConfigName: SHADOW_CONFIG, EndpointStatus: 'InService' })
        .resolves({ EndpointName: PRODUCTION, EndpointConfigName: PROD_CONFIG, EndpointStatus: 'InService' });

      // Act
      const r = await handler({ ...base, action: 'check', placement, startedAt });

      // Assess
      expect(r).toMatchObject({ status: 'done', verdict: 'fail', proceed: false, requests: 3 });
      expect(r).toHaveProperty(
        'reason',
        expect.stringMatching(/p95 absolute difference 3\.61 is above experiment\.shadow\.bounds\.maxP95AbsDifference 1/),
      );
      const report = bucket.json<any>(`reports/delivery-time/${VERSION}/shadow.json`);
      expect(report.agreement).toMatchObject({ task: 'regression', n: 3, maxAbsDifference: 4 });
      const page = bucket.text(`reports/delivery-time/${VERSION}/shadow.html`);
      expect(page).toMatch(/<b>fail<\/b>: p95 absolute difference 3\.61/);
      expect(page).toContain('<svg');
      expect(bucket.json<any>(versionKey).shadow).toMatchObject({ verdict: 'fail', requests: 3 });
      expect(sagemaker.commandCalls(UpdateEndpointCommand).map((c) => c.args[0].input)).toEqual([
        { EndpointName: PRODUCTION, EndpointConfigName: PROD_CONFIG, DeploymentConfig: DRAINED },
      ]);
    });

    it('is done only once production is back on its own config, so the approval never meets the endpoint mid-update', async () => {
      bucket.put(versionKey, versionRecord({ manifest: shadowManifest({ minRequests: 1 }) }));
      capture('AllTraffic', [line('a', 1)]);
      capture('Shadow', [line('a', 1)]);
      sagemaker
        .on(DescribeEndpointCommand)
        .resolvesOnce({ EndpointName: PRODUCTION, EndpointConfigName: SHADOW_CONFIG, EndpointStatus: 'InService' })
        .resolves({
          EndpointName: PRODUCTION,
          EndpointConfigName: SHADOW_CONFIG,
          EndpointStatus: 'Updating',
          PendingDeploymentSummary: { EndpointConfigName: PROD_CONFIG } as never,
        });
      const r = await handler({ ...base, action: 'check', placement, startedAt });
      expect(r).toMatchObject({ status: 'collecting', verdict: null, proceed: false, reason: 'pass; taking the shadow variant off' });
      expect(sagemaker.commandCalls(UpdateEndpointCommand)).toHaveLength(1);
    });

    it('compares the metric on the requests whose ground truth arrived, with a paired bootstrap interval', async () => {
      // Prepare: four pairs, labels for all four (Model Monitor's format, eventId = inferenceId)
      bucket.put(versionKey, versionRecord({ manifest: shadowManifest({ minRequests: 4, minLabels: 4, bootstrap: 50 }) }));
      capture('AllTraffic', [line('a', 1), line('b', 2), line('c', 3), line('d', 4)]);
      capture('Shadow', [line('a', 1.5), line('b', 2.5), line('c', 3.5), line('d', 4.5)]);
      const truth = (id: string, y: number) =>
        JSON.stringify({ groundTruthData: { data: String(y), encoding: 'CSV' }, eventMetadata: { eventId: id }, eventVersion: '0' });
      bucket.put('ground-truth/delivery-time/2026/11/27/00/labels.jsonl', ['a', 'b', 'c', 'd'].map((id, i) => truth(id, i + 1)).join('\n'));

      // Act
      const r = await handler({ ...base, action: 'check', placement, startedAt });

      // Assess: production is exact, the candidate 0.5 off everywhere: rmse 0 vs 0.5, worse in every resample
      expect(r).toMatchObject({ status: 'done', verdict: 'fail' });
      const report = bucket.json<any>(`reports/delivery-time/${VERSION}/shadow.json`);
      expect(report.labelled).toBe(4);
      expect(report.metric).toMatchObject({
        metric: 'rmse',
        production: 0,
        shadow: 0.5,
        difference: 0.5,
        lower: 0.5,
        upper: 0.5,
        resamples: 50,
      });
    });

    it('ends at once, insufficient-data with the reason, when the update to the shadow failed', async () => {
      sagemaker.on(DescribeEndpointCommand).resolves({
        EndpointName: PRODUCTION,
        EndpointConfigName: PROD_CONFIG,
        EndpointStatus: 'InService',
        FailureReason: 'Failed to update endpoint: the shadow did not answer /ping',
      });
      const r = await handler({ ...base, action: 'check', placement, startedAt });
      expect(r).toMatchObject({ status: 'done', verdict: 'insufficient-data', requests: 0 });
      expect(r).toHaveProperty(
        'reason',
        expect.stringContaining(
          `the shadow variant is not on ${PRODUCTION}, which serves ${PROD_CONFIG} (Failed to update endpoint: the shadow did not answer /ping)`,
        ),
      );
      expect(sagemaker.commandCalls(UpdateEndpointCommand)).toHaveLength(0);
    });

    /** GetMetricData's answer: per variant index (0 production, 1 shadow) Invocations, 4XX, 5XX and ModelLatency p50/p99 in µs. */
    const metricData = (...variants: [number, number, number, number, number][]): MetricDataResult[] =>
      variants.flatMap((v, i) =>
        (['inv', 'e4', 'e5', 'p50', 'p99'] as const).map((k, j) => ({ Id: `${k}_${i}`, StatusCode: 'Complete', Values: [v[j]!] })),
      );
    const pairsThenBack = () => {
      capture('AllTraffic', [line('a', 1), line('b', 2)]);
      capture('Shadow', [line('a', 1), line('b', 2)]);
      sagemaker
        .on(DescribeEndpointCommand)
        .resolvesOnce({ EndpointName: PRODUCTION, EndpointConfigName: SHADOW_CONFIG, EndpointStatus: 'InService' })
        .resolves({ EndpointName: PRODUCTION, EndpointConfigName: PROD_CONFIG, EndpointStatus: 'InService' });
    };

    it("reports latency and error rate per variant from CloudWatch over the stage's window, and fails on the manifest's bounds for them", async () => {
      // Prepare: identical answers; the shadow is 3x slower at p99 and errs on 10 % of its requests
      bucket.put(
        versionKey,
        versionRecord({ manifest: shadowManifest({ minRequests: 2, bounds: { maxLatencyRatio: 2, maxErrorRateDelta: 0.05 } }) }),
      );
      pairsThenBack();
      cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: metricData([100, 0, 1, 4000, 10000], [50, 2, 3, 9000, 30000]) });

      // Act
      const r = await handler({ ...base, action: 'check', placement, startedAt });

      // Assess: the query names both variants of the production endpoint over whole minutes of the window
      const input = cloudwatch.commandCalls(GetMetricDataCommand)[0]!.args[0].input;
      expect(input).toMatchObject({ StartTime: new Date('2026-11-27T00:59:00Z'), EndTime: new Date('2026-11-27T01:00:00Z') });
      const dims = (id: string) => input.MetricDataQueries!.find((q) => q.Id === id)!.MetricStat!;
      expect(dims('p99_1')).toMatchObject({
        Metric: {
          Namespace: 'AWS/SageMaker',
          MetricName: 'ModelLatency',
          Dimensions: [
            { Name: 'EndpointName', Value: PRODUCTION },
            { Name: 'VariantName', Value: 'Shadow' },
          ],
        },
        Period: 60,
        Stat: 'p99',
      });
      expect(dims('e5_0').Metric).toMatchObject({ MetricName: 'Invocation5XXErrors', Dimensions: [{}, { Value: 'AllTraffic' }] });
      const report = bucket.json<any>(`reports/delivery-time/${VERSION}/shadow.json`);
      expect(report.variants).toMatchObject({
        available: true,
        variants: [
          { variant: 'AllTraffic', invocations: 100, errors5xx: 1, errorRate: 0.01, latencyP50Ms: 4, latencyP99Ms: 10 },
          { variant: 'Shadow', invocations: 50, errors4xx: 2, errors5xx: 3, errorRate: 0.1, latencyP50Ms: 9, latencyP99Ms: 30 },
        ],
      });
      expect(r).toMatchObject({ status: 'done', verdict: 'fail' });
      expect(r).toHaveProperty(
        'reason',
        expect.stringMatching(/p99 latency .*3x production's.*experiment\.shadow\.bounds\.maxLatencyRatio 2/),
      );
      expect(r).toHaveProperty(
        'reason',
        expect.stringMatching(/error rate 0\.1 .*0\.01.*experiment\.shadow\.bounds\.maxErrorRateDelta 0\.05/),
      );
      expect(bucket.text(`reports/delivery-time/${VERSION}/shadow.html`)).toMatch(/p99 30 ms/);
    });

    it('never fails the stage on a failed metrics read: the section says not available, with the reason, and the bounds are not judged', async () => {
      bucket.put(versionKey, versionRecord({ manifest: shadowManifest({ minRequests: 2, bounds: { maxLatencyRatio: 2 } }) }));
      pairsThenBack();
      cloudwatch
        .on(GetMetricDataCommand)
        .rejects(Object.assign(new Error('User is not authorized to perform: cloudwatch:GetMetricData'), { name: 'AccessDenied' }));

      const r = await handler({ ...base, action: 'check', placement, startedAt });

      expect(r).toMatchObject({ status: 'done', verdict: 'pass', proceed: true });
      expect(r).toHaveProperty('reason', expect.stringMatching(/maxLatencyRatio not judged: .*AccessDenied/));
      const report = bucket.json<any>(`reports/delivery-time/${VERSION}/shadow.json`);
      expect(report.variants).toEqual({
        available: false,
        reason: `CloudWatch GetMetricData for ${PRODUCTION} failed: AccessDenied: User is not authorized to perform: cloudwatch:GetMetricData`,
      });
      expect(bucket.text(`reports/delivery-time/${VERSION}/shadow.html`)).toMatch(/not available.*AccessDenied/i);
    });

    it('says not available when CloudWatch has no datapoints for the window yet', async () => {
      bucket.put(versionKey, versionRecord({ manifest: shadowManifest({ minRequests: 2 }) }));
      pairsThenBack();
      const r = await handler({ ...base, action: 'check', placement, startedAt });
      expect(r).toMatchObject({ status: 'done', verdict: 'pass' });
      expect(bucket.json<any>(`reports/delivery-time/${VERSION}/shadow.json`).variants).toMatchObject({
        available: false,
        reason: expect.stringMatching(/no AWS\/SageMaker Invocations of mlship-delivery-time-production variant AllTraffic/),
      });
    });

    it('is insufficient-data after maxDuration, going on to the approver by default', async () => {
      capture('AllTraffic', [line('a', 1)]);
      capture('Shadow', [line('a', 1)]);
      const r = await handler({ ...base, action: 'check', placement, startedAt: '2026-11-26T23:00:00.000Z' });
      expect(r).toMatchObject({ status: 'done', verdict: 'insufficient-data', proceed: true, requests: 1 });
    });
  });

  describe('Method: stop', () => {
    it("puts production back when this release's shadow is in service, and leaves any other config alone", async () => {
      sagemaker
        .on(DescribeEndpointCommand)
        .resolves({ EndpointName: PRODUCTION, EndpointConfigName: SHADOW_CONFIG, EndpointStatus: 'InService' });
      expect(await handler({ ...base, action: 'stop' })).toMatchObject({ action: 'removed' });
      expect(sagemaker.commandCalls(UpdateEndpointCommand).map((c) => c.args[0].input)).toEqual([
        { EndpointName: PRODUCTION, EndpointConfigName: PROD_CONFIG, DeploymentConfig: DRAINED },
      ]);

      sagemaker.reset();
      sagemaker
        .on(DescribeEndpointCommand)
        .resolves({ EndpointName: PRODUCTION, EndpointConfigName: 'mlship-delivery-time-other-x', EndpointStatus: 'InService' });
      expect(await handler({ ...base, action: 'stop' })).toMatchObject({ action: 'absent' });
      expect(sagemaker.commandCalls(UpdateEndpointCommand)).toHaveLength(0);
    });

    it("takes off a stopped release's leftover shadow only while this release holds the model's lease", async () => {
      // Prepare: a superseded release's shadow config is in service
      const leftover = 'mlship-delivery-time-0ld0ld0-aaaa-x';
      sagemaker
        .on(DescribeEndpointCommand)
        .resolves({ EndpointName: PRODUCTION, EndpointConfigName: leftover, EndpointStatus: 'InService' });
      const lease = (executionArn: string) => ({
        model: 'delivery-time',
        holder: {
          executionArn,
          executionName: 'x',
          version: VERSION,
          commitId: 'abcdef1',
          trigger: 'push',
          phase: 'candidate',
          since: NOW.toISOString(),
        },
        last: null,
        updatedAt: NOW.toISOString(),
      });

      // Act / Assess: another execution holds the lease: not ours
      bucket.put('registry/delivery-time/lease.json', lease('arn:other'));
      expect(await handler({ ...base, action: 'stop' })).toMatchObject({ action: 'absent' });
      expect(sagemaker.commandCalls(UpdateEndpointCommand)).toHaveLength(0);
      // This release holds it: the leftover goes
      bucket.put('registry/delivery-time/lease.json', lease(EXECUTION_ARN));
      expect(await handler({ ...base, action: 'stop' })).toMatchObject({ action: 'removed', detail: expect.stringContaining(leftover) });
      expect(sagemaker.commandCalls(UpdateEndpointCommand).map((c) => c.args[0].input)).toEqual([
        { EndpointName: PRODUCTION, EndpointConfigName: PROD_CONFIG, DeploymentConfig: DRAINED },
      ]);
    });

    it('waits (EndpointBusyError) while the endpoint is still moving to the shadow', async () => {
      sagemaker.on(DescribeEndpointCommand).resolves({
        EndpointName: PRODUCTION,
        EndpointConfigName: PROD_CONFIG,
        EndpointStatus: 'Updating',
        PendingDeploymentSummary: { EndpointConfigName: SHADOW_CONFIG } as never,
      });
      await expect(handler({ ...base, action: 'stop' })).rejects.toMatchObject({ name: 'EndpointBusyError' });
    });
  });
});
