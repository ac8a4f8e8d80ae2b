import { spawn, type ChildProcess } from 'node:child_process';
import { setPriority } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { S3Client } from '@aws-sdk/client-s3';
import type { CaptureSettings } from '../capture/format';
import { FrameWriter } from '../capture/frame';
import { sinkS3Config } from '../capture/writer';
import { copyOverflows, frameCopy, type FromMirror, type MirrorCopy, type MirrorOptions, type ToMirror } from './protocol';

/**
 * A shadow variant's copies, from the endpoint host's side. On AWS the shadow variant is served
 * by its own instances: SageMaker's front end hands it a copy and the production instance never
 * sees it. Locally the same holds: the hot path only appends the sampled request to a frame
 * (capture/frame.ts); every HANDOFF_MS the frame goes to this shadow's mirror process
 * (process.mjs, child.ts), which sends the copies to the shadow's model server, writes the
 * shadow's capture lines and reports each copy's (status, latency) back for the variant's
 * metrics.
 *
 * Why: sent from the host, each copy was a second HTTP exchange (undici's write and response
 * parse, about 44 µs of CPU, profiled) plus a second capture line on the host's side; at 50 %
 * sampling the host's CPU per production invocation rose 1.14-1.30x (bench/endpoint --shadow),
 * above the 1.1x issue 18 allows.
 *
 * Why a hand-off every 250 ms and not the capture's 1 s: tests and the shadow stage read the
 * shadow's metrics soon after the traffic, and the mirror sends each copy 250 ms after
 * production received it, spread as the requests came. Each hand-off is one message on the
 * host's event loop: 4 a second (plus 2 of outcomes back) against 1,000 invocations.
 * flush() sends at once.
 */
const HANDOFF_MS = 250;

/**
 * Copies to a shadow in flight at once. A shadow that hangs holds each copy until the
 * invocation timeout; past this many the next copies are dropped (counted as 503s of the
 * shadow), so a hung shadow costs a bounded amount of memory and sockets.
 */
export const MAX_SHADOW_IN_FLIGHT = 64;

/**
 * The lowest CPU priority, for the shadow's model server and mirror process. On a 2-core laptop
 * they otherwise take a core from production's request in flight: before this module (copies
 * sent by the host, the shadow's server at the default priority) bench/endpoint's paced p99
 * added was 1.11-3.86x shadow off, median of 3 runs 2.31x; with the mirror and both at nice 19,
 * 0.67-5.25x, median of 9 runs 1.11x: better, still not within 1.1x on 2 shared cores
 * (docs/shadow.md, "The shadow's processes run at nice 19", has the figures).
 * (SCHED_IDLE through chrt measured no better and was taken out.) The shadow is never what a
 * caller waits for.
 */
export const SHADOW_NICE = 19;

export interface ShadowMirrorOptions {
  endpoint: string;
  variant: string;
  /** The shadow's model server port (known once the server has started). */
  port: () => number;
  capture?: CaptureSettings;
  s3: S3Client;
  flushRecords: number;
  flushMs: number;
  /** Count one copy's outcome: the shadow variant's metrics and the endpoint's series. */
  record: (status: number, latencyMs: number) => void;
}

export class ShadowMirror {
  /** Failures of the mirror process (it stopped, an upload failed), kept for tests and the CLI. */
  readonly errors: Error[] = [];
  private readonly frame = new FrameWriter();
  private timer?: NodeJS.Timeout;
  private proc?: Promise<ChildProcess>;
  /** The process `proc` resolved to while it runs; close() forgets it before ending it. */
  private running?: ChildProcess;
  /** Copies handed to the running process whose outcome has not come back. */
  private outstanding = 0;
  private seq = 0;
  private readonly flushes = new Map<number, () => void>();
  private closed = false;

  constructor(private readonly opts: ShadowMirrorOptions) {}

  /** The hot path: frame one copy (its bytes are copied: the request's buffer may be reused). */
  copy(copy: MirrorCopy): void {
    if (this.closed) return;
    if (copyOverflows(this.frame, copy)) this.handOff();
    frameCopy(this.frame, copy);
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
    void this.post({ type: 'batch', frame }).then((sent) => {
      if (sent) this.outstanding += frame.count;
      else for (let i = 0; i < frame.count; i++) this.opts.record(503, 0);
    });
  }

  /** Messages go through one promise chain, in order; false when no process could take it. */
  private post(message: ToMirror): Promise<boolean> {
    const proc = (this.proc ??= this.start());
    return proc.then(
      (child) => {
        if (!child.connected) return false;
        child.send(message, () => undefined);
        return true;
      },
      (err: Error) => {
        if (this.proc === proc) {
          this.proc = undefined;
          this.errors.push(
            new Error(`shadow ${this.opts.variant}: the mirror process did not start (${err.message}); copies counted as 503`),
          );
        }
        return false;
      },
    );
  }

  private async start(): Promise<ChildProcess> {
    const { capture, s3, flushRecords, flushMs } = this.opts;
    const options: MirrorOptions = {
      endpoint: this.opts.endpoint,
      variant: this.opts.variant,
      port: this.opts.port(),
      maxInFlight: MAX_SHADOW_IN_FLIGHT,
      delayMs: HANDOFF_MS,
      capture: capture && { settings: capture, s3: await sinkS3Config(s3), flushRecords, flushMs },
    };
    const entry = fileURLToPath(new URL('./process.mjs', import.meta.url));
    // As the capture process (capture/writer.ts): bytes over advanced serialization, out of the
    // terminal's process group, one GC thread, ended by the IPC channel's close.
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
    try {
      setPriority(child.pid!, SHADOW_NICE);
    } catch {
      // gone already: its exit is reported below
    }
    child.send({ type: 'init', options } satisfies ToMirror);
    child.on('message', (m: FromMirror) => this.received(m));
    child.on('error', () => undefined); // a failed send; the exit that follows is reported
    child.once('exit', (code, signal) => this.exited(child, signal ?? `exit code ${code}`));
    child.unref();
    child.channel?.unref();
    this.running = child;
    return child;
  }

  private received(m: FromMirror): void {
    if (m.type === 'outcomes') {
      const p = m.pairs;
      for (let i = 0; i + 1 < p.length; i += 2) this.opts.record(p[i]!, p[i + 1]!);
      this.outstanding -= p.length / 2;
    } else if (m.type === 'error') {
      this.errors.push(new Error(m.message));
    } else {
      this.flushes.get(m.id)?.();
    }
  }

  /** The copies the process held never got an answer: 503s of the shadow. The next hand-off starts a new process. */
  private exited(child: ChildProcess, how: string): void {
    const lost = this.outstanding;
    this.outstanding = 0;
    for (let i = 0; i < lost; i++) this.opts.record(503, 0);
    if (this.running === child) {
      this.errors.push(new Error(`shadow ${this.opts.variant}: the mirror process stopped (${how}); ${lost} copies counted as 503`));
      this.running = this.proc = undefined;
    }
    for (const done of this.flushes.values()) done();
    this.flushes.clear();
  }

  /** Send every framed copy now; resolves once their outcomes are counted and the shadow's capture uploaded. */
  async flush(): Promise<void> {
    this.handOff();
    const child = await this.proc?.catch(() => undefined);
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
      child.send({ type: 'flush', id } satisfies ToMirror, (err) => err && done());
    });
  }

  /** Flush, then end the process (SIGKILL if it has not gone in 5 s): the shadow is removed. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
    const proc = this.proc;
    this.proc = undefined;
    const child = await proc?.catch(() => undefined);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.running = undefined;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.disconnect();
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}
