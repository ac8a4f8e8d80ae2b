import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Narrator, secs } from './output';

/**
 * The demo's steps: each one narrates what it does, asserts its outcome and is timed. A
 * failed assertion names what was expected and what was found; the demo then stops and
 * exits 1, because every later step builds on the earlier ones.
 */

/** An outcome that is not what the step said it would be. */
export class DemoCheckError extends Error {
  constructor(
    readonly what: string,
    readonly expected: string,
    readonly found: string,
    options?: { cause?: unknown },
  ) {
    super(`${what}: expected ${expected}, found ${found}`, options);
    this.name = 'DemoCheckError';
  }
}

/** Assert `ok`, or fail the step with expected vs found. */
export function check(ok: boolean, what: string, expected: string, found: string | (() => string)): asserts ok {
  if (!ok) throw new DemoCheckError(what, expected, typeof found === 'function' ? found() : found);
}

export interface StepTiming {
  n: number;
  title: string;
  ms: number;
  ok: boolean;
  /**
   * The longest event-loop stall of this process during the step. The local cloud's task
   * handlers run in this process, so a stall here is latency the load tests measure.
   */
  maxStallMs: number;
}

export class StepRunner {
  readonly timings: StepTiming[] = [];
  private n = 0;
  private readonly stalls = monitorEventLoopDelay({ resolution: 10 });

  constructor(
    private readonly out: Narrator,
    private readonly total: number,
  ) {}

  /**
   * Run one step. Its result is returned; a thrown error is narrated (expected vs found for
   * a DemoCheckError, the message otherwise) and rethrown so the demo stops.
   */
  async run<T>(title: string, body: () => Promise<T>): Promise<T> {
    const n = ++this.n;
    const started = Date.now();
    this.stalls.enable();
    this.stalls.reset();
    const maxStallMs = () => Math.round(this.stalls.max / 1e6);
    this.out.raw('');
    this.out.say(`Step ${n}/${this.total}  ${title}`);
    try {
      const result = await body();
      const ms = Date.now() - started;
      this.timings.push({ n, title, ms, ok: true, maxStallMs: maxStallMs() });
      this.out.say(`  ok: step ${n} done in ${secs(ms)}`);
      return result;
    } catch (err) {
      const ms = Date.now() - started;
      this.timings.push({ n, title, ms, ok: false, maxStallMs: maxStallMs() });
      if (err instanceof DemoCheckError) {
        this.out.say(`  FAILED: step ${n} after ${secs(ms)}: ${err.what}\n    expected: ${err.expected}\n    found:    ${err.found}`);
      } else {
        this.out.say(
          `  FAILED: step ${n} after ${secs(ms)}: ${(err as Error)?.name ?? 'Error'}: ${(err as Error)?.message ?? String(err)}`,
        );
      }
      throw err;
    } finally {
      this.stalls.disable();
    }
  }
}

/** Resolve after `ms`, or early (with `false`) when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      resolve(false);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The demo was interrupted (SIGINT/SIGTERM). */
export class DemoAbortedError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'DemoAbortedError';
  }
}

/**
 * Poll `probe` until it returns a value other than undefined, or fail with expected vs the
 * last thing found after `timeoutMs`. Polling ends on every outcome: success, timeout, abort.
 */
export async function waitFor<T>(opts: {
  what: string;
  expected: string;
  timeoutMs: number;
  intervalMs?: number;
  signal?: AbortSignal;
  probe: () => Promise<{ value?: T; found: string }>;
}): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    if (opts.signal?.aborted) throw new DemoAbortedError(`interrupted while waiting: ${opts.what}`);
    const r = await opts.probe();
    if (r.value !== undefined) return r.value;
    if (Date.now() >= deadline) throw new DemoCheckError(opts.what, `${opts.expected} within ${secs(opts.timeoutMs)}`, r.found);
    await sleep(opts.intervalMs ?? 500, opts.signal);
  }
}
