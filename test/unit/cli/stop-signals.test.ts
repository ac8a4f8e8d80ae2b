import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { onStopSignals } from '../../../lib/cli/stop-signals';

/** A fake process that emits signals, and a clock the test moves. */
function setup() {
  const source = new EventEmitter();
  let t = 0;
  const onForce = vi.fn();
  const signals = onStopSignals({ source, now: () => t, onForce });
  return { source, signals, onForce, advance: (ms: number) => (t += ms) };
}

describe('Function: onStopSignals', () => {
  it('resolves with the first signal and keeps listening for the rest of the stop', async () => {
    // Prepare
    const { source, signals } = setup();

    // Act
    source.emit('SIGTERM');

    // Assess
    await expect(signals.stopped).resolves.toBe('SIGTERM');
    expect(signals.signal).toBe('SIGTERM');
    expect(source.listenerCount('SIGINT')).toBe(1);
    expect(source.listenerCount('SIGTERM')).toBe(1);
  });

  it('takes copies of one Ctrl-C relayed by wrappers (npm, tsx) for that one Ctrl-C', async () => {
    // Prepare
    const { source, signals, onForce, advance } = setup();

    // Act: the terminal's copy, then npm's at once, then tsx's re-send 30 ms later
    source.emit('SIGINT');
    source.emit('SIGINT');
    advance(30);
    source.emit('SIGINT');

    // Assess
    await expect(signals.stopped).resolves.toBe('SIGINT');
    expect(onForce).not.toHaveBeenCalled();
  });

  it('forces the stop on a Ctrl-C pressed again later, once', () => {
    // Prepare
    const { source, onForce, advance } = setup();

    // Act
    source.emit('SIGINT');
    advance(2000);
    source.emit('SIGINT');
    source.emit('SIGINT');

    // Assess
    expect(onForce).toHaveBeenCalledTimes(1);
    expect(onForce).toHaveBeenCalledWith('SIGINT');
  });

  it('does not force on a repeated SIGTERM', () => {
    // Prepare
    const { source, onForce, advance } = setup();

    // Act
    source.emit('SIGTERM');
    advance(5000);
    source.emit('SIGTERM');

    // Assess
    expect(onForce).not.toHaveBeenCalled();
  });

  it('removes its listeners on dispose', () => {
    // Prepare
    const { source, signals } = setup();

    // Act
    signals.dispose();

    // Assess
    expect(source.listenerCount('SIGINT')).toBe(0);
    expect(source.listenerCount('SIGTERM')).toBe(0);
  });
});
