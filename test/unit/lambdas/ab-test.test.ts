import './task-env';
import { S3Client } from '@aws-sdk/client-s3';
import {
  CreateEndpointConfigCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  SageMakerClient,
  UpdateEndpointCommand,
} from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeHandler } from '../../../lambdas/ab-test/handler';
import type { VersionRecord } from '../../../lambdas/shared/registry';
import { planFromReport } from '../../../lambdas/ml/abtest';
import { fakeS3, type FakeBucket } from './fake-s3';
import { EXECUTION_ARN, manifest, NOW, versionRecord } from './fixtures';

const VERSION = 'abcdef1-0a0b';
const PROD_VERSION = '1234567-beef';
const versionKey = `registry/delivery-time/versions/${VERSION}.json`;
const PRODUCTION = 'mlship-delivery-time-production';
const PROD_CONFIG = `mlship-delivery-time-${PROD_VERSION}-p`;
const AB_CONFIG = `mlship-delivery-time-${VERSION}-a`;
const base = { model: 'delivery-time', version: VERSION, executionId: EXECUTION_ARN, executionName: 'e1' };
const placement = { endpointName: PRODUCTION, productionConfigName: PROD_CONFIG, abConfigName: AB_CONFIG, productionVariant: 'AllTraffic' };
const abManifest = (ab: Record<string, unknown> = {}) => manifest({ experiment: { ab: { minDetectableEffect: 0.5, ...ab } } });
const plan = {
  metric: 'rmse',
  method: 'two-sample z-test (Welch standard error)',
  nPerArm: 30,
  alpha: 0.05,
  power: 0.8,
  minDetectableEffect: 0.5,
  lossEffect: 1.25,
  baseline: 1,
  sigma: 1,
  sigmaSource: 'production on this holdout',
};

/** One capture line of `variant` answering `value`. */
const line = (id: string, value: number, time = '2026-11-27T00:59:30Z') =>
  JSON.stringify({
    captureData: {
      endpointInput: {
        observedContentType: 'application/json',
        mode: 'INPUT',
        data: '{"instances":[{"distance_km":1}]}',
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

describe('Handler: AbTest', () => {
  let bucket: FakeBucket;
  const sagemaker = mockClient(SageMakerClient);
  const handler = makeHandler({ s3: new S3Client({}), sagemaker: new SageMakerClient({}), bucket: 'mlship-artifacts', now: () => NOW });
  beforeEach(() => {
    bucket = fakeS3();
    sagemaker.reset();
    bucket.put(versionKey, versionRecord({ manifest: abManifest() }));
    bucket.put('registry/delivery-time/production.json', { model: 'delivery-time', version: PROD_VERSION, since: NOW.toISOString() });
    bucket.put(`reports/delivery-time/${VERSION}/quality-report.json`, {
      evaluation: { metrics: { rmse: 1.1 } },
      production: { version: PROD_VERSION, metrics: { rmse: 1 } },
      lossSpread: { source: `production ${PROD_VERSION} on this holdout`, rows: 100, sd: { rmse: 2 } },
      // What EvaluateModel plans from the figures above (lambdas/ml/abtest.ts planFromReport), shown to the approver
      ab: {
        plan: planFromReport({
          settings: { metric: 'rmse', minDetectableEffect: 0.5, alpha: 0.05, power: 0.8 },
          report: {
            production: { metrics: { rmse: 1 } },
            lossSpread: { source: `production ${PROD_VERSION} on this holdout`, rows: 100, sd: { rmse: 2 } },
          },
        }),
        reason: null,
        trafficPercent: 10,
        maxDuration: 604800,
        onTimeout: 'rollback',
      },
    });
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
  });
  afterEach(() => bucket.mock.restore());

  it('writes the pre-registered plan to the version record before the candidate gets any traffic, then splits it by weight', async () => {
    // Prepare: what the record says at the moment the endpoint is updated
    let atUpdate: VersionRecord['ab'];
    sagemaker.on(UpdateEndpointCommand).callsFake(() => ((atUpdate = bucket.json<VersionRecord>(versionKey).ab), {}));

    // Act
    const out = await handler({ ...base, action: 'start', pollSeconds: 1 });

    // Assess: n = 2σ²(z.975 + z.8)²/δ², δ = (1 + 0.5)² − 1² = 1.25, σ = 2: 2·4·7.849/1.5625 = 40.2 -> 41
    expect(out).toMatchObject({ status: 'running', placement, pollSeconds: 15 });
    expect(atUpdate).toMatchObject({ verdict: 'running', plan: { metric: 'rmse', nPerArm: 41, lossEffect: 1.25, sigma: 2 } });
    // SageMaker's default update: a deployment config (guardrails) requires the same variant names in both configs
    const update = sagemaker.commandCalls(UpdateEndpointCommand)[0]!.args[0].input;
    expect(update).toEqual({ EndpointName: PRODUCTION, EndpointConfigName: AB_CONFIG });
    const config = sagemaker.commandCalls(CreateEndpointConfigCommand)[0]!.args[0].input;
    expect(config.EndpointConfigName).toBe(AB_CONFIG);
    expect(config.ProductionVariants?.map((v) => [v.VariantName, v.InitialVariantWeight, v.ModelName])).toEqual([
      ['AllTraffic', 90, `mlship-delivery-time-${PROD_VERSION}`],
      ['Candidate', 10, `mlship-delivery-time-${VERSION}`],
    ]);
    expect(config.DataCaptureConfig?.DestinationS3Uri).toBe('s3://mlship-artifacts/capture/delivery-time');
    expect(config.KmsKeyId).toBe('key-1');
  });

  it('skips the test when the production endpoint is Failed, saying why (there is no live traffic to split)', async () => {
    sagemaker
      .on(DescribeEndpointCommand)
      .resolves({ EndpointName: PRODUCTION, EndpointConfigName: PROD_CONFIG, EndpointStatus: 'Failed', FailureReason: 'disk full' });
    const out = await handler({ ...base, action: 'start', pollSeconds: 1 });
    expect(out).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/is Failed \(disk full\)/) });
    expect(sagemaker.commandCalls(UpdateEndpointCommand)).toHaveLength(0);
  });

  it('refuses to start without the plan the approver saw, and gives the candidate no traffic', async () => {
    bucket.put(`reports/delivery-time/${VERSION}/quality-report.json`, { evaluation: { metrics: { rmse: 1.1 } } });
    await expect(handler({ ...base, action: 'start', pollSeconds: 1 })).rejects.toThrow(/quality-report\.json has no A\/B plan/);
    expect(sagemaker.commandCalls(UpdateEndpointCommand)).toHaveLength(0);
  });

  it('skips a first release, saying why, without touching an endpoint', async () => {
    bucket.objects.delete('mlship-artifacts/registry/delivery-time/production.json');
    const out = await handler({ ...base, action: 'start', pollSeconds: 1 });
    expect(out).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/^first release/) });
    expect(bucket.json<VersionRecord>(versionKey).ab).toMatchObject({ verdict: 'skipped' });
    expect(sagemaker.commandCalls(UpdateEndpointCommand)).toHaveLength(0);
  });

  it('only counts while the arms are short of n: no verdict and no report before the horizon (no peeking)', async () => {
    // The candidate variant is on the endpoint
    sagemaker
      .on(DescribeEndpointCommand)
      .resolves({ EndpointName: PRODUCTION, EndpointConfigName: AB_CONFIG, EndpointStatus: 'InService' });
    bucket.put(
      versionKey,
      versionRecord({
        manifest: abManifest(),
        ab: { verdict: 'running', reasons: [], plan, startedAt: '2026-11-27T00:59:00.000Z', reportUri: null } as never,
      }),
    );
    bucket.put(`capture/delivery-time/${PRODUCTION}/AllTraffic/2026/11/27/00/a.jsonl`, line('a', 1));
    bucket.put(`capture/delivery-time/${PRODUCTION}/Candidate/2026/11/27/00/b.jsonl`, line('b', 50));
    bucket.put(
      'ground-truth/delivery-time/2026/11/27/00/labels.jsonl',
      ['a', 'b']
        .map((id) => JSON.stringify({ groundTruthData: { data: '1', encoding: 'CSV' }, eventMetadata: { eventId: id }, eventVersion: '0' }))
        .join('\n'),
    );
    const out = await handler({ ...base, action: 'check', placement, startedAt: '2026-11-27T00:59:00.000Z' });
    expect(out).toMatchObject({ status: 'collecting', verdict: null, labelled: { production: 1, candidate: 1 } });
    expect(bucket.has(`reports/delivery-time/${VERSION}/ab.json`)).toBe(false);
    expect(sagemaker.commandCalls(UpdateEndpointCommand)).toHaveLength(0);
  });

  it("compares the arms over the same time: production's requests before the candidate's first answer are not counted", async () => {
    // The candidate variant is on the endpoint
    sagemaker
      .on(DescribeEndpointCommand)
      .resolves({ EndpointName: PRODUCTION, EndpointConfigName: AB_CONFIG, EndpointStatus: 'InService' });
    bucket.put(
      versionKey,
      versionRecord({
        manifest: abManifest(),
        ab: { verdict: 'running', reasons: [], plan, startedAt: '2026-11-27T00:59:00.000Z', reportUri: null } as never,
      }),
    );
    // Production alone until the candidate's fleet came into service at 00:59:30
    bucket.put(
      `capture/delivery-time/${PRODUCTION}/AllTraffic/2026/11/27/00/a.jsonl`,
      [line('a1', 1, '2026-11-27T00:59:05Z'), line('a2', 1, '2026-11-27T00:59:40Z'), line('a3', 1, '2026-11-27T00:59:50Z')].join('\n'),
    );
    bucket.put(`capture/delivery-time/${PRODUCTION}/Candidate/2026/11/27/00/b.jsonl`, line('b', 1, '2026-11-27T00:59:30Z'));
    bucket.put(
      'ground-truth/delivery-time/2026/11/27/00/labels.jsonl',
      ['a1', 'a2', 'a3', 'b']
        .map((id) => JSON.stringify({ groundTruthData: { data: '1', encoding: 'CSV' }, eventMetadata: { eventId: id }, eventVersion: '0' }))
        .join('\n'),
    );
    const out = await handler({ ...base, action: 'check', placement, startedAt: '2026-11-27T00:59:00.000Z' });
    expect(out).toMatchObject({ status: 'collecting', labelled: { production: 2, candidate: 1 } });
  });

  it('fails at once, and never promotes, when the candidate variant is not on the endpoint (the update to it failed and SageMaker went back)', async () => {
    bucket.put(
      versionKey,
      versionRecord({
        manifest: abManifest({ onTimeout: 'promote' }),
        ab: { verdict: 'running', reasons: [], plan, startedAt: '2026-11-27T00:59:00.000Z', reportUri: null } as never,
      }),
    );
    sagemaker.on(DescribeEndpointCommand).resolves({
      EndpointName: PRODUCTION,
      EndpointConfigName: PROD_CONFIG,
      EndpointStatus: 'InService',
      FailureReason: 'the candidate failed its health check',
    });
    const out = await handler({ ...base, action: 'check', placement, startedAt: '2026-11-27T00:59:00.000Z' });
    expect(out).toMatchObject({ status: 'done', verdict: 'fail', proceed: false });
    expect((out as { reason: string }).reason).toMatch(/the candidate variant is not on .* \(the candidate failed its health check\)/);
  });

  it('keeps the recorded verdict on the checks that wait for the removal: the endpoint back on production is not a missing candidate', async () => {
    // Prepare: an earlier check gave insufficient-data at maxDuration and asked for the removal, which has finished
    const reason = '3 / 2 labelled requests (production / candidate) after 3600 s, fewer than the 30 per arm';
    bucket.put(
      versionKey,
      versionRecord({
        manifest: abManifest({ maxDuration: '1h', onTimeout: 'promote' }),
        ab: {
          verdict: 'insufficient-data',
          reasons: [reason],
          plan,
          startedAt: '2026-11-26T23:00:00.000Z',
          reportUri: 's3://mlship-artifacts/reports/delivery-time/abcdef1-0a0b/ab.json',
        } as never,
      }),
    );
    bucket.put(`reports/delivery-time/${VERSION}/ab.json`, {
      verdict: 'insufficient-data',
      reason,
      labelled: { production: 3, candidate: 2 },
    });

    // Act: the endpoint serves production's config again (the default mock)
    const out = await handler({ ...base, action: 'check', placement, startedAt: '2026-11-26T23:00:00.000Z' });

    // Assess
    expect(out).toMatchObject({
      status: 'done',
      verdict: 'insufficient-data',
      proceed: true,
      reason,
      labelled: { production: 3, candidate: 2 },
    });
  });

  it.each([
    ['rollback', false],
    ['promote', true],
  ] as const)(
    'out of time with onTimeout %s: insufficient-data, proceed %s, the candidate variant taken off',
    async (onTimeout, proceed) => {
      // Prepare: started two hours ago with maxDuration 1h, the endpoint on the A/B config, then back on production's
      bucket.put(
        versionKey,
        versionRecord({
          manifest: abManifest({ maxDuration: '1h', onTimeout }),
          ab: { verdict: 'running', reasons: [], plan, startedAt: '2026-11-26T23:00:00.000Z', reportUri: null } as never,
        }),
      );
      sagemaker
        .on(DescribeEndpointCommand)
        .resolvesOnce({ EndpointName: PRODUCTION, EndpointConfigName: AB_CONFIG, EndpointStatus: 'InService' })
        .resolvesOnce({ EndpointName: PRODUCTION, EndpointConfigName: AB_CONFIG, EndpointStatus: 'InService' })
        .resolves({ EndpointName: PRODUCTION, EndpointConfigName: PROD_CONFIG, EndpointStatus: 'InService' });
      sagemaker.on(UpdateEndpointCommand).resolves({});

      // Act
      const out = await handler({ ...base, action: 'check', placement, startedAt: '2026-11-26T23:00:00.000Z' });

      // Assess
      expect(out).toMatchObject({ status: 'done', verdict: 'insufficient-data', proceed });
      expect((out as { reason: string }).reason).toMatch(
        new RegExp(`fewer than the 30 per arm .*experiment\\.ab\\.onTimeout is ${onTimeout}`),
      );
      // Back to production's variant alone: again SageMaker's default update (the variant names differ)
      expect(sagemaker.commandCalls(UpdateEndpointCommand)[0]!.args[0].input).toEqual({
        EndpointName: PRODUCTION,
        EndpointConfigName: PROD_CONFIG,
      });
      expect(bucket.json<VersionRecord>(versionKey).ab).toMatchObject({
        verdict: 'insufficient-data',
        reportUri: expect.stringMatching(/ab\.json$/),
      });
    },
  );

  it("removes this release's candidate variant when the release ends, and nothing that is not its own", async () => {
    sagemaker.on(UpdateEndpointCommand).resolves({});
    expect(await handler({ ...base, action: 'stop' })).toMatchObject({ action: 'absent' });
    sagemaker
      .on(DescribeEndpointCommand)
      .resolves({ EndpointName: PRODUCTION, EndpointConfigName: AB_CONFIG, EndpointStatus: 'InService' });
    expect(await handler({ ...base, action: 'stop' })).toMatchObject({ action: 'removed' });
    expect(sagemaker.commandCalls(UpdateEndpointCommand)).toHaveLength(1);
  });
});
