import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { PutObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { captureLine, capturePartition, type CaptureSettings } from './format';
import { readFrame, type Frame, type FramedRecord } from './frame';

/**
 * The capture process's side (see writer.ts): formats the invocations the proxy handed
 * over, buffers the lines per hour-partition and uploads a partition every `flushRecords`
 * lines or every `flushMs`, as SageMaker does, a file per upload.
 *
 * The process works in slices of about SLICE_MS with PAUSE_MS of sleep between them: formatting
 * a batch, and sending an upload's body (which s3rver hashes and writes as it arrives). Any burst
 * of CPU on this shared 2-core machine holds up the invocations in flight, whichever process or
 * thread it runs in and whatever its nice value. Measured against a capture-off endpoint host,
 * a separate process spinning 6 ms once a second made the invocations in flight around it 4-14 %
 * likely to be among the slowest 1 %; at nice 19, 5-14 %; the same 6 ms as 24 slices of 0.25 ms
 * with 1 ms sleeps, 0-0.4 %, no more than anywhere else. In one piece, formatting a second of
 * invocations took 5-7 ms and an upload of five seconds' lines 16 ms of s3rver;
 * in bench/endpoint's paced load, 14-21 % of the invocations in flight during an upload were
 * among the slowest 1 %, and 0-6 % once the body went in pieces.
 */
const SLICE_MS = 0.25;
const PAUSE_MS = 1;
/** Batches waiting to be formatted beyond which the process stops pausing, so it cannot fall behind for good. */
const MAX_PAUSED_BACKLOG = 2;
/**
 * An upload's body goes in pieces of PIECE_BYTES (about 0.25 ms of s3rver's work each), or in
 * UPLOAD_PIECES larger ones when it is bigger, so a large upload still ends in about as many pauses.
 */
const UPLOAD_PIECES = 64;
const PIECE_BYTES = 32 * 1024;

/** What the writer hands over: framed invocations, whose `settings` index the batch's settings. */
export interface CaptureBatch {
  settings: CaptureSettings[];
  frame: Frame;
}

/** What the writer sends the capture process. */
export type ToSink = { type: 'init'; options: SinkOptions } | { type: 'batch'; batch: CaptureBatch } | { type: 'flush'; id: number };
/** What the capture process answers. */
export type FromSink = { type: 'flushed'; id: number } | { type: 'error'; message: string };

export interface SinkOptions {
  s3: S3ClientConfig;
  flushRecords: number;
  flushMs: number;
}

/**
 * A partition's lines, UTF-8 encoded as they are formatted. Holding thousands of line strings
 * until the upload, and joining them then, made garbage collection the largest part of the
 * sink's work (a quarter of its CPU, profiled); bytes in a few large chunks cost the
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

  /** The JSONL file's bytes: every line, each ended by a newline. */
  get bytes(): number {
    return this.chunks.reduce((n, c) => n + c.length, this.used);
  }

  /** The JSONL file as a stream of pieces, each after a pause when `paced`; a fresh stream each call. */
  stream(paced: boolean): Readable {
    const chunks = [...this.chunks, this.chunk.subarray(0, this.used)];
    const piece = Math.max(PIECE_BYTES, Math.ceil(this.bytes / UPLOAD_PIECES));
    async function* pieces() {
      let first = true;
      for (const c of chunks) {
        for (let at = 0; at < c.length; at += piece) {
          if (paced && !first) await sleep(PAUSE_MS);
          first = false;
          yield c.subarray(at, at + piece);
        }
      }
    }
    return Readable.from(pieces(), { objectMode: false });
  }
}

export class CaptureSink {
  private readonly buffers = new Map<string, PartitionLines>();
  /** Batches handed over and not yet formatted, in order; the first may be part-read. */
  private readonly pending: { settings: CaptureSettings[]; records: Generator<FramedRecord> }[] = [];
  private slicing?: NodeJS.Timeout;
  private readonly inflight = new Set<Promise<void>>();
  /** Partitions whose upload failed (the S3 server was down, say): kept and sent again at the next flush. */
  private readonly unsent: PartitionLines[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly s3: S3Client,
    private readonly opts: Omit<SinkOptions, 's3'> & { attempts: number },
    private readonly onError: (err: Error) => void,
  ) {
    this.timer = setInterval(() => this.uploadAll(true), opts.flushMs);
    this.timer.unref();
  }

  /** Queue a batch; it is formatted a slice at a time. */
  add(batch: CaptureBatch): void {
    this.pending.push({ settings: batch.settings, records: readFrame(batch.frame) });
    this.slicing ??= setTimeout(() => this.formatSlice(), 0);
  }

  private formatSlice(): void {
    this.slicing = undefined;
    this.format(performance.now() + SLICE_MS);
    if (this.pending.length === 0) return;
    this.slicing = setTimeout(() => this.formatSlice(), this.pending.length > MAX_PAUSED_BACKLOG ? 0 : PAUSE_MS);
  }

  /** Format queued invocations into their partitions' lines until `deadline` (performance.now()). */
  private format(deadline: number): void {
    // Consecutive invocations mostly share a partition: the last one's is tried first.
    let last: { settings: CaptureSettings; endpoint: string; variant: string; hour: number; id: string; key: string } | undefined;
    while (this.pending.length > 0 && performance.now() < deadline) {
      const step = this.pending[0]!.records.next();
      if (step.done) {
        this.pending.shift();
        continue;
      }
      const r = step.value;
      const s = this.pending[0]!.settings[r.settings]!;
      const hour = Math.floor(r.inv.time / 3_600_000);
      if (!last || last.hour !== hour || last.settings !== s || last.endpoint !== r.endpoint || last.variant !== r.variant) {
        const key = capturePartition(s, r.endpoint, r.variant, r.inv.time);
        last = { settings: s, endpoint: r.endpoint, variant: r.variant, hour, key, id: `${s.bucket}/${key}` };
      }
      let buf = this.buffers.get(last.id);
      if (!buf) {
        buf = new PartitionLines(s.bucket, last.key);
        this.buffers.set(last.id, buf);
      }
      buf.push(captureLine(r.inv, s));
      if (buf.count >= this.opts.flushRecords) this.upload(last.id, true);
    }
  }

  private upload(id: string, paced: boolean): void {
    const buf = this.buffers.get(id);
    if (!buf || buf.count === 0) return;
    this.buffers.delete(id);
    this.send(buf, paced);
  }

  private send(buf: PartitionLines, paced: boolean): void {
    const p = this.put(buf, `${buf.key}/${randomUUID()}.jsonl`, paced)
      .catch((err: Error) => {
        const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 0;
        // A refusal (4xx) will not change; anything else (no connection, 5xx) may: keep the records.
        const kept = status < 400 || status >= 500;
        if (kept) this.unsent.push(buf);
        this.onError(
          new Error(
            `data capture: cannot write ${buf.count} records to s3://${buf.bucket}/${buf.key}/: ${err.message}${kept ? '; kept, sent again at the next flush' : ''}`,
          ),
        );
      })
      .finally(() => this.inflight.delete(p));
    this.inflight.add(p);
  }

  /**
   * PutObject with the body as a stream of pieces. The SDK cannot retry a stream body, so
   * the sink retries with a fresh stream: up to `attempts` tries, not after a 4xx answer.
   */
  private async put(buf: PartitionLines, key: string, paced: boolean): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.s3.send(
          new PutObjectCommand({
            Bucket: buf.bucket,
            Key: key,
            Body: buf.stream(paced),
            ContentLength: buf.bytes,
            ContentType: 'application/jsonl',
          }),
        );
        return;
      } catch (err) {
        const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 0;
        if (attempt >= this.opts.attempts || (status >= 400 && status < 500)) throw err;
        await sleep(100 * attempt);
      }
    }
  }

  private uploadAll(paced: boolean): void {
    for (const buf of this.unsent.splice(0)) this.send(buf, paced);
    for (const id of [...this.buffers.keys()]) this.upload(id, paced);
  }

  /** Format what is queued and upload every line now, without pauses; resolves when the uploads have ended. */
  async flush(): Promise<void> {
    clearTimeout(this.slicing);
    this.slicing = undefined;
    this.format(Infinity);
    this.uploadAll(false);
    await Promise.all([...this.inflight]);
  }
}

/**
 * The SDK's logging as with no logger (which writes nothing but the SDK's own warnings), less
 * its warning at each failed stream upload: the sink reports failed uploads itself. A logger
 * given to a client also receives each failed command as an error, dropped for the same reason.
 */
export const quietStreamWarnings = {
  debug: () => {},
  info: () => {},
  warn: (...args: unknown[]) => {
    if (!String(args[0]).includes('non-retryable streaming request')) console.warn(...args);
  },
  error: () => {},
};

/**
 * The capture process's main: `queued` holds the messages that came while this module loaded,
 * the first of them the options. Answers on the IPC channel.
 */
export function runCaptureSink(queued: ToSink[]): void {
  const answer = (m: FromSink) => process.send?.(m);
  let sink: CaptureSink | undefined;
  const handle = (m: ToSink): void => {
    if (m.type === 'init') {
      const { s3, ...opts } = m.options;
      // The sink retries uploads itself (see put()): the SDK cannot retry a stream body. The SDK
      // also warns on the console at each failed stream upload, which the sink reports already.
      const client = new S3Client({ ...s3, maxAttempts: 1, logger: quietStreamWarnings });
      const attempts = typeof s3.maxAttempts === 'number' ? s3.maxAttempts : 3;
      sink = new CaptureSink(client, { ...opts, attempts }, (err) => answer({ type: 'error', message: err.message }));
    } else if (!sink) {
      throw new Error(`data capture: a ${m.type} message came before the options`);
    } else if (m.type === 'batch') {
      sink.add(m.batch);
    } else {
      void sink.flush().then(() => answer({ type: 'flushed', id: m.id }));
    }
  };
  queued.forEach(handle);
  process.on('message', handle);
}
