/**
 * The local cloud's CloudWatch: GetMetricData over the SageMaker endpoint host's per-variant
 * metrics (get-metric-data.ts), what the console's live traffic and the shadow comparison read
 * (on AWS, CloudWatch itself). Spoken in both of CloudWatch's protocols: AWS JSON 1.0
 * (`X-Amz-Target: GraniteServiceVersion20100801.GetMetricData`, what @aws-sdk/client-cloudwatch
 * sends) and the query protocol (form-encoded `Action=GetMetricData&Version=2010-08-01`, XML
 * answers: what the aws CLI v2 of Debian 12 sends).
 *
 * Factory options: `sageMakerMetrics` — a variant's invocations in a window (the SageMaker
 * service's `metricWindow`), wired by the composition root so this service imports no other.
 */
import { randomUUID } from 'node:crypto';
import { AwsServiceError, unknownOperation, type JsonService } from '../../core/service';
import { getMetricData, type VariantMetricsSource } from './get-metric-data';

export type { VariantMetricsSource, VariantWindow } from './get-metric-data';

/** The query protocol's `Version` of CloudWatch: how the edge tells its forms from SNS's. */
export const CLOUDWATCH_API_VERSION = '2010-08-01';
const XMLNS = 'http://monitoring.amazonaws.com/doc/2010-08-01/';
const esc = (s: string): string => s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

export interface CloudWatchServiceOptions {
  sageMakerMetrics: VariantMetricsSource;
}

export interface CloudWatchService extends JsonService {
  /** Answer a query-protocol request whose members the edge decoded (request-check.ts); returns the XML document. */
  handleQuery(operation: string, input: Record<string, unknown>): string;
  /** An error in the query protocol's XML shape. */
  errorXml(err: AwsServiceError): string;
}

export function createCloudWatchService(opts: CloudWatchServiceOptions): CloudWatchService {
  const answer = (operation: string, input: Record<string, unknown>) => {
    if (operation !== 'GetMetricData') throw unknownOperation('CloudWatch', operation);
    return getMetricData(input, opts.sageMakerMetrics);
  };
  return {
    targetPrefix: 'GraniteServiceVersion20100801',
    async handle(operation, input) {
      const out = answer(operation, input);
      // The JSON protocol's timestamps are epoch seconds.
      return { ...out, MetricDataResults: out.MetricDataResults.map((r) => ({ ...r, Timestamps: r.Timestamps.map((t) => t / 1000) })) };
    },
    handleQuery(operation, input) {
      const out = answer(operation, input);
      const members = (tag: string, values: readonly (string | number)[]) =>
        `<${tag}>${values.map((v) => `<member>${esc(String(v))}</member>`).join('')}</${tag}>`;
      const results = out.MetricDataResults.map(
        (r) =>
          `<member><Id>${esc(r.Id)}</Id><Label>${esc(r.Label)}</Label>${members(
            'Timestamps',
            r.Timestamps.map((t) => new Date(t).toISOString()),
          )}${members('Values', r.Values)}<StatusCode>${r.StatusCode}</StatusCode><Messages/></member>`,
      );
      return `<GetMetricDataResponse xmlns="${XMLNS}"><GetMetricDataResult><MetricDataResults>${results.join('')}</MetricDataResults><Messages/></GetMetricDataResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></GetMetricDataResponse>`;
    },
    errorXml(err) {
      const fault = err.status >= 500 ? 'Receiver' : 'Sender';
      return `<ErrorResponse xmlns="${XMLNS}"><Error><Type>${fault}</Type><Code>${esc(err.type)}</Code><Message>${esc(err.message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`;
    },
  };
}
