import { Worker } from 'node:worker_threads';
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import type { CapturedInvocation, CaptureSettings } from './capture';
import { FrameWriter } from './capture-frame';
import type { FromSink, SinkOptions, ToSink } from './capture-sink';

/**
 * Data capture, from the proxy's side. The hot path only samples an invocation and copies it
 * into a frame (capture-frame.ts); every HANDOFF_MS the frame is transferred to a capture
 * thread (capture-sink.ts) that formats the lines and uploads them.
 *
 * Why a thread: measured with bench/endpoint, formatting each line and the upload of each
 * batch (SDK, signing, a 300 KB request) on the edge's event loop held up the invocations
 * behind them and more than doubled the p99 latency the endpoint adds.
 *
 * Why a hand-off a second: each postMessage to the thread delays the invocation in flight, even
 * with the frame transferred rather than copied. Measured with autocannon's bursts (p99 added,
 * median of 10 rounds, same run): capture off 0.40 ms; frames built but never posted 0.53 ms;
 * posted every 50 ms 0.89 ms. Twenty hand-offs a second touched 2 % of the invocations at
 * 1,000 a second, enough to move the p99; one a second touches 0.1 %. The thread uploads every
 * FLUSH_MS anyway, so the later hand-off delays no upload.
 */
const HANDOFF_MS = 1000;

/**
 * Upload a partition's lines every FLUSH_MS, or sooner once it holds FLUSH_RECORDS lines. An
 * upload has a fixed cost: measured on this machine, a PutObject of 100 lines cost 2.3 ms of CPU
 * in the SDK and 4.1 ms in s3rver, one of 5,000 lines 8.2 ms and 14 ms. At 1,000 invocations a
 * second, an upload a second spent about 11 ms of CPU a second in one burst, in step with
 * slow invocations; every 5 s it spends about 4.4 ms a second, in a fifth as many bursts.
 * SageMaker documents no upload interval; what reads captured data (the drift check) runs
 * minutes apart, and flush() uploads at once.
 */
const FLUSH_MS = 5000;
const FLUSH_RECORDS = 10_000;

/** The S3 client settings the capture thread builds its own client from. */
async function threadS3Config(s3: S3Client): Promise<S3ClientConfig> {
  const c = s3.config;
  const ep = c.endpoint ? await c.endpoint() : undefined;
  const { accessKeyId, secretAccessKey, sessionToken } = await c.credentials();
  return {
    region: await c.region(),
    endpoint: ep ? `${ep.protocol}//${ep.hostname}${ep.port ? `:${ep.port}` : ''}${ep.path}` : undefined,
    credentials: { accessKeyId, secretAccessKey, sessionToken },
    forcePathStyle: c.forcePathStyle,
    maxAttempts: await c.maxAttempts(),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
}

export class CaptureWriter {
  /** Failed uploads, kept so a test or the CLI can see that capture is losing data. */
  readonly errors: Error[] = [];
  private readonly frame = new FrameWriter();
  private settings = new Map<CaptureSettings, number>();
  private timer?: NodeJS.Timeout;
  private thread?: Promise<Worker>;
  private seq = 0;
  private readonly flushes = new Map<number, () => void>();

  constructor(
    private readonly s3: S3Client,
    private readonly flushRecords = FLUSH_RECORDS,
    private readonly flushMs = FLUSH_MS,
  ) {}

  /** Sample and frame one invocation; the capture thread formats and uploads it. */
  add(s: CaptureSettings, endpoint: string, variant: string, inv: CapturedInvocation): void {
    if (s.samplingPercentage < 100 && Math.random() * 100 >= s.samplingPercentage) return;
    // A full frame goes now, before this record's settings are numbered for the next one.
    if (this.frame.wouldOverflow(endpoint, variant, inv)) this.handOff();
    let index = this.settings.get(s);
    if (index === undefined) {
      index = this.settings.size;
      this.settings.set(s, index);
    }
    // Copies the bodies' bytes: they are views into socket buffers that are reused.
    this.frame.add(index, endpoint, variant, inv);
    if (!this.timer) {
      this.timer = setTimeout(() => this.handOff(), HANDOFF_MS);
      this.timer.unref();
    }
  }

  private handOff(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const frame = this.frame.take();
    if (!frame) return;
    const batch = { settings: [...this.settings.keys()], frame };
    this.settings = new Map();
    void this.post({ type: 'batch', batch }, [frame.buffer]);
  }

  /**
   * Posts go through one promise chain, so they reach the thread in order even while it starts.
   * Resolves false when the thread could not start: the error is kept, and the next post tries again.
   */
  private post(message: ToSink, transfer: ArrayBuffer[] = []): Promise<boolean> {
    const thread = (this.thread ??= this.start());
    return thread.then(
      (w) => {
        w.postMessage(message, transfer);
        return true;
      },
      (err: Error) => {
        if (this.thread === thread) {
          this.thread = undefined;
          this.errors.push(new Error(`data capture: the capture thread did not start (${err.message}); records are lost`));
        }
        return false;
      },
    );
  }

  private async start(): Promise<Worker> {
    const workerData: SinkOptions = { s3: await threadS3Config(this.s3), flushRecords: this.flushRecords, flushMs: this.flushMs };
    const worker = new Worker(new URL('./capture-worker.mjs', import.meta.url), { workerData });
    worker.on('message', (m: FromSink) => {
      if (m.type === 'error') this.errors.push(new Error(m.message));
      else this.flushes.get(m.id)?.();
    });
    // An 'error' is always followed by 'exit': report the stop once, with the error if there was one.
    let failure: Error | undefined;
    worker.on('error', (err) => (failure = err));
    worker.on('exit', (code) => {
      this.errors.push(new Error(`data capture: the capture thread stopped (${failure?.message ?? `exit code ${code}`}); its buffered records are lost`));
      this.thread = undefined;
      for (const done of this.flushes.values()) done();
      this.flushes.clear();
    });
    worker.unref();
    return worker;
  }

  /** Upload every queued and buffered invocation now; resolves when the uploads have ended. */
  async flush(): Promise<void> {
    this.handOff();
    if (!this.thread) return;
    const id = ++this.seq;
    await new Promise<void>((resolve) => {
      const done = () => {
        this.flushes.delete(id);
        resolve();
      };
      this.flushes.set(id, done);
      void this.post({ type: 'flush', id }).then((posted) => posted || done());
    });
  }

  async close(): Promise<void> {
    await this.flush();
    const thread = this.thread;
    this.thread = undefined;
    if (thread) {
      const w = await thread.catch(() => undefined);
      w?.removeAllListeners('exit');
      await w?.terminate();
    }
  }
}
