import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import type { CapturedInvocation, CaptureSettings } from './format';
import { FrameWriter } from './frame';
import type { FromSink, SinkOptions, ToSink } from './sink';

/**
 * Data capture, from the proxy's side. The hot path only samples an invocation and copies it
 * into a frame (frame.ts); every HANDOFF_MS the frame goes to a capture process
 * (process.mjs, sink.ts) that formats the lines and uploads them.
 *
 * Why not on the edge's event loop: measured with bench/endpoint, formatting each line and the
 * upload of each batch (SDK, signing, a 300 KB request) there held up the invocations behind
 * them and more than doubled the p99 latency the endpoint adds.
 *
 * Why a process rather than a worker thread: a worker's garbage collector shares the process's
 * GC helper threads with the edge, and its mark-compacts (every 5-10 s, 3-9 ms) then took both
 * cores. In paced load, 55-88 % of the invocations in flight during one were among the slowest
 * 1 %, the largest share of any event in the capture path. The process runs with
 * --single-threaded-gc, so its collections take one core at most.
 *
 * Why a hand-off a second: each message to the sink delays the invocation in flight. Measured
 * with autocannon's bursts (p99 added, median of 10 rounds, same run): capture off 0.40 ms;
 * frames built but never posted 0.53 ms; posted every 50 ms 0.89 ms. Twenty hand-offs a second
 * touched 2 % of the invocations at 1,000 a second, enough to move the p99; one a second
 * touches 0.1 %. The sink uploads every FLUSH_MS anyway, so the later hand-off delays no upload.
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
export const FLUSH_MS = 5000;
export const FLUSH_RECORDS = 10_000;

/** The settings of the S3 client given, which the capture process builds its own client from. */
export async function sinkS3Config(s3: S3Client): Promise<S3ClientConfig> {
  const c = s3.config;
  const ep = c.endpoint ? await c.endpoint() : undefined;
  const { accessKeyId, secretAccessKey, sessionToken } = await c.credentials();
  return {
    region: await c.region(),
    endpoint: ep ? `${ep.protocol}//${ep.hostname}${ep.port ? `:${ep.port}` : ''}${ep.path}` : undefined,
    credentials: { accessKeyId, secretAccessKey, sessionToken },
    forcePathStyle: c.forcePathStyle,
    maxAttempts: await c.maxAttempts(),
    requestChecksumCalculation: await c.requestChecksumCalculation(),
    responseChecksumValidation: await c.responseChecksumValidation(),
  };
}

export class CaptureWriter {
  /** Failed uploads, kept so a test or the CLI can see that capture is losing data. */
  readonly errors: Error[] = [];
  private readonly frame = new FrameWriter();
  private settings = new Map<CaptureSettings, number>();
  private timer?: NodeJS.Timeout;
  private sink?: Promise<ChildProcess>;
  /** The process `sink` resolved to, once it has started; close() forgets it before ending it. */
  private running?: ChildProcess;
  private seq = 0;
  private readonly flushes = new Map<number, () => void>();

  constructor(
    private readonly s3: S3Client,
    private readonly flushRecords = FLUSH_RECORDS,
    private readonly flushMs = FLUSH_MS,
  ) {}

  /** Sample and frame one invocation; the capture process formats and uploads it. */
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
    void this.post({ type: 'batch', batch });
  }

  /**
   * Messages go through one promise chain, so they reach the process in order even while it
   * starts. Resolves false when it could not start: the error is kept, and the next post tries again.
   */
  private post(message: ToSink): Promise<boolean> {
    const sink = (this.sink ??= this.start());
    return sink.then(
      (child) => {
        // A process that has gone gets nothing; its exit handler reports the loss, once.
        if (!child.connected) return false;
        child.send(message, () => undefined);
        return true;
      },
      (err: Error) => {
        if (this.sink === sink) {
          this.sink = undefined;
          this.errors.push(new Error(`data capture: the capture process did not start (${err.message}); records are lost`));
        }
        return false;
      },
    );
  }

  private async start(): Promise<ChildProcess> {
    const options: SinkOptions = { s3: await sinkS3Config(this.s3), flushRecords: this.flushRecords, flushMs: this.flushMs };
    const entry = fileURLToPath(new URL('./process.mjs', import.meta.url));
    // Advanced serialization carries the frame's ArrayBuffer as bytes, not as JSON.
    // detached: out of the terminal's process group, so a Ctrl-C cannot end it while it
    // loads, before process.mjs ignores signals; it ends when the IPC channel closes.
    const child = spawn(process.execPath, ['--single-threaded-gc', entry], {
      detached: true,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    child.send({ type: 'init', options } satisfies ToSink);
    child.on('message', (m: FromSink) => {
      if (m.type === 'error') this.errors.push(new Error(m.message));
      else this.flushes.get(m.id)?.();
    });
    child.on('error', () => undefined); // a failed send; the exit that follows is reported
    child.once('exit', (code, signal) => {
      // Only an exit close() did not ask for loses records; the next hand-off starts a new process.
      if (this.running === child) {
        this.errors.push(
          new Error(`data capture: the capture process stopped (${signal ?? `exit code ${code}`}); its buffered records are lost`),
        );
        this.running = this.sink = undefined;
      }
      for (const done of this.flushes.values()) done();
      this.flushes.clear();
    });
    // Neither the process nor its channel keeps the proxy's process alive; a flush does, while it waits.
    child.unref();
    child.channel?.unref();
    this.running = child;
    return child;
  }

  /** Upload every queued and buffered invocation now; resolves when the uploads have ended. */
  async flush(): Promise<void> {
    this.handOff();
    // After the hand-off's own post, which reports a process that could not start.
    const child = await this.sink?.catch(() => undefined);
    if (!child?.connected) return;
    const id = ++this.seq;
    await new Promise<void>((resolve) => {
      const done = () => {
        this.flushes.delete(id);
        if (this.flushes.size === 0) child.channel?.unref();
        resolve();
      };
      this.flushes.set(id, done);
      child.channel?.ref();
      child.send({ type: 'flush', id } satisfies ToSink, (err) => err && done());
    });
  }

  async close(): Promise<void> {
    await this.flush();
    const sink = this.sink;
    this.sink = undefined;
    const child = await sink?.catch(() => undefined);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    // Closing the channel ends the process (process.mjs); SIGKILL if it has not gone in 5 s.
    this.running = undefined;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.disconnect();
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}
