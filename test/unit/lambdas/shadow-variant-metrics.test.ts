import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { metricWindow, readVariantMetrics } from '../../../lambdas/shadow-test/variant-metrics';

const cw = mockClient(CloudWatchClient);
const read = () =>
  readVariantMetrics(new CloudWatchClient({}), {
    endpointName: 'mlship-tiny-production',
    variants: ['AllTraffic', 'Shadow'],
    from: Date.parse('2026-11-27T00:58:20Z'),
    to: Date.parse('2026-11-27T01:01:10Z'),
  });

describe('Function: readVariantMetrics', () => {
  beforeEach(() => cw.reset());

  it('spans the whole minutes of the window with one period, so each percentile is the whole window’s', () => {
    expect(metricWindow(Date.parse('2026-11-27T00:58:20Z'), Date.parse('2026-11-27T01:01:10Z'))).toEqual({
      start: new Date('2026-11-27T00:58:00Z'),
      end: new Date('2026-11-27T01:02:00Z'),
      periodSeconds: 240,
    });
    // A window inside one minute still asks for a whole minute.
    expect(metricWindow(Date.parse('2026-11-27T00:58:00Z'), Date.parse('2026-11-27T00:58:00Z')).periodSeconds).toBe(60);
  });

  it('joins the pages of a paginated answer, and leaves the rate and latency of a variant without invocations empty', async () => {
    cw.on(GetMetricDataCommand)
      .resolvesOnce({
        MetricDataResults: [
          { Id: 'inv_0', StatusCode: 'Complete', Values: [10] },
          { Id: 'e5_0', StatusCode: 'Complete', Values: [1] },
        ],
        NextToken: 'more',
      })
      .resolvesOnce({ MetricDataResults: [{ Id: 'p99_0', StatusCode: 'Complete', Values: [2500] }] });
    const m = await read();
    expect(cw.commandCalls(GetMetricDataCommand)[1]!.args[0].input.NextToken).toBe('more');
    expect(m).toMatchObject({
      available: true,
      periodSeconds: 240,
      variants: [
        { variant: 'AllTraffic', invocations: 10, errors4xx: 0, errors5xx: 1, errorRate: 0.1, latencyP50Ms: null, latencyP99Ms: 2.5 },
        { variant: 'Shadow', invocations: 0, errorRate: null, latencyP99Ms: null },
      ],
    });
  });

  it('is not available, naming the metric and the status, when CloudWatch could not answer a query', async () => {
    cw.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Id: 'inv_0', StatusCode: 'Complete', Values: [10] },
        { Id: 'p99_1', Label: 'ModelLatency', StatusCode: 'Forbidden', Messages: [{ Code: 'Forbidden', Value: 'no access' }] },
      ],
    });
    expect(await read()).toEqual({
      available: false,
      reason: 'CloudWatch could not answer ModelLatency for mlship-tiny-production: Forbidden (no access)',
    });
  });
});
