import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runDemo } from '../../lib/demo';

/**
 * The whole demo (what `npm start` runs) in-process on a fresh local cloud: ~45-90 s on the
 * 2-core machine. It asserts the outcome of every step, not how long they took.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'mlship-demo-test-'));
const modelsDir = mkdtempSync(join(tmpdir(), 'mlship-demo-models-'));
afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(modelsDir, { recursive: true, force: true });
});

/**
 * The example models with the load test's p99 bound at 5 s instead of 250 ms. The load test
 * measures the machine: with other suites running on two shared cores it measured p99 700 ms
 * and the releases ended LoadTestFailed. The demo's flow is what this test is about; the
 * gate's own decisions are tested in the workflow suite.
 */
function modelsWithLooseLatencyBound(): string {
  const dir = modelsDir;
  cpSync(join(import.meta.dirname, '..', '..', 'models'), dir, { recursive: true, filter: (src) => !/[\\/](out|node_modules)$/.test(src) });
  for (const model of ['delivery-time', 'ticket-triage']) {
    const file = join(dir, model, 'model.yaml');
    const yaml = readFileSync(file, 'utf8');
    if (!yaml.includes('p99Ms: 250')) throw new Error(`${file}: no p99Ms: 250 to loosen`);
    writeFileSync(file, yaml.replace('p99Ms: 250', 'p99Ms: 5000'));
  }
  return dir;
}

describe('Function: runDemo', () => {
  it(
    'takes both models from a push to a decision, one to production, detects drift and releases only the changed model',
    { timeout: 240_000 },
    async () => {
      // Prepare
      let text = '';
      const out = { write: (t: string) => void (text += t) };

      // Act
      const result = await runDemo({ dataDir, out, modelsDir: modelsWithLooseLatencyBound() });

      // Assess: every step held (the narration is the message when not)
      expect(result.ok, text).toBe(true);
      expect(result.steps.map((s) => s.ok)).toEqual(new Array(8).fill(true));
      expect(text).toMatch(/remote: mlship: started release delivery-time-\S+ for delivery-time/);
      expect(text).toMatch(/remote: mlship: started release ticket-triage-\S+ for ticket-triage/);
      expect(text).toMatch(/approved delivery-time\/\S+ as "Dana Reyes \(demo approver\)"/);
      expect(text).toMatch(/rejected ticket-triage\/\S+ as "Dana Reyes \(demo approver\)"/);
      expect(text).toMatch(/ticket-triage \S+: rejected, .*production has no version \(unchanged\)/);
      expect(text).toMatch(/verdict drift: \d+ of 10 features drifted/);
      expect(text).toMatch(/retraining release started because of the drift: delivery-time-drift-\S+ \(trigger drift/);
      expect(text).toMatch(/only ticket-triage was released/);
      // The first release of delivery-time has no production to shadow; its retraining release runs the
      // shadow stage while the demo sends live traffic, and the demo prints the verdict (issue 18).
      expect(text).toMatch(/delivery-time \(retraining\): shadow test \(\+/);
      expect(text).toMatch(
        /shadow test of delivery-time \S+ on live traffic: pass \(\d+ shadowed requests within the bounds.*\); \d+ live requests sent during the stage, all answered by production/,
      );
      // Before the merge, the branch push ran the check and printed its verdict (issue 21).
      expect(text).toMatch(/remote: mlship: check ticket-triage @ refund-routing [0-9a-f]{12}: PASSED/);
      const byLabel = new Map(result.summary.map((r) => [r[0], r]));
      expect(byLabel.get('delivery-time')?.[3]).toBe('archived');
      expect(byLabel.get('ticket-triage')?.[3]).toBe('rejected');
      expect(byLabel.get('delivery-time (retraining)')?.slice(2, 4)).toEqual(['drift', 'production']);
      expect(byLabel.get('ticket-triage (2nd push)')?.[3]).toBe('running: awaiting approval');
    },
  );
});
