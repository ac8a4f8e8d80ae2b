import { randomUUID } from 'node:crypto';

/**
 * SageMaker data capture: one JSON line per captured invocation, written to
 * `<DestinationS3Uri>/<endpoint>/<variant>/yyyy/mm/dd/hh/<uuid>.jsonl`. This module is the
 * format; capture-writer.ts hands invocations from the proxy's hot path to a thread, and
 * capture-sink.ts buffers and uploads them there.
 */
export interface CaptureSettings {
  bucket: string;
  /** Key prefix from DestinationS3Uri, without a trailing slash. */
  prefix: string;
  samplingPercentage: number;
  captureInput: boolean;
  captureOutput: boolean;
  csvContentTypes: string[];
  jsonContentTypes: string[];
}

/** Parse an endpoint config's DataCaptureConfig; undefined when capture is off. */
export function captureSettings(cfg: Record<string, unknown> | undefined, field: string): CaptureSettings | undefined {
  if (!cfg || cfg.EnableCapture === false) return undefined;
  const uri = String(cfg.DestinationS3Uri ?? '');
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!m) throw new Error(`${field}.DestinationS3Uri must be s3://<bucket>/<prefix>, got "${uri}"`);
  const options = Array.isArray(cfg.CaptureOptions) ? (cfg.CaptureOptions as { CaptureMode?: string }[]) : [];
  const modes = new Set(options.map((o) => o.CaptureMode));
  const header = (cfg.CaptureContentTypeHeader ?? {}) as { CsvContentTypes?: string[]; JsonContentTypes?: string[] };
  const pct = cfg.InitialSamplingPercentage === undefined ? 100 : Number(cfg.InitialSamplingPercentage);
  if (!(pct >= 0 && pct <= 100)) throw new Error(`${field}.InitialSamplingPercentage must be 0..100`);
  return {
    bucket: m[1]!,
    prefix: m[2]!.replace(/\/+$/, ''),
    samplingPercentage: pct,
    captureInput: modes.size === 0 || modes.has('Input'),
    captureOutput: modes.size === 0 || modes.has('Output'),
    csvContentTypes: header.CsvContentTypes ?? ['text/csv'],
    jsonContentTypes: header.JsonContentTypes ?? ['application/json'],
  };
}

function encode(bytes: Uint8Array, contentType: string, s: CaptureSettings): { data: string; encoding: 'JSON' | 'CSV' | 'BASE64' } {
  // Bodies read from a capture frame are Buffers already; any other Uint8Array is viewed as one, no copy.
  const body = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const base = contentType.split(';')[0]!.trim().toLowerCase();
  if (s.jsonContentTypes.includes(base)) return { data: body.toString('utf8'), encoding: 'JSON' };
  if (s.csvContentTypes.includes(base)) return { data: body.toString('utf8'), encoding: 'CSV' };
  return { data: body.toString('base64'), encoding: 'BASE64' };
}

export interface CapturedInvocation {
  input: Uint8Array;
  inputContentType: string;
  output: Uint8Array;
  outputContentType: string;
  inferenceId?: string;
  /** Epoch milliseconds. */
  time: number;
}

/**
 * One SageMaker capture line. Built as a template rather than JSON.stringify of a nested
 * object: it runs once per invocation on the proxy's hot path.
 */
export function captureLine(inv: CapturedInvocation, s: CaptureSettings): string {
  const parts: string[] = [];
  if (s.captureInput) parts.push(`"endpointInput":${side(inv.input, inv.inputContentType, 'INPUT', s)}`);
  if (s.captureOutput) parts.push(`"endpointOutput":${side(inv.output, inv.outputContentType, 'OUTPUT', s)}`);
  const id = inv.inferenceId ? `,"inferenceId":${JSON.stringify(inv.inferenceId)}` : '';
  const time = new Date(inv.time).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return `{"captureData":{${parts.join(',')}},"eventMetadata":{"eventId":"${randomUUID()}"${id},"inferenceTime":"${time}"},"eventVersion":"0"}`;
}

function side(body: Uint8Array, contentType: string, mode: 'INPUT' | 'OUTPUT', s: CaptureSettings): string {
  const { data, encoding } = encode(body, contentType, s);
  return `{"observedContentType":${JSON.stringify(contentType)},"mode":"${mode}","data":${JSON.stringify(data)},"encoding":"${encoding}"}`;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** The S3 key prefix a captured invocation goes under: `<prefix>/<endpoint>/<variant>/yyyy/mm/dd/hh`. */
export function capturePartition(s: CaptureSettings, endpoint: string, variant: string, time: number): string {
  const t = new Date(time);
  const hour = `${t.getUTCFullYear()}/${pad(t.getUTCMonth() + 1)}/${pad(t.getUTCDate())}/${pad(t.getUTCHours())}`;
  return [s.prefix, endpoint, variant, hour].filter(Boolean).join('/');
}
