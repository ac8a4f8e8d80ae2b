import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudWatchClient, GetMetricDataCommand, type MetricDataQuery, type MetricDataResult } from '@aws-sdk/client-cloudwatch';
import { Edge } from '../../../lib/local/core/edge';
import { createCloudWatchService } from '../../../lib/local/services/cloudwatch';
import { LocalSns } from '../../../lib/local/services/sns';
import { InvocationSeries } from '../../../lib/local/services/sagemaker/metric-series';
import { awsCli, hasAwsCli } from '../aws-cli';
import { clientConfig } from '../helpers';

/**
 * CloudWatch GetMetricData on the local edge, as the console and the shadow comparison read
 * SageMaker's per-variant metrics: through the SDK (AWS JSON 1.0) and Debian's aws CLI (query
 * protocol), over the endpoint host's per-minute series.
 */
const MINUTE = 60_000;
const ENDPOINT = 'mlship-tiny-production';
/** Two whole minutes, ten minutes ago: inside "the last hour", aligned as CloudWatch aligns periods. */
const T0 = Math.floor(Date.now() / MINUTE) * MINUTE - 10 * MINUTE;

let clock = T0;
const series = new InvocationSeries(MINUTE, () => clock);
let edge: Edge;
let endpoint: string;
let client: CloudWatchClient;
const dir = mkdtempSync(join(tmpdir(), 'mlship-cloudwatch-'));

const stat = (id: string, metricName: string, stat: string, variant = 'AllTraffic', period = 60): MetricDataQuery => ({
  Id: id,
  MetricStat: {
    Metric: {
      Namespace: 'AWS/SageMaker',
      MetricName: metricName,
      Dimensions: [
        { Name: 'EndpointName', Value: ENDPOINT },
        { Name: 'VariantName', Value: variant },
      ],
    },
    Period: period,
    Stat: stat,
  },
});

beforeAll(async () => {
  // Minute T0: AllTraffic 8 × 200 at 10 ms, 1 × 400 at 10 ms, 2 × 500 at 30 ms; minute T0+1: 4 × 200 at 20 ms, and 3 shadow copies.
  for (let i = 0; i < 8; i++) series.record('AllTraffic', 200, 10);
  series.record('AllTraffic', 400, 10);
  series.record('AllTraffic', 500, 30);
  series.record('AllTraffic', 500, 30);
  clock = T0 + MINUTE + 5_000;
  for (let i = 0; i < 4; i++) series.record('AllTraffic', 200, 20);
  for (let i = 0; i < 3; i++) series.record('Shadow', 200, 40);
  const cloudWatch = createCloudWatchService({
    sageMakerMetrics: (name, variant, startMs, endMs) => (name === ENDPOINT ? series.window([variant], startMs, endMs) : undefined),
  });
  edge = new Edge({
    port: 0,
    services: [cloudWatch],
    cloudWatch,
    s3Url: 'http://127.0.0.1:9',
    sns: new LocalSns(join(dir, 'notifications.jsonl'), []),
  });
  endpoint = `http://127.0.0.1:${await edge.listen()}`;
  client = new CloudWatchClient(clientConfig(endpoint));
});

afterAll(async () => {
  client?.destroy();
  await edge?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('Operation: CloudWatch GetMetricData (local cloud)', () => {
  it('answers the SDK per minute and variant: invocations, 4xx/5xx sums, error rate, latency average/p50/p99 in microseconds', async () => {
    // Act
    const out = await client.send(
      new GetMetricDataCommand({
        StartTime: new Date(T0 - 5 * MINUTE),
        EndTime: new Date(T0 + 5 * MINUTE),
        ScanBy: 'TimestampAscending',
        MetricDataQueries: [
          stat('inv', 'Invocations', 'Sum'),
          stat('e4', 'Invocation4XXErrors', 'Sum'),
          stat('e5', 'Invocation5XXErrors', 'Sum'),
          stat('rate5', 'Invocation5XXErrors', 'Average'),
          stat('avg', 'ModelLatency', 'Average'),
          stat('p50', 'ModelLatency', 'p50'),
          stat('p99', 'ModelLatency', 'p99'),
          stat('shadow', 'Invocations', 'Sum', 'Shadow'),
          stat('none', 'Invocations', 'Sum', 'NoSuchVariant'),
        ],
      }),
    );

    // Assess
    const byId: Record<string, MetricDataResult> = Object.fromEntries((out.MetricDataResults ?? []).map((r) => [r.Id, r]));
    expect(byId.inv!.Timestamps!.map((t) => t.getTime())).toEqual([T0, T0 + MINUTE]);
    expect(byId.inv!.Values).toEqual([11, 4]);
    expect(byId.inv!.StatusCode).toBe('Complete');
    expect(byId.e4!.Values).toEqual([1, 0]);
    expect(byId.e5!.Values).toEqual([2, 0]);
    expect(byId.rate5!.Values![0]).toBeCloseTo(2 / 11, 9);
    expect(byId.avg!.Values![0]).toBeCloseTo(((9 * 10 + 2 * 30) / 11) * 1000, 6);
    expect(byId.avg!.Values![1]).toBeCloseTo(20_000, 6);
    // The host's histogram is within 5 % (metrics.ts); CloudWatch's percentiles are estimates too.
    expect(byId.p50!.Values![0]! / 10_000).toBeGreaterThanOrEqual(1);
    expect(byId.p50!.Values![0]! / 10_000).toBeLessThan(1.05);
    expect(byId.p99!.Values![0]! / 30_000).toBeGreaterThanOrEqual(1);
    expect(byId.p99!.Values![0]! / 30_000).toBeLessThan(1.05);
    expect(byId.shadow!.Values).toEqual([3]);
    expect(byId.shadow!.Timestamps!.map((t) => t.getTime())).toEqual([T0 + MINUTE]);
    expect(byId.none!.Values).toEqual([]);
  });

  it('sums a whole window in one period, newest first by default, as the console asks for the last hour', async () => {
    // Act
    const out = await client.send(
      new GetMetricDataCommand({
        StartTime: new Date(T0 - 30 * MINUTE),
        EndTime: new Date(T0 + 30 * MINUTE),
        MetricDataQueries: [stat('inv', 'Invocations', 'Sum', 'AllTraffic', 3600), stat('p', 'Invocations', 'Sum', 'AllTraffic', 600)],
      }),
    );

    // Assess
    const [hour, tens] = out.MetricDataResults!;
    expect(hour!.Values).toEqual([15]);
    expect(hour!.Timestamps!.map((t) => t.getTime())).toEqual([T0 - 30 * MINUTE]);
    expect(tens!.Values).toEqual([15]);
    expect(tens!.Timestamps!.map((t) => t.getTime())).toEqual([T0 - 30 * MINUTE + 3 * 600_000]);

    // And newest first when the periods are minutes (ScanBy's default, TimestampDescending)
    const minutes = await client.send(
      new GetMetricDataCommand({
        StartTime: new Date(T0),
        EndTime: new Date(T0 + 2 * MINUTE),
        MetricDataQueries: [stat('inv', 'Invocations', 'Sum')],
      }),
    );
    expect(minutes.MetricDataResults![0]!.Timestamps!.map((t) => t.getTime())).toEqual([T0 + MINUTE, T0]);
    expect(minutes.MetricDataResults![0]!.Values).toEqual([4, 11]);
  });

  it("refuses a request that breaks CloudWatch's model, naming the member", async () => {
    // Act
    const refused = client.send(
      new GetMetricDataCommand({
        StartTime: new Date(T0),
        EndTime: new Date(T0 + MINUTE),
        MetricDataQueries: [stat('inv', 'Invocations', 'Sum', 'AllTraffic', 0)],
      }),
    );

    // Assess
    await expect(refused).rejects.toMatchObject({
      $metadata: { httpStatusCode: 400 },
      message: expect.stringMatching(/'metricDataQueries\.1\.member\.metricStat\.period' failed to satisfy constraint/),
    });
  });

  it('refuses a metric math expression with a clear error (the local cloud serves metric queries only)', async () => {
    // Act
    const refused = client.send(
      new GetMetricDataCommand({
        StartTime: new Date(T0),
        EndTime: new Date(T0 + MINUTE),
        MetricDataQueries: [stat('inv', 'Invocations', 'Sum'), { Id: 'rate', Expression: 'inv / 60' }],
      }),
    );

    // Assess
    await expect(refused).rejects.toThrow(/MetricDataQueries\[1\]\.Expression/);
  });

  it.skipIf(!hasAwsCli)('answers `aws cloudwatch get-metric-data` (the query protocol Debian’s aws CLI speaks)', async () => {
    // Prepare
    const file = join(dir, 'queries.json');
    writeFileSync(
      file,
      JSON.stringify([stat('inv', 'Invocations', 'Sum', 'AllTraffic', 600), stat('p99', 'ModelLatency', 'p99', 'AllTraffic', 600)]),
    );

    // Act
    const out = await awsCli(
      endpoint,
      'cloudwatch',
      'get-metric-data',
      '--metric-data-queries',
      `file://${file}`,
      '--start-time',
      new Date(T0).toISOString(),
      '--end-time',
      new Date(T0 + 10 * MINUTE).toISOString(),
    );

    // Assess
    expect(out.code, out.err).toBe(0);
    const [inv, p99] = out.json.MetricDataResults;
    expect(inv).toMatchObject({ Id: 'inv', StatusCode: 'Complete', Values: [15] });
    expect(new Date(inv.Timestamps[0]).getTime()).toBe(T0);
    expect(p99.Values[0] / 30_000).toBeGreaterThanOrEqual(1);
    expect(p99.Values[0] / 30_000).toBeLessThan(1.05);
  });
});
