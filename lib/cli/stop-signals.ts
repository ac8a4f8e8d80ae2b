/**
 * Ctrl-C and SIGTERM for a command that runs until it is stopped (`mlship up`).
 *
 * A terminal's Ctrl-C signals every process of the foreground group, and the wrappers a
 * command is often started through (npm, npx, the `tsx` command) also forward the signal
 * they got to their child. So one Ctrl-C can reach this process two or three times, a few
 * to some tens of milliseconds apart: the `tsx` command re-sends it when its child has not
 * told it within 30 ms that the signal arrived. Listeners are therefore installed before
 * anything starts and kept until the process exits (`process.once` left the default
 * action, death by the signal, for the second copy), and a copy of the first signal does
 * not count as a second Ctrl-C.
 */

/** The part of `process` the listeners use; tests pass an EventEmitter. */
export interface SignalSource {
  on(event: 'SIGINT' | 'SIGTERM', listener: () => void): unknown;
  off(event: 'SIGINT' | 'SIGTERM', listener: () => void): unknown;
}

export interface StopSignalsOptions {
  /** Called once, for a Ctrl-C pressed again during the stop. */
  onForce: (signal: 'SIGINT') => void;
  /** @default process */
  source?: SignalSource;
  /** Milliseconds, monotonic. @default performance.now */
  now?: () => number;
  /**
   * A SIGINT this soon after the first signal is a copy of it, not a second press.
   * Relayed copies come within tens of milliseconds; a person who presses Ctrl-C again
   * because the stop takes too long does so seconds later.
   * @default 1000
   */
  sameSignalMs?: number;
}

export interface StopSignals {
  /** Resolves with the first SIGINT or SIGTERM. */
  readonly stopped: Promise<'SIGINT' | 'SIGTERM'>;
  /** The first signal, once one came. */
  readonly signal: 'SIGINT' | 'SIGTERM' | undefined;
  /** Remove the listeners (tests; a command that exits keeps them to the end). */
  dispose(): void;
}

export function onStopSignals(opts: StopSignalsOptions): StopSignals {
  const source = opts.source ?? process;
  const now = opts.now ?? (() => performance.now());
  const sameSignalMs = opts.sameSignalMs ?? 1000;
  let first: { signal: 'SIGINT' | 'SIGTERM'; at: number } | undefined;
  let forced = false;
  let resolve!: (s: 'SIGINT' | 'SIGTERM') => void;
  const stopped = new Promise<'SIGINT' | 'SIGTERM'>((r) => (resolve = r));
  const handle = (signal: 'SIGINT' | 'SIGTERM') => {
    if (!first) {
      first = { signal, at: now() };
      resolve(signal);
      return;
    }
    // A repeated SIGTERM is a supervisor's retry; it sends SIGKILL when it wants the force.
    if (signal !== 'SIGINT' || forced || now() - first.at < sameSignalMs) return;
    forced = true;
    opts.onForce(signal);
  };
  const onInt = () => handle('SIGINT');
  const onTerm = () => handle('SIGTERM');
  source.on('SIGINT', onInt);
  source.on('SIGTERM', onTerm);
  return {
    stopped,
    get signal() {
      return first?.signal;
    },
    dispose() {
      source.off('SIGINT', onInt);
      source.off('SIGTERM', onTerm);
    },
  };
}
