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

export class CaptureSink {
  private readonly buffers = new Map<string, { bucket: string; key: string; lines: string[] }>();
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
    for (const r of readFrame(batch.frame)) {
      const s = batch.settings[r.settings]!;
      const key = capturePartition(s, r.endpoint, r.variant, r.inv.time);
      const id = `${s.bucket}/${key}`;
      let buf = this.buffers.get(id);
      if (!buf) {
        buf = { bucket: s.bucket, key, lines: [] };
        this.buffers.set(id, buf);
      }
      buf.lines.push(captureLine(r.inv, s));
      if (buf.lines.length >= this.opts.flushRecords) this.upload(id);
    }
  }

  private upload(id: string): void {
    const buf = this.buffers.get(id);
    if (!buf || buf.lines.length === 0) return;
    this.buffers.delete(id);
    const body = `${buf.lines.join('\n')}\n`;
    const p = this.s3
      .send(new PutObjectCommand({ Bucket: buf.bucket, Key: `${buf.key}/${randomUUID()}.jsonl`, Body: body, ContentType: 'application/jsonl' }))
      .then(
        () => undefined,
        (err: Error) => this.onError(new Error(`data capture: cannot write ${buf.lines.length} records to s3://${buf.bucket}/${buf.key}/: ${err.message}`)),
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
