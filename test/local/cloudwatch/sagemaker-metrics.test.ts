import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { Edge } from '../../../lib/local/core/edge';
import { createCloudWatchService } from '../../../lib/local/services/cloudwatch';
import { LocalSns } from '../../../lib/local/services/sns';
import { clientConfig, eventually } from '../helpers';
import { startCloud, type Cloud } from '../sagemaker/setup';

/**
 * GetMetricData over a real endpoint host: a production variant and a shadow variant (100 % of
 * requests copied), as the shadow comparison reads both. Written after the service (an
 * integration check of the wiring, not failing-first).
 */
let cloud: Cloud;
let edge: Edge;
let cw: CloudWatchClient;
const ENDPOINT = 'ep-shadow-metrics';

beforeAll(async () => {
  cloud = await startCloud({ ok: { mode: 'ok' } });
  await cloud.sagemaker.handle('CreateModel', {
    ModelName: 'm-metrics',
    PrimaryContainer: { Image: cloud.images.ok },
    ExecutionRoleArn: 'arn:aws:iam::000000000000:role/sm',
  });
  const variant = (VariantName: string, InitialVariantWeight = 1) => ({
    VariantName,
    ModelName: 'm-metrics',
    InitialInstanceCount: 1,
    InstanceType: 'ml.m5.large',
    InitialVariantWeight,
  });
  await cloud.sagemaker.handle('CreateEndpointConfig', {
    EndpointConfigName: 'ec-metrics',
    ProductionVariants: [variant('AllTraffic')],
    ShadowProductionVariants: [variant('Shadow')],
  });
  await cloud.sagemaker.handle('CreateEndpoint', { EndpointName: ENDPOINT, EndpointConfigName: 'ec-metrics' });
  await cloud.sagemaker.waitForEndpoint(ENDPOINT);
  const cloudWatch = createCloudWatchService({ sageMakerMetrics: (...args) => cloud.sagemaker.metricWindow(...args) });
  edge = new Edge({
    port: 0,
    services: [cloudWatch],
    cloudWatch,
    s3Url: 'http://127.0.0.1:9',
    sns: new LocalSns(join(cloud.dataDir, 'n.jsonl'), []),
  });
  cw = new CloudWatchClient(clientConfig(`http://127.0.0.1:${await edge.listen()}`));
}, 240_000);

afterAll(async () => {
  cw?.destroy();
  await edge?.close();
  await cloud?.close();
});

describe('Operation: CloudWatch GetMetricData over the SageMaker endpoint host', () => {
  it('counts the production and the shadow variant of an endpoint separately', async () => {
    // Prepare: 12 requests, each copied to the shadow
    const body = Buffer.from(JSON.stringify({ instances: [{ x: 1, y: 2 }] }));
    for (let i = 0; i < 12; i++)
      await cloud.sagemaker.runtime.invokeEndpoint({ endpointName: ENDPOINT, body, contentType: 'application/json' });
    const read = async () => {
      const end = Date.now() + 60_000;
      const out = await cw.send(
        new GetMetricDataCommand({
          StartTime: new Date(end - 3_600_000),
          EndTime: new Date(end),
          MetricDataQueries: ['AllTraffic', 'Shadow'].map((variant, i) => ({
            Id: `inv${i}`,
            MetricStat: {
              Metric: {
                Namespace: 'AWS/SageMaker',
                MetricName: 'Invocations',
                Dimensions: [
                  { Name: 'EndpointName', Value: ENDPOINT },
                  { Name: 'VariantName', Value: variant },
                ],
              },
              Period: 3600,
              Stat: 'Sum',
            },
          })),
        }),
      );
      return out.MetricDataResults!.map((r) => (r.Values ?? []).reduce((s, v) => s + v, 0));
    };

    // Act: the copies to the shadow are asynchronous; wait until all 12 landed
    const [production, shadow] = await eventually(async () => {
      const sums = await read();
      return sums[1] === 12 ? sums : undefined;
    });

    // Assess
    expect(production).toBe(12);
    expect(shadow).toBe(12);
  });
});
