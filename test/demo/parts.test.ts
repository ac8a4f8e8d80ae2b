import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { fmtMetrics, fmtNumber, Narrator, table } from '../../lib/demo/output';
import { DemoRepo, parseHookOutput } from '../../lib/demo/repo';
import { check, DemoAbortedError, DemoCheckError, StepRunner, waitFor } from '../../lib/demo/steps';
import { groundTruthLines, groundTruthPrefix } from '../../lib/demo/traffic';

const run = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), 'mlship-demo-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const collector = () => {
  let text = '';
  return { sink: { write: (t: string) => void (text += t) }, text: () => text };
};

describe('Function: parseHookOutput', () => {
  it('returns each started release with its execution ARN from the remote lines', () => {
    // Prepare
    const text = [
      'remote: mlship: started release delivery-time-abc12345-x1 for delivery-time at abc12345def0',
      'remote: mlship:   arn:aws:states:us-east-1:000000000000:execution:mlship-release:delivery-time-abc12345-x1',
      'remote: mlship: started release ticket-triage-abc12345-x2 for ticket-triage at abc12345def0',
      'remote: mlship:   arn:aws:states:us-east-1:000000000000:execution:mlship-release:ticket-triage-abc12345-x2',
      'To /tmp/x/models.git',
    ].join('\n');

    // Act
    const { started, hookOutput } = parseHookOutput(text);

    // Assess
    expect(hookOutput).toHaveLength(4);
    expect(started).toEqual([
      {
        name: 'delivery-time-abc12345-x1',
        model: 'delivery-time',
        commit: 'abc12345def0',
        executionArn: 'arn:aws:states:us-east-1:000000000000:execution:mlship-release:delivery-time-abc12345-x1',
      },
      {
        name: 'ticket-triage-abc12345-x2',
        model: 'ticket-triage',
        commit: 'abc12345def0',
        executionArn: 'arn:aws:states:us-east-1:000000000000:execution:mlship-release:ticket-triage-abc12345-x2',
      },
    ]);
  });

  it('returns no release when the hook says nothing matched', () => {
    // Act
    const { started, hookOutput } = parseHookOutput(
      "remote: mlship: main 0123456789ab: no model's paths match the 1 changed file(s); nothing to release\n",
    );

    // Assess
    expect(started).toEqual([]);
    expect(hookOutput[0]).toContain('nothing to release');
  });
});

describe('Function: groundTruthLines', () => {
  it('writes one Model Monitor ground-truth line per inferenceId', () => {
    // Act
    const text = groundTruthLines(
      new Map([
        ['live-1', '12.5'],
        ['live-2', 'billing'],
      ]),
    );

    // Assess
    const lines = text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as unknown);
    expect(lines).toEqual([
      { groundTruthData: { data: '12.5', encoding: 'CSV' }, eventMetadata: { eventId: 'live-1' }, eventVersion: '0' },
      { groundTruthData: { data: 'billing', encoding: 'CSV' }, eventMetadata: { eventId: 'live-2' }, eventVersion: '0' },
    ]);
  });

  it('puts the labels under the UTC hour they arrive in', () => {
    // Act
    const prefix = groundTruthPrefix('delivery-time', new Date('2026-11-27T01:02:03Z'));

    // Assess
    expect(prefix).toBe('ground-truth/delivery-time/2026/11/27/01/');
  });
});

describe('Class: Narrator', () => {
  describe('Method: say', () => {
    it('prefixes the elapsed seconds and indents continuation lines under the text', () => {
      // Prepare
      let now = 1000;
      const out = collector();
      const narrator = new Narrator(out.sink, () => now);
      now = 13_450;

      // Act
      narrator.say('first\nsecond');

      // Assess
      expect(out.text()).toBe('[  12.4s] first\n          second\n');
    });
  });
});

describe('Class: StepRunner', () => {
  describe('Method: run', () => {
    it('times a step that holds and returns its result', async () => {
      // Prepare
      const out = collector();
      const runner = new StepRunner(new Narrator(out.sink), 2);

      // Act
      const result = await runner.run('Do a thing', async () => 42);

      // Assess
      expect(result).toBe(42);
      expect(runner.timings).toEqual([expect.objectContaining({ n: 1, title: 'Do a thing', ok: true })]);
      expect(out.text()).toContain('Step 1/2  Do a thing');
      expect(out.text()).toContain('ok: step 1 done in');
    });

    it('prints expected and found for a failed check and rethrows it', async () => {
      // Prepare
      const out = collector();
      const runner = new StepRunner(new Narrator(out.sink), 1);

      // Act
      const act = runner.run('Check a thing', async () => check(false, 'the answer', '42', '41'));

      // Assess
      await expect(act).rejects.toBeInstanceOf(DemoCheckError);
      expect(runner.timings[0]?.ok).toBe(false);
      expect(out.text()).toMatch(/FAILED: step 1 after [\d.]+s: the answer\n\s+expected: 42\n\s+found:\s+41/);
    });
  });
});

describe('Function: waitFor', () => {
  it('returns the first value the probe finds', async () => {
    // Prepare
    let calls = 0;

    // Act
    const value = await waitFor({
      what: 'x',
      expected: 'y',
      timeoutMs: 5000,
      intervalMs: 1,
      probe: async () => (++calls < 3 ? { found: `call ${calls}` } : { value: calls, found: 'done' }),
    });

    // Assess
    expect(value).toBe(3);
  });

  it('fails with what it last found when the time is up', async () => {
    // Act
    const act = waitFor({ what: 'the release', expected: 'awaiting approval', timeoutMs: 0, probe: async () => ({ found: 'in build' }) });

    // Assess
    await expect(act).rejects.toThrow('the release: expected awaiting approval within 0.0s, found in build');
  });

  it('stops when the demo is interrupted', async () => {
    // Prepare
    const controller = new AbortController();
    controller.abort();

    // Act
    const act = waitFor({
      what: 'x',
      expected: 'y',
      timeoutMs: 60_000,
      signal: controller.signal,
      probe: async () => ({ found: 'nothing' }),
    });

    // Assess
    await expect(act).rejects.toBeInstanceOf(DemoAbortedError);
  });
});

describe('Function: table', () => {
  it('aligns columns two spaces apart', () => {
    // Act
    const text = table(['A', 'BB'], [['long', 'x']]);

    // Assess
    expect(text).toBe('A     BB\nlong  x');
  });

  it('formats metrics for people', () => {
    // Assess
    expect(fmtNumber(4.50612)).toBe('4.506');
    expect(fmtNumber(326.84)).toBe('326.8');
    expect(fmtNumber(null)).toBe('-');
    expect(fmtMetrics({ mae: 4.5, r2: 0.9381, rmse: 7.3 }, ['mae', 'r2'])).toBe('mae 4.5, r2 0.938');
  });
});

describe('Class: DemoRepo', () => {
  describe('Method: push', () => {
    it('copies the models without build outputs, commits, and reads the releases the hook reports', async () => {
      // Prepare: a models dir with an output folder, and a bare remote whose hook speaks like mlship's.
      const models = join(work, 'models');
      mkdirSync(join(models, 'm1', 'out'), { recursive: true });
      writeFileSync(join(models, 'm1', 'model.yaml'), 'name: m1\n');
      writeFileSync(join(models, 'm1', 'out', 'model.json'), '{}');
      const bare = join(work, 'remote.git');
      await run('git', ['init', '--bare', '--quiet', '--initial-branch=main', bare]);
      const hook = join(bare, 'hooks', 'post-receive');
      writeFileSync(
        hook,
        '#!/bin/sh\nread old new ref\necho "mlship: started release m1-${new%????????????????????????????????} for m1 at $new"\necho "mlship:   arn:aws:states:us-east-1:000000000000:execution:mlship-release:m1-x"\n',
      );
      chmodSync(hook, 0o755);
      const repo = await DemoRepo.create(work);

      // Act
      await repo.addRemote('mlship', bare);
      const based = await repo.baseOn('mlship');
      repo.copyModels(models);
      const commit = await repo.commitAll('first');
      const push = await repo.push('mlship');

      // Assess
      expect(based).toBe(false);
      expect(repo.models()).toEqual(['m1']);
      expect(existsSync(join(repo.dir, 'models', 'm1', 'out'))).toBe(false);
      expect(push.commit).toBe(commit);
      expect(push.started).toEqual([
        {
          name: `m1-${commit.slice(0, 8)}`,
          model: 'm1',
          commit,
          executionArn: 'arn:aws:states:us-east-1:000000000000:execution:mlship-release:m1-x',
        },
      ]);
    });

    it("builds on the remote's main when a cloud already has the models, so the push fast-forwards", async () => {
      // Prepare: the remote of the previous test has main with models/m1.
      const bare = join(work, 'remote.git');
      const repo = await DemoRepo.create(work);
      await repo.addRemote('mlship', bare);

      // Act
      const based = await repo.baseOn('mlship');
      repo.copyModels(join(work, 'models'));
      const unchanged = !(await repo.hasChanges());
      repo.append('models/m1/model.yaml', '# again\n');
      await repo.commitAll('second');
      const push = await repo.push('mlship');

      // Assess
      expect(based).toBe(true);
      expect(unchanged).toBe(true);
      expect(push.started).toHaveLength(1);
    });
  });
});

describe('Function: phaseOf', () => {
  it('narrates the pruning states within the phase they belong to, not under their state names', async () => {
    // Prepare
    const { phaseOf } = await import('../../lib/demo/releases');
    // Act / Assess
    expect(phaseOf('PruneVersions')).toBe('promote');
    expect(phaseOf('PruneRolledBackVersion')).toBe('record outcome');
  });

  it('narrates the shadow stage as one phase, and the shadow cleanup within the staging cleanup', async () => {
    const { phaseOf } = await import('../../lib/demo/releases');
    for (const state of ['StartShadowTest', 'IsShadowTestRunning', 'WaitForShadowTraffic', 'CheckShadowTest', 'IsShadowTestDone'])
      expect(phaseOf(state), state).toBe('shadow test');
    expect(phaseOf('RemoveShadowVariant')).toBe('delete staging');
    expect(phaseOf('ReachedShadowStage')).toBe('delete staging');
  });

  it('narrates the A/B test after the approval as one phase, and its cleanup within the staging cleanup', async () => {
    const { phaseOf } = await import('../../lib/demo/releases');
    for (const state of ['StartAbTest', 'IsAbTestRunning', 'WaitForAbTraffic', 'CheckAbTest', 'IsAbTestDone'])
      expect(phaseOf(state), state).toBe('a/b test');
    expect(phaseOf('RemoveAbVariant')).toBe('delete staging');
    expect(phaseOf('ReachedAbStage')).toBe('delete staging');
  });
});
