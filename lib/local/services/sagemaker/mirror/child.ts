import { S3Client } from '@aws-sdk/client-s3';
import { Pool } from 'undici';
import { CaptureSink, quietStreamWarnings } from '../capture/sink';
import { FrameWriter } from '../capture/frame';
import { postInvocation, type ProxyResult } from '../fleet';
import { INVOCATION_TIMEOUT_MS } from '../server';
import { readCopies, type FromMirror, type MirrorCopy, type MirrorOptions, type ToMirror } from './protocol';

/**
 * The mirror process of a shadow variant (see host.ts): the emulation of the shadow instance's
 * front. It sends each copy to the shadow's model server `delayMs` after production received
 * it, so the server sees the requests spread as they came rather than a burst per hand-off;
 * writes the shadow's capture lines itself (capture/sink.ts, the same format and S3 layout as
 * the capture process); and reports each copy's outcome back to the host every REPORT_MS.
 */
/**
 * Due copies go out every PACE_MS, about one at a time at 500 copies a second. Measured with
 * bench/endpoint --shadow (3 runs each): every 10 ms, five at once, the mirror's CPU per copy
 * fell (136-194 µs against 170-236) but production's p99 added rose (medians 1.27x autocannon,
 * 2.26x paced, against 0.93x and 1.03x; one set of runs each on a shared machine, so a hint
 * rather than proof): a burst of copies keeps the shadow's server busy.
 */
const PACE_MS = 2;
const REPORT_MS = 500;
/** A flush waits this long at most for copies in flight: a hung shadow holds them up to INVOCATION_TIMEOUT_MS. */
const FLUSH_WAIT_MS = 2000;

export class Mirror {
  private readonly queue: MirrorCopy[] = [];
  private next = 0;
  private inFlight = 0;
  private idle: (() => void)[] = [];
  private pairs: number[] = [];
  private pacer?: NodeJS.Timeout;
  private readonly pool: Pool;
  private readonly captured = new FrameWriter();
  private readonly sink?: CaptureSink;

  constructor(
    private readonly opts: MirrorOptions,
    private readonly answer: (m: FromMirror) => void,
  ) {
    this.pool = new Pool(`http://127.0.0.1:${opts.port}`, {
      connections: opts.maxInFlight,
      keepAliveTimeout: 10_000,
      headersTimeout: INVOCATION_TIMEOUT_MS,
      bodyTimeout: INVOCATION_TIMEOUT_MS,
    });
    const c = opts.capture;
    if (c) {
      // As the capture process builds its client (capture/sink.ts runCaptureSink): the sink retries itself.
      const client = new S3Client({ ...c.s3, maxAttempts: 1, logger: quietStreamWarnings });
      const attempts = typeof c.s3.maxAttempts === 'number' ? c.s3.maxAttempts : 3;
      this.sink = new CaptureSink(client, { flushRecords: c.flushRecords, flushMs: c.flushMs, attempts }, (err) =>
        answer({ type: 'error', message: err.message }),
      );
    }
    setInterval(() => this.report(), REPORT_MS);
  }

  add(copies: Iterable<MirrorCopy>): void {
    for (const c of copies) this.queue.push(c);
    this.pacer ??= setTimeout(() => this.pace(), PACE_MS);
  }

  /** Send the copies that are due (all of them when `all`), then come back for the rest. */
  private pace(all = false): void {
    this.pacer = undefined;
    const now = Date.now();
    while (this.next < this.queue.length && (all || this.queue[this.next]!.time + this.opts.delayMs <= now))
      this.send(this.queue[this.next++]!);
    if (this.next === this.queue.length) {
      this.queue.length = 0;
      this.next = 0;
    } else {
      this.pacer = setTimeout(() => this.pace(), PACE_MS);
    }
  }

  private send(copy: MirrorCopy): void {
    // Past the cap the copy is dropped: a hung shadow costs a bounded number of sockets.
    if (this.inFlight >= this.opts.maxInFlight) {
      this.pairs.push(503, 0);
      return;
    }
    this.inFlight++;
    const t0 = performance.now();
    const body = Buffer.from(copy.body.buffer, copy.body.byteOffset, copy.body.byteLength);
    const done = (status: number, res?: ProxyResult) => {
      this.pairs.push(status, performance.now() - t0);
      if (res && status < 400 && this.sink) this.capture(copy, body, res);
      if (--this.inFlight === 0) for (const wake of this.idle.splice(0)) wake();
    };
    postInvocation(this.pool, {
      body,
      contentType: copy.contentType,
      accept: copy.accept,
      customAttributes: copy.customAttributes,
      inferenceId: copy.inferenceId,
    }).then(
      (res) => done(res.status, res),
      () => done(503),
    );
  }

  private capture(copy: MirrorCopy, body: Buffer, res: ProxyResult): void {
    const s = this.opts.capture!.settings;
    if (s.samplingPercentage < 100 && Math.random() * 100 >= s.samplingPercentage) return;
    const inv = {
      input: body,
      inputContentType: copy.contentType,
      output: res.body,
      outputContentType: res.contentType,
      inferenceId: copy.inferenceId,
      time: Date.now(),
    };
    if (this.captured.wouldOverflow(this.opts.endpoint, this.opts.variant, inv)) this.handCaptured();
    this.captured.add(0, this.opts.endpoint, this.opts.variant, inv);
  }

  private handCaptured(): void {
    const frame = this.captured.take();
    if (frame && this.sink) this.sink.add({ settings: [this.opts.capture!.settings], frame });
  }

  /** The outcomes since the last report, and the captured answers to the sink. */
  private report(): void {
    this.handCaptured();
    if (this.pairs.length === 0) return;
    const pairs = Float64Array.from(this.pairs);
    this.pairs = [];
    this.answer({ type: 'outcomes', pairs });
  }

  /** Send every queued copy now, wait (up to FLUSH_WAIT_MS) for those in flight, upload the captured answers, report. */
  async flush(): Promise<void> {
    clearTimeout(this.pacer);
    this.pace(true);
    if (this.inFlight > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, FLUSH_WAIT_MS);
        this.idle.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    this.handCaptured();
    await this.sink?.flush();
    this.report();
  }
}

/** The mirror process's main: `queued` holds the messages that came while this module loaded, the first the options. */
export function runMirror(queued: ToMirror[]): void {
  const answer = (m: FromMirror) => process.send?.(m);
  let mirror: Mirror | undefined;
  const handle = (m: ToMirror): void => {
    if (m.type === 'init') mirror = new Mirror(m.options, answer);
    else if (!mirror) throw new Error(`shadow mirror: a ${m.type} message came before the options`);
    else if (m.type === 'batch') mirror.add(readCopies(m.frame));
    else void mirror.flush().then(() => answer({ type: 'flushed', id: m.id }));
  };
  queued.forEach(handle);
  process.on('message', handle);
}
