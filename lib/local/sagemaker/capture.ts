import { randomUUID } from 'node:crypto';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';

/**
 * SageMaker data capture: one JSON line per captured invocation, written to
 * `<DestinationS3Uri>/<endpoint>/<variant>/yyyy/mm/dd/hh/<uuid>.jsonl`. Lines are buffered
 * per hour-partition and flushed every `flushRecords` lines or every `flushMs`, so the hot
 * path only appends to an array; close() flushes what is left.
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

function encode(body: Buffer, contentType: string, s: CaptureSettings): { data: string; encoding: 'JSON' | 'CSV' | 'BASE64' } {
  const base = contentType.split(';')[0]!.trim().toLowerCase();
  if (s.jsonContentTypes.includes(base)) return { data: body.toString('utf8'), encoding: 'JSON' };
  if (s.csvContentTypes.includes(base)) return { data: body.toString('utf8'), encoding: 'CSV' };
  return { data: body.toString('base64'), encoding: 'BASE64' };
}

export interface CapturedInvocation {
  input: Buffer;
  inputContentType: string;
  output: Buffer;
  outputContentType: string;
  inferenceId?: string;
  time: Date;
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
  const time = inv.time.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return `{"captureData":{${parts.join(',')}},"eventMetadata":{"eventId":"${randomUUID()}"${id},"inferenceTime":"${time}"},"eventVersion":"0"}`;
}

function side(body: Buffer, contentType: string, mode: 'INPUT' | 'OUTPUT', s: CaptureSettings): string {
  const { data, encoding } = encode(body, contentType, s);
  return `{"observedContentType":${JSON.stringify(contentType)},"mode":"${mode}","data":${JSON.stringify(data)},"encoding":"${encoding}"}`;
}

const pad = (n: number) => String(n).padStart(2, '0');

export class CaptureWriter {
  private readonly buffers = new Map<string, { bucket: string; key: string; lines: string[] }>();
  private readonly timer: NodeJS.Timeout;
  private inflight = new Set<Promise<void>>();
  /** Failed uploads, kept so a test or the CLI can see that capture is losing data. */
  errors: Error[] = [];

  constructor(
    private readonly s3: S3Client,
    private readonly flushRecords = 1000,
    flushMs = 1000,
  ) {
    this.timer = setInterval(() => void this.flush(), flushMs);
    this.timer.unref();
  }

  /** Sample, format and buffer one invocation after the current I/O turn, so the caller's response goes out first. */
  addLater(s: CaptureSettings, endpoint: string, variant: string, inv: CapturedInvocation): void {
    setImmediate(() => this.add(s, endpoint, variant, inv));
  }

  /** Sample, format and buffer one invocation. */
  add(s: CaptureSettings, endpoint: string, variant: string, inv: CapturedInvocation): void {
    if (s.samplingPercentage < 100 && Math.random() * 100 >= s.samplingPercentage) return;
    const t = inv.time;
    const hour = `${t.getUTCFullYear()}/${pad(t.getUTCMonth() + 1)}/${pad(t.getUTCDate())}/${pad(t.getUTCHours())}`;
    const dir = [s.prefix, endpoint, variant, hour].filter(Boolean).join('/');
    const id = `${s.bucket}/${dir}`;
    let buf = this.buffers.get(id);
    if (!buf) {
      buf = { bucket: s.bucket, key: dir, lines: [] };
      this.buffers.set(id, buf);
    }
    buf.lines.push(captureLine(inv, s));
    if (buf.lines.length >= this.flushRecords) this.flushOne(id);
  }

  private flushOne(id: string): void {
    const buf = this.buffers.get(id);
    if (!buf || buf.lines.length === 0) return;
    this.buffers.delete(id);
    const body = `${buf.lines.join('\n')}\n`;
    const p = this.s3
      .send(new PutObjectCommand({ Bucket: buf.bucket, Key: `${buf.key}/${randomUUID()}.jsonl`, Body: body, ContentType: 'application/jsonl' }))
      .then(
        () => undefined,
        (err: Error) => void this.errors.push(err),
      )
      .finally(() => this.inflight.delete(p));
    this.inflight.add(p);
  }

  /** Write every buffered line now and wait for the uploads. */
  async flush(): Promise<void> {
    await new Promise((r) => setImmediate(r)); // lines queued by addLater
    for (const id of [...this.buffers.keys()]) this.flushOne(id);
    await Promise.all([...this.inflight]);
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
