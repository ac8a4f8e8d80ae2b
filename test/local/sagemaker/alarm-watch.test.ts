import { describe, expect, it } from 'vitest';
import { minimumBakeSeconds, rollbackAlarmSpecs } from '../../../lib/config';
import { AlarmWatcher } from '../../../lib/local/services/sagemaker/alarm-watch';
import { InvocationSeries } from '../../../lib/local/services/sagemaker/metric-series';
import { tinyModel } from '../fixtures/harness';

/** timeScale 0.01: a minute is 600 ms. */
const MINUTE_MS = 600;
const SECOND_MS = MINUTE_MS / 60;

/**
 * A canary of 10 % of 4 instances, max5xxRate 1 %: the manifest's alarms (threshold 0.1 % on
 * the mixed variant). Traffic of 1000 calls a minute from `start`; every 10th goes to the new
 * fleet, which fails one call in `failEvery`. Returns when (ms after `start`) the watcher rolls
 * back, or undefined when it did not within `forMs`.
 */
function bake(startOffsetSeconds: number, failEvery: number, forMs = minimumBakeSeconds() * SECOND_MS) {
  let now = 1_000_000 * MINUTE_MS;
  const start = now + startOffsetSeconds * SECOND_MS;
  const model = tinyModel();
  Object.assign(model.manifest.deployment, { strategy: 'canary', stepPercent: 10, alarms: { max5xxRate: 0.01, p99LatencyMs: 1000 } });
  model.manifest.serve.instanceCount = 4;
  const [errorRate] = rollbackAlarmSpecs(model.manifest, 'mlship-');
  const series = new InvocationSeries(MINUTE_MS, () => now);
  // The old fleet served healthy traffic for a few minutes before the update.
  for (; now < start; now += MINUTE_MS / 1000) series.record('AllTraffic', 200, 5);
  const watcher = new AlarmWatcher([{ name: errorRate!.name, definition: errorRate! }], series, ['AllTraffic'], start);
  let green = 0;
  for (let i = 0; now < start + forMs; i++, now += MINUTE_MS / 1000) {
    const toGreen = i % 10 === 0;
    const failed = toGreen && green++ % failEvery === 0;
    series.record('AllTraffic', failed ? 500 : 200, 5);
    const reason = watcher.advance(now);
    if (reason) return { afterMs: now - start, reason };
  }
  return undefined;
}

describe('Class: AlarmWatcher', () => {
  it('rolls back a canary failing 2 % of its calls within the 3-minute bake, wherever in the minute the bake starts, though the alarm sees both fleets', () => {
    for (let offset = 0; offset < 60; offset += 5) {
      // Act
      const fired = bake(offset, 50);

      // Assess: not before its first minute is over and published, always before the bake ends
      expect(fired, `bake starting ${offset} s into a minute`).toBeDefined();
      expect(fired!.afterMs).toBeGreaterThanOrEqual((120 - offset) * SECOND_MS);
      expect(fired!.afterMs).toBeLessThanOrEqual(minimumBakeSeconds() * SECOND_MS);
      expect(fired!.reason).toMatch(
        /^alarm mlship-tiny-5xx \(5xx rate of variant AllTraffic, .*\): Threshold Crossed: 1 out of the last 1 datapoints \[0\.00[12]\d*\] was greater than the threshold \(0\.001\)/,
      );
    }
  });

  it('leaves a canary within its bound alone (0.5 % of its calls failing, under the 1 % of the manifest)', () => {
    // Act + Assess: ten minutes of it
    expect(bake(0, 200, 10 * MINUTE_MS)).toBeUndefined();
  });
});
