import { randomUUID } from 'node:crypto';
import type { MessagePort } from 'node:worker_threads';
import { PutObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { captureLine, capturePartition, type CaptureSettings } from './capture';
import { readFrame, type Frame } from './capture-frame';

/**
 * The capture thread's side (see capture-writer.ts): formats the invocations the proxy handed
 * over, buffers the lines per hour-partition and uploads a partition every `flushRecords`
 * lines or every `flushMs`, as SageMaker does, a file per upload.
 */

/** What the writer hands over: framed invocations, whose `settings` index the batch's settings. */
export interface CaptureBatch {
  settings: CaptureSettings[];
  frame: Frame;
}

/** What the writer sends the thread. */
export type ToSink = { type: 'batch'; batch: CaptureBatch } | { type: 'flush'; id: number };
/** What the thread answers. */
export type FromSink = { type: 'flushed'; id: number } | { type: 'error'; message: string };

export interface SinkOptions {
  s3: S3ClientConfig;
  flushRecords: number;
  flushMs: number;
}

/**
 * A partition's lines, UTF-8 encoded as they are formatted. Holding thousands of line strings
 * until the upload, and joining them then, made garbage collection the largest part of the
 * thread's work (a quarter of its CPU, profiled); bytes in a few large chunks cost the
 * collector nothing.
 */
class PartitionLines {
  private static readonly CHUNK_BYTES = 256 * 1024;
  private readonly chunks: Buffer[] = [];
  private chunk = Buffer.alloc(0);
  private used = 0;
  count = 0;

  constructor(
    readonly bucket: string,
    readonly key: string,
  ) {}

  push(line: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit, and the newline one more.
    const need = 3 * line.length + 1;
    if (this.used + need > this.chunk.length) {
      if (this.used > 0) this.chunks.push(this.chunk.subarray(0, this.used));
      this.chunk = Buffer.allocUnsafe(Math.max(PartitionLines.CHUNK_BYTES, need));
      this.used = 0;
    }
    this.used += this.chunk.write(line, this.used, 'utf8');
    this.chunk[this.used++] = 0x0a;
    this.count++;
  }

  /** The JSONL file: every line, each ended by a newline. */
  body(): Buffer {
    return Buffer.concat([...this.chunks, this.chunk.subarray(0, this.used)]);
  }
}

export class CaptureSink {
  private readonly buffers = new Map<string, PartitionLines>();
  private readonly inflight = new Set<Promise<void>>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly s3: S3Client,
    private readonly opts: Omit<SinkOptions, 's3'>,
    private readonly onError: (err: Error) => void,
  ) {
    this.timer = setInterval(() => this.flushAll(), opts.flushMs);
    this.timer.unref();
  }

  add(batch: CaptureBatch): void {
    // Consecutive invocations mostly share a partition: the last one's is tried first.
    let last: { settings: number; endpoint: string; variant: string; hour: number; id: string; key: string } | undefined;
    for (const r of readFrame(batch.frame)) {
      const s = batch.settings[r.settings]!;
      const hour = Math.floor(r.inv.time / 3_600_000);
      if (!last || last.hour !== hour || last.settings !== r.settings || last.endpoint !== r.endpoint || last.variant !== r.variant) {
        const key = capturePartition(s, r.endpoint, r.variant, r.inv.time);
        last = { settings: r.settings, endpoint: r.endpoint, variant: r.variant, hour, key, id: `${s.bucket}/${key}` };
      }
      let buf = this.buffers.get(last.id);
      if (!buf) {
        buf = new PartitionLines(s.bucket, last.key);
        this.buffers.set(last.id, buf);
      }
      buf.push(captureLine(r.inv, s));
      if (buf.count >= this.opts.flushRecords) this.upload(last.id);
    }
  }

  private upload(id: string): void {
    const buf = this.buffers.get(id);
    if (!buf || buf.count === 0) return;
    this.buffers.delete(id);
    const p = this.s3
      .send(new PutObjectCommand({ Bucket: buf.bucket, Key: `${buf.key}/${randomUUID()}.jsonl`, Body: buf.body(), ContentType: 'application/jsonl' }))
      .then(
        () => undefined,
        (err: Error) => this.onError(new Error(`data capture: cannot write ${buf.count} records to s3://${buf.bucket}/${buf.key}/: ${err.message}`)),
      )
      .finally(() => this.inflight.delete(p));
    this.inflight.add(p);
  }

  private flushAll(): void {
    for (const id of [...this.buffers.keys()]) this.upload(id);
  }

  /** Upload every buffered line now and wait for the uploads. */
  async flush(): Promise<void> {
    this.flushAll();
    await Promise.all([...this.inflight]);
  }
}

/** The thread's main: answers the writer's messages on `port`. */
export function runCaptureSink(port: MessagePort, opts: SinkOptions, queued: ToSink[]): void {
  const sink = new CaptureSink(new S3Client(opts.s3), opts, (err) => port.postMessage({ type: 'error', message: err.message } satisfies FromSink));
  const handle = (m: ToSink): void => {
    if (m.type === 'batch') sink.add(m.batch);
    else void sink.flush().then(() => port.postMessage({ type: 'flushed', id: m.id } satisfies FromSink));
  };
  queued.forEach(handle);
  port.on('message', handle);
}
