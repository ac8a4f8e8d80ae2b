import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRICS, METRICS_NAMESPACE, METRICS_SERVICE_NAME, type MetricKey } from '../../lib/metrics';
import { logger } from './logger';

/**
 * mlship's custom metrics (lib/metrics.ts is their record), written with Powertools Metrics
 * as CloudWatch embedded metric format (EMF) lines on stdout, which Lambda's log stream turns
 * into metrics with no API call and no extra IAM. The dashboard (lib/infra/constructs/
 * model-dashboard.ts) finds them by SEARCH.
 *
 * Only Lambda turns stdout into metrics, so unless `POWERTOOLS_METRICS_DISABLED` says
 * otherwise they are written on Lambda only: elsewhere (the local cloud, the CLI deciding
 * in-process in tests, scripts) EMF lines would only land in someone's output. The local cloud
 * also sets `POWERTOOLS_METRICS_DISABLED=true` for its tasks; `false` shows the lines anywhere.
 */
export const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: METRICS_SERVICE_NAME });

type DimensionsOf<K extends MetricKey> = Record<(typeof METRICS)[K]['dimensions'][number], string>;

/**
 * Emit one value of a metric with its dimensions, as its own EMF line (so metrics with other
 * dimensions never share a line). A metric is an observation, not part of the release: a
 * non-finite value is skipped and a failure is logged, never thrown.
 */
export function emitMetric<K extends MetricKey>(key: K, dimensions: DimensionsOf<K>, value: number): void {
  if (!Number.isFinite(value) || !metricsWanted()) return;
  const def = METRICS[key];
  try {
    const single = metrics.singleMetric();
    for (const name of def.dimensions) single.addDimension(name, (dimensions as Record<string, string>)[name]!);
    single.addMetric(def.name, def.unit satisfies (typeof MetricUnit)[keyof typeof MetricUnit], value);
  } catch (err) {
    logger.warn('metric not emitted', { metric: def.name, error: (err as Error).message });
  }
}

/** Whether EMF has somewhere to go: an explicit POWERTOOLS_METRICS_DISABLED (Powertools applies it), else on Lambda only. */
function metricsWanted(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.POWERTOOLS_METRICS_DISABLED !== undefined || Boolean(env.AWS_LAMBDA_FUNCTION_NAME);
}
