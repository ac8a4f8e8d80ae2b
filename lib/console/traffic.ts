/**
 * Live traffic per variant of a model's endpoints: invocations, error rate, p50/p99 latency.
 * Locally from the endpoint host's counters (the local cloud's `/_mlship/endpoint-metrics`,
 * lib/local/cloud.ts); on AWS these are CloudWatch's AWS/SageMaker metrics, which this
 * console does not read yet (it would need @aws-sdk/client-cloudwatch and
 * cloudwatch:GetMetricData in the approver policy).
 */
import * as z from 'zod';
import { endpointName } from '../../lambdas/shared/names';

const variantsSchema = z.object({
  variants: z.array(
    z.looseObject({
      configName: z.string(),
      variant: z.string(),
      share: z.number(),
      metrics: z.looseObject({
        invocations: z.number(),
        errors4xx: z.number(),
        errors5xx: z.number(),
        p50Ms: z.number(),
        p99Ms: z.number(),
      }),
    }),
  ),
});

export interface VariantTraffic {
  endpointName: string;
  /** The endpoint config the variant belongs to: during a blue/green update, old and new fleet. */
  configName: string;
  variant: string;
  /** Percent of the endpoint's traffic this fleet takes. */
  share: number;
  invocations: number;
  errors4xx: number;
  errors5xx: number;
  /** (4xx + 5xx) / invocations; null without invocations. */
  errorRate: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
}

/** Reads the variants serving one endpoint. */
export type TrafficReader = (endpointName: string) => Promise<VariantTraffic[]>;

/** The local cloud's endpoint host, asked through its edge (loopback, JSON, as the decision route is). */
export function localTraffic(endpoint: string, fetchFn: typeof fetch = fetch): TrafficReader {
  return async (endpointName) => {
    const res = await fetchFn(new URL('/_mlship/endpoint-metrics', endpoint), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ endpointName }),
    });
    if (!res.ok) throw new Error(`endpoint metrics of ${endpointName}: HTTP ${res.status} ${(await res.text()).trim()}`);
    const parsed = variantsSchema.safeParse(await res.json());
    if (!parsed.success) throw new Error(`endpoint metrics of ${endpointName}: unexpected answer: ${parsed.error.issues[0]?.message}`);
    return parsed.data.variants.map((v) => ({
      endpointName,
      configName: v.configName,
      variant: v.variant,
      share: v.share,
      invocations: v.metrics.invocations,
      errors4xx: v.metrics.errors4xx,
      errors5xx: v.metrics.errors5xx,
      errorRate: v.metrics.invocations ? (v.metrics.errors4xx + v.metrics.errors5xx) / v.metrics.invocations : null,
      p50Ms: v.metrics.invocations ? v.metrics.p50Ms : null,
      p99Ms: v.metrics.invocations ? v.metrics.p99Ms : null,
    }));
  };
}

/** The model's production and staging endpoints' variants, or a note saying why there are none to show. */
export async function modelTraffic(
  target: { kind: 'local' | 'aws'; traffic?: TrafficReader },
  model: string,
): Promise<{ variants: VariantTraffic[]; note?: string }> {
  if (!target.traffic)
    return {
      variants: [],
      note:
        target.kind === 'aws'
          ? 'Live traffic on AWS is in CloudWatch (AWS/SageMaker Invocations, Invocation4XXErrors, Invocation5XXErrors, ModelLatency); this console does not read it yet.'
          : 'This target does not report live traffic.',
    };
  const read = target.traffic;
  const results = await Promise.allSettled((['production', 'staging'] as const).map((stage) => read(endpointName(model, stage))));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  return {
    variants: results.flatMap((r) => (r.status === 'fulfilled' ? r.value : [])),
    note: failed ? `cannot read live traffic: ${(failed.reason as Error).message}` : undefined,
  };
}
