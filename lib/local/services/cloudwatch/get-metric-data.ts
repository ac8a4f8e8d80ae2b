import { AwsServiceError } from '../../core/service';

/**
 * GetMetricData over the endpoint host's per-minute series: the SageMaker metrics AWS publishes
 * per EndpointName + VariantName in the `AWS/SageMaker` namespace. Written by hand because no
 * library serves CloudWatch's aggregation; what it answers:
 *
 * - Invocations, Invocation4XXErrors, Invocation5XXErrors: Sum, SampleCount (the invocations),
 *   and for the two error counts Average (the error rate, as SageMaker publishes 0/1 per call)
 * - ModelLatency in microseconds: Average, Sum, SampleCount and percentiles `pNN` (from the
 *   host's histogram, within 5 %, as CloudWatch's percentiles are estimates too)
 *
 * Periods start at StartTime rounded down to the minute (CloudWatch's rounding for data under
 * 15 days old) and step by Period seconds of the wall clock while they start before EndTime;
 * a period without invocations has no data point. Any other metric, namespace or dimension set
 * has no data (StatusCode Complete, no values), as CloudWatch answers a metric nobody published.
 */

/** One window of one variant's invocations: what the SageMaker service reports. */
export interface VariantWindow {
  invocations: number;
  errors4xx: number;
  errors5xx: number;
  /** Sum of the recorded latencies, ms. */
  latencySumMs: number;
  /** The latency below which `q` (0..1) of the invocations fall, ms. */
  quantile(q: number): number;
}

/** The variant's invocations in [startMs, endMs), or undefined without any. */
export type VariantMetricsSource = (endpointName: string, variantName: string, startMs: number, endMs: number) => VariantWindow | undefined;

export interface MetricDataResult {
  Id: string;
  Label: string;
  /** Epoch milliseconds; each protocol writes them its way. */
  Timestamps: number[];
  Values: number[];
  StatusCode: 'Complete';
}

type Dict = Record<string, unknown>;
const MINUTE_MS = 60_000;
/** GetMetricData's limit on the data points of one call (its MaxDatapoints default). */
const MAX_DATAPOINTS = 100_800;
const COUNTS: Record<string, keyof VariantWindow> = {
  Invocations: 'invocations',
  Invocation4XXErrors: 'errors4xx',
  Invocation5XXErrors: 'errors5xx',
};

const invalid = (message: string): AwsServiceError => new AwsServiceError('InvalidParameterValue', `GetMetricData: ${message}`);

/** A timestamp as either protocol sends it: epoch seconds (JSON) or ISO 8601 text (query). */
function timeOf(value: unknown, field: string): number {
  const ms = typeof value === 'number' ? value * 1000 : typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(ms)) throw invalid(`${field} is not a timestamp: ${JSON.stringify(value)}`);
  return ms;
}

/** The value of one statistic over a window, or undefined when the local cloud does not compute it (no data point). */
export function statistic(metricName: string, stat: string, w: VariantWindow): number | undefined {
  if (stat === 'SampleCount') return w.invocations;
  const count = COUNTS[metricName];
  if (count) {
    if (stat === 'Sum') return w[count] as number;
    if (stat === 'Average') return (w[count] as number) / w.invocations;
    return undefined;
  }
  if (metricName !== 'ModelLatency') return undefined;
  if (stat === 'Average') return (w.latencySumMs / w.invocations) * 1000;
  if (stat === 'Sum') return w.latencySumMs * 1000;
  const p = /^p(\d{1,2}(?:\.\d+)?)$/.exec(stat);
  return p ? w.quantile(Number(p[1]) / 100) * 1000 : undefined;
}

/** The endpoint and variant a metric names, when it is one of SageMaker's per-variant metrics. */
function variantOf(metric: Dict): { endpoint: string; variant: string } | undefined {
  if (metric.Namespace !== 'AWS/SageMaker') return undefined;
  const dims = (metric.Dimensions as { Name: string; Value: string }[] | undefined) ?? [];
  // CloudWatch matches the exact dimension set: EndpointName + VariantName, nothing else.
  const endpoint = dims.find((d) => d.Name === 'EndpointName')?.Value;
  const variant = dims.find((d) => d.Name === 'VariantName')?.Value;
  return dims.length === 2 && endpoint && variant ? { endpoint, variant } : undefined;
}

/** Answer GetMetricData (its input as the edge decoded it from either protocol). */
export function getMetricData(input: Dict, source: VariantMetricsSource): { MetricDataResults: MetricDataResult[]; Messages: [] } {
  const start = Math.floor(timeOf(input.StartTime, 'StartTime') / MINUTE_MS) * MINUTE_MS;
  const end = timeOf(input.EndTime, 'EndTime');
  if (!(end > start)) throw invalid('EndTime must be after StartTime');
  const queries = (input.MetricDataQueries as Dict[] | undefined) ?? [];
  const descending = input.ScanBy !== 'TimestampAscending';
  let budget = MAX_DATAPOINTS;
  const results = queries.map((q, i): MetricDataResult => {
    if (q.Expression !== undefined)
      throw invalid(`MetricDataQueries[${i}].Expression: the local cloud serves MetricStat queries only, not metric math or SEARCH`);
    const ms = q.MetricStat as Dict | undefined;
    if (!ms) throw invalid(`MetricDataQueries[${i}] (Id ${String(q.Id)}) needs MetricStat`);
    const periodMs = Number(ms.Period) * 1000;
    budget -= Math.ceil((end - start) / periodMs);
    if (budget < 0)
      throw invalid(`MetricDataQueries[${i}]: the request would return more than ${MAX_DATAPOINTS} data points; use a longer Period`);
    const metric = ms.Metric as Dict;
    const result: MetricDataResult = {
      Id: String(q.Id),
      Label: String(q.Label ?? metric.MetricName),
      Timestamps: [],
      Values: [],
      StatusCode: 'Complete',
    };
    const at = variantOf(metric);
    for (let t = start; at && t < end; t += periodMs) {
      const w = source(at.endpoint, at.variant, t, t + periodMs);
      const value = w && statistic(String(metric.MetricName), String(ms.Stat), w);
      if (value === undefined || !Number.isFinite(value)) continue;
      result.Timestamps.push(t);
      result.Values.push(value);
    }
    if (descending) {
      result.Timestamps.reverse();
      result.Values.reverse();
    }
    return result;
  });
  // A query with ReturnData false is an input of others (metric math): not answered on its own.
  return { MetricDataResults: results.filter((_, i) => queries[i]!.ReturnData !== false), Messages: [] };
}
