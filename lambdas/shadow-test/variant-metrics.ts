import { paginateGetMetricData, type CloudWatchClient, type MetricDataQuery, type MetricDataResult } from '@aws-sdk/client-cloudwatch';
import type { VariantMetrics, VariantTraffic } from '../ml/shadow';

export type { VariantMetrics, VariantTraffic };

/**
 * Latency and error rate per variant (production and shadow) over the shadow stage's window,
 * from what SageMaker publishes to CloudWatch (namespace AWS/SageMaker, dimensions EndpointName
 * and VariantName; a shadow variant publishes under its own VariantName). The local cloud serves
 * GetMetricData from the endpoint host's own per-variant counts.
 *
 * The read never fails the stage: a failed call, a query CloudWatch could not answer and a
 * window without datapoints all give `available: false` with the reason, which the report and
 * the approval page show instead of the figures.
 */

const NAMESPACE = 'AWS/SageMaker';
/** Per variant: query id suffix -> metric and statistic. */
const QUERIES = {
  inv: { metric: 'Invocations', stat: 'Sum' },
  e4: { metric: 'Invocation4XXErrors', stat: 'Sum' },
  e5: { metric: 'Invocation5XXErrors', stat: 'Sum' },
  p50: { metric: 'ModelLatency', stat: 'p50' },
  p99: { metric: 'ModelLatency', stat: 'p99' },
} as const;
type QueryKey = keyof typeof QUERIES;

/**
 * The window as CloudWatch takes it: whole minutes (standard-resolution metrics), one period
 * spanning all of it, so each statistic comes back as one datapoint over the whole window
 * (a p99 of per-minute p99s would not be the window's p99).
 */
export function metricWindow(from: number, to: number): { start: Date; end: Date; periodSeconds: number } {
  const minute = 60_000;
  const start = Math.floor(from / minute) * minute;
  const end = Math.max(start + minute, Math.ceil(to / minute) * minute);
  return { start: new Date(start), end: new Date(end), periodSeconds: (end - start) / 1000 };
}

function queries(endpointName: string, variants: string[], periodSeconds: number): MetricDataQuery[] {
  return variants.flatMap((variant, v) =>
    (Object.keys(QUERIES) as QueryKey[]).map((key) => ({
      Id: `${key}_${v}`,
      ReturnData: true,
      MetricStat: {
        Metric: {
          Namespace: NAMESPACE,
          MetricName: QUERIES[key].metric,
          Dimensions: [
            { Name: 'EndpointName', Value: endpointName },
            { Name: 'VariantName', Value: variant },
          ],
        },
        Period: periodSeconds,
        Stat: QUERIES[key].stat,
      },
    })),
  );
}

const errorText = (e: unknown) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));

/** Read Invocations, 4XX/5XX errors and ModelLatency p50/p99 of each variant of `endpointName` from `from` to `to` (epoch ms). */
export async function readVariantMetrics(
  cloudwatch: CloudWatchClient,
  input: { endpointName: string; variants: string[]; from: number; to: number },
): Promise<VariantMetrics> {
  const { start, end, periodSeconds } = metricWindow(input.from, input.to);
  const results = new Map<string, MetricDataResult>();
  try {
    const pages = paginateGetMetricData(
      { client: cloudwatch },
      { StartTime: start, EndTime: end, MetricDataQueries: queries(input.endpointName, input.variants, periodSeconds) },
    );
    for await (const page of pages)
      for (const r of page.MetricDataResults ?? []) {
        const seen = results.get(r.Id ?? '');
        results.set(r.Id ?? '', { ...r, Values: [...(seen?.Values ?? []), ...(r.Values ?? [])] });
      }
  } catch (e) {
    return { available: false, reason: `CloudWatch GetMetricData for ${input.endpointName} failed: ${errorText(e)}` };
  }
  const failed = [...results.values()].find((r) => r.StatusCode === 'Forbidden' || r.StatusCode === 'InternalError');
  if (failed)
    return {
      available: false,
      reason: `CloudWatch could not answer ${failed.Label ?? failed.Id} for ${input.endpointName}: ${failed.StatusCode}${
        failed.Messages?.length ? ` (${failed.Messages.map((m) => m.Value).join('; ')})` : ''
      }`,
    };
  const value = (key: QueryKey, v: number) => results.get(`${key}_${v}`)?.Values?.[0];
  if (value('inv', 0) === undefined)
    return {
      available: false,
      reason: `CloudWatch has no ${NAMESPACE} Invocations of ${input.endpointName} variant ${input.variants[0]} from ${start.toISOString()} to ${end.toISOString()} (SageMaker publishes per minute, about a minute late)`,
    };
  const variants = input.variants.map((variant, v): VariantTraffic => {
    const invocations = value('inv', v) ?? 0;
    const errors4xx = value('e4', v) ?? 0;
    const errors5xx = value('e5', v) ?? 0;
    const ms = (key: 'p50' | 'p99') => {
      const us = value(key, v);
      return us === undefined ? null : us / 1000;
    };
    return {
      variant,
      invocations,
      errors4xx,
      errors5xx,
      errorRate: invocations > 0 ? (errors4xx + errors5xx) / invocations : null,
      latencyP50Ms: ms('p50'),
      latencyP99Ms: ms('p99'),
    };
  });
  return { available: true, from: start.toISOString(), to: end.toISOString(), periodSeconds, variants };
}
