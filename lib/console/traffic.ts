/**
 * Live traffic per variant of a model's endpoints over the last hour: invocations, 4xx/5xx,
 * error rate, p50/p99 latency. Read from CloudWatch's AWS/SageMaker metrics per EndpointName +
 * VariantName with GetMetricData, in both places: on AWS with the user's credentials (the
 * approver policy grants cloudwatch:GetMetricData), locally through the edge, whose CloudWatch
 * answers from the endpoint host's per-variant series (lib/local/services/cloudwatch/).
 */
import { GetMetricDataCommand, type CloudWatchClient, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { endpointName, VARIANT_NAME } from '../../lambdas/shared/names';

/** The window the page shows, as one CloudWatch period: a single data point per query. */
export const TRAFFIC_WINDOW_SECONDS = 3600;
/**
 * The variants an mlship endpoint can have: the production variant the deploy task names, and the
 * shadow variant the shadow stage adds (lambdas/shadow-test/endpoint.ts SHADOW_VARIANT; not
 * imported, as that module pulls in the SageMaker client).
 */
const VARIANTS = [VARIANT_NAME, 'Shadow'] as const;
const MINUTE_MS = 60_000;

export interface VariantTraffic {
  endpointName: string;
  variant: string;
  invocations: number;
  errors4xx: number;
  errors5xx: number;
  /** (4xx + 5xx) / invocations; null without invocations. */
  errorRate: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
}

/** Reads the variants of one endpoint that served in the window (none without traffic). */
export type TrafficReader = (endpointName: string) => Promise<VariantTraffic[]>;

/** Query ids (CloudWatch: a lower-case letter first) -> metric and statistic; ModelLatency is in microseconds. */
const QUERIES = {
  inv: ['Invocations', 'Sum'],
  e4: ['Invocation4XXErrors', 'Sum'],
  e5: ['Invocation5XXErrors', 'Sum'],
  p50: ['ModelLatency', 'p50'],
  p99: ['ModelLatency', 'p99'],
} as const;
type QueryKey = keyof typeof QUERIES;

/** GetMetricData through `client` (any CloudWatch: AWS, or the local cloud's edge); `now` for tests. */
export function cloudWatchTraffic(client: Pick<CloudWatchClient, 'send'>, now: () => number = Date.now): TrafficReader {
  return async (endpoint) => {
    // The hour up to the next whole minute: CloudWatch rounds StartTime down to the minute.
    const end = Math.ceil(now() / MINUTE_MS) * MINUTE_MS;
    const queries: MetricDataQuery[] = VARIANTS.flatMap((variant, i) =>
      Object.entries(QUERIES).map(([key, [metric, stat]]) => ({
        Id: `${key}_${i}`,
        MetricStat: {
          Metric: {
            Namespace: 'AWS/SageMaker',
            MetricName: metric,
            Dimensions: [
              { Name: 'EndpointName', Value: endpoint },
              { Name: 'VariantName', Value: variant },
            ],
          },
          Period: TRAFFIC_WINDOW_SECONDS,
          Stat: stat,
        },
      })),
    );
    const out = await client.send(
      new GetMetricDataCommand({
        StartTime: new Date(end - TRAFFIC_WINDOW_SECONDS * 1000),
        EndTime: new Date(end),
        MetricDataQueries: queries,
      }),
    );
    // One period: sum whatever points came back (a CloudWatch that split the hour still counts right for sums).
    const values = new Map((out.MetricDataResults ?? []).map((r) => [r.Id, r.Values ?? []]));
    const sum = (key: QueryKey, i: number) => (values.get(`${key}_${i}`) ?? []).reduce((s, v) => s + v, 0);
    const latest = (key: QueryKey, i: number) => {
      const v = values.get(`${key}_${i}`)?.[0];
      return v === undefined ? null : v / 1000;
    };
    return VARIANTS.flatMap((variant, i): VariantTraffic[] => {
      const invocations = sum('inv', i);
      if (!invocations) return [];
      const errors4xx = sum('e4', i);
      const errors5xx = sum('e5', i);
      return [
        {
          endpointName: endpoint,
          variant,
          invocations,
          errors4xx,
          errors5xx,
          errorRate: (errors4xx + errors5xx) / invocations,
          p50Ms: latest('p50', i),
          p99Ms: latest('p99', i),
        },
      ];
    });
  };
}

/** The model's production and staging endpoints' variants, or a note saying why there are none to show. */
export async function modelTraffic(
  target: { kind: 'local' | 'aws'; traffic?: TrafficReader },
  model: string,
): Promise<{ variants: VariantTraffic[]; note?: string }> {
  if (!target.traffic) return { variants: [], note: 'This target does not report live traffic.' };
  const read = target.traffic;
  const results = await Promise.allSettled((['production', 'staging'] as const).map((stage) => read(endpointName(model, stage))));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  return {
    variants: results.flatMap((r) => (r.status === 'fulfilled' ? r.value : [])),
    note: failed ? `cannot read live traffic: ${(failed.reason as Error).message}` : undefined,
  };
}
