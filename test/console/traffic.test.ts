import { CloudWatchClient, GetMetricDataCommand, type GetMetricDataCommandInput, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { resolveTarget } from '../../lib/console/target';
import { cloudWatchTraffic, modelTraffic } from '../../lib/console/traffic';

/**
 * The model page's live traffic read from CloudWatch (AWS/SageMaker per EndpointName + VariantName),
 * as the console does on AWS with the user's credentials and locally through the edge.
 */
const cw = mockClient(CloudWatchClient);
const NOW = Date.parse('2026-12-06T19:30:20Z');
/** What CloudWatch holds for the last hour, per endpoint, variant and metric/statistic. */
const HELD: Record<string, Record<string, Record<string, number>>> = {
  'mlship-tiny-production': {
    AllTraffic: {
      'Invocations/Sum': 120,
      'Invocation4XXErrors/Sum': 4,
      'Invocation5XXErrors/Sum': 2,
      'ModelLatency/p50': 12_500,
      'ModelLatency/p99': 80_000,
    },
    Shadow: {
      'Invocations/Sum': 40,
      'Invocation4XXErrors/Sum': 0,
      'Invocation5XXErrors/Sum': 1,
      'ModelLatency/p50': 9_000,
      'ModelLatency/p99': 30_000,
    },
  },
};

function answer(input: GetMetricDataCommandInput) {
  return {
    MetricDataResults: (input.MetricDataQueries ?? []).map((q: MetricDataQuery) => {
      const dims = Object.fromEntries((q.MetricStat!.Metric!.Dimensions ?? []).map((d) => [d.Name, d.Value]));
      const value = HELD[dims.EndpointName!]?.[dims.VariantName!]?.[`${q.MetricStat!.Metric!.MetricName}/${q.MetricStat!.Stat}`];
      return {
        Id: q.Id,
        StatusCode: 'Complete' as const,
        Timestamps: value === undefined ? [] : [input.StartTime as Date],
        Values: value === undefined ? [] : [value],
      };
    }),
  };
}

afterEach(() => cw.reset());
afterAll(() => cw.restore());

describe('Function: cloudWatchTraffic', () => {
  it('reads invocations, 4xx/5xx, error rate and p50/p99 per variant (production and shadow) over the last hour', async () => {
    // Prepare
    cw.on(GetMetricDataCommand).callsFake(answer);
    const read = cloudWatchTraffic(
      new CloudWatchClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }),
      () => NOW,
    );

    // Act
    const rows = await read('mlship-tiny-production');

    // Assess
    expect(rows).toEqual([
      {
        endpointName: 'mlship-tiny-production',
        variant: 'AllTraffic',
        invocations: 120,
        errors4xx: 4,
        errors5xx: 2,
        errorRate: 0.05,
        p50Ms: 12.5,
        p99Ms: 80,
      },
      {
        endpointName: 'mlship-tiny-production',
        variant: 'Shadow',
        invocations: 40,
        errors4xx: 0,
        errors5xx: 1,
        errorRate: 0.025,
        p50Ms: 9,
        p99Ms: 30,
      },
    ]);
    const [call] = cw.commandCalls(GetMetricDataCommand);
    const input = call!.args[0].input;
    // One period of an hour ending at the next whole minute: a single data point per query.
    expect(input.EndTime).toEqual(new Date('2026-12-06T19:31:00Z'));
    expect(input.StartTime).toEqual(new Date('2026-12-06T18:31:00Z'));
    for (const q of input.MetricDataQueries!) {
      expect(q.MetricStat!.Period).toBe(3600);
      expect(q.MetricStat!.Metric!.Namespace).toBe('AWS/SageMaker');
      expect(q.MetricStat!.Metric!.Dimensions!.map((d) => d.Name)).toEqual(['EndpointName', 'VariantName']);
    }
  });

  it('lists no variant of an endpoint without traffic in the last hour', async () => {
    // Prepare
    cw.on(GetMetricDataCommand).callsFake(answer);

    // Act
    const rows = await cloudWatchTraffic(new CloudWatchClient({ region: 'us-east-1' }), () => NOW)('mlship-tiny-staging');

    // Assess
    expect(rows).toEqual([]);
  });
});

describe('Function: modelTraffic (AWS target)', () => {
  it("reads the model's production and staging endpoints from CloudWatch with the user's credentials", async () => {
    // Prepare
    cw.on(GetMetricDataCommand).callsFake(answer);
    const target = resolveTarget({ aws: true, region: 'us-east-1', bucket: 'b' }, {});

    // Act
    const traffic = await modelTraffic(target, 'tiny');

    // Assess
    expect(traffic.note).toBeUndefined();
    expect(traffic.variants.map((v) => [v.endpointName, v.variant, v.invocations])).toEqual([
      ['mlship-tiny-production', 'AllTraffic', 120],
      ['mlship-tiny-production', 'Shadow', 40],
    ]);
    const endpoints = cw
      .commandCalls(GetMetricDataCommand)
      .flatMap((c) => c.args[0].input.MetricDataQueries!.map((q) => q.MetricStat!.Metric!.Dimensions![0]!.Value));
    expect(new Set(endpoints)).toEqual(new Set(['mlship-tiny-production', 'mlship-tiny-staging']));
  });

  it('names the CloudWatch failure on the page instead of failing it', async () => {
    // Prepare
    cw.on(GetMetricDataCommand).rejects(
      Object.assign(new Error('User is not authorized to perform: cloudwatch:GetMetricData'), { name: 'AccessDenied' }),
    );
    const target = resolveTarget({ aws: true, region: 'us-east-1', bucket: 'b' }, {});

    // Act
    const traffic = await modelTraffic(target, 'tiny');

    // Assess
    expect(traffic.variants).toEqual([]);
    expect(traffic.note).toMatch(/cannot read live traffic: .*cloudwatch:GetMetricData/);
  });
});
