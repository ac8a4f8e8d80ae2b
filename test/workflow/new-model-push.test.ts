import { execFile } from 'node:child_process';
import { cpSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localDecider } from '../../lib/console/decision-client';
import { LocalCloud } from '../../lib/local/cloud';
import { MODEL, WorkflowHarness } from './harness';

/**
 * issue 17: a new model needs only a push. The cloud starts serving `tiny`; a later push adds
 * a model directory it has never seen, and that model is released to production: no
 * `mlship up` again, no deployment step, nothing but `git push`.
 */
const run = promisify(execFile);
const NEW = 'fresh';
let h: WorkflowHarness;
const git = (...args: string[]) => run('git', ['-C', h.repo, '-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args]);

beforeAll(async () => {
  h = await WorkflowHarness.start();
  await h.commit({ quality: 'good' });
  await git('remote', 'add', 'mlship', h.cloud.gitDir);
});
afterAll(async () => {
  await h?.close();
});

/** The release executions of a model, newest first. */
async function releasesOf(model: string) {
  const { executions = [] } = await h.sfn.send(new ListExecutionsCommand({ stateMachineArn: LocalCloud.stateMachineArn('release') }));
  return executions.filter((e) => e.name!.startsWith(`${model}-`));
}

describe('Workflow: a brand-new model directory', () => {
  it('is released to production by a push alone', async () => {
    // Prepare: the cloud knows tiny only (and releases it on this first push)
    await git('push', '--quiet', 'mlship', 'main');
    expect(h.cloud.knownModels().map((m) => m.manifest.name)).not.toContain(NEW);
    // A copy of the fixture under a new name, in a directory of its own
    const dir = join(h.repo, 'models', NEW);
    cpSync(join(h.repo, 'models', MODEL), dir, { recursive: true });
    for (const f of readdirSync(dir).filter((x) => /\.(ya?ml)$/.test(x))) {
      const text = readFileSync(join(dir, f), 'utf8').replaceAll(`models/${MODEL}`, `models/${NEW}`);
      writeFileSync(join(dir, f), f === 'model.yaml' ? text.replace(/^name: .*$/m, `name: ${NEW}`) : text);
    }
    await git('add', '-A');
    await git('commit', '--quiet', '-m', `add ${NEW}`);
    const tinyBefore = (await releasesOf(MODEL)).length;

    // Act
    const { stderr } = await git('push', '--quiet', 'mlship', 'main');

    // Assess: the push started the new model's release, and only its
    expect(stderr).toMatch(new RegExp(`started release ${NEW}-`));
    expect(await releasesOf(MODEL)).toHaveLength(tinyBefore);
    const [started] = await releasesOf(NEW);
    expect(started).toBeDefined();
    for (;;) {
      const record = await h.getJson(`approvals/${NEW}/${started!.name}.json`);
      if (record?.status === 'pending') break;
      const rec = h.cloud.stepFunctions.records().find((r) => r.executionArn === started!.executionArn);
      if (rec?.status !== 'RUNNING')
        throw new Error(`the release of ${NEW} ended before approval: ${await h.explain(started!.executionArn!)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const decided = await localDecider(h.cloud.endpoint)({ id: `${NEW}/${started!.name}`, decision: 'approve', by: 'workflow-test' });
    expect(decided.ok).toBe(true);
    const record = await h.wait(started!.executionArn!);
    expect(record.status, await h.explain(started!.executionArn!)).toBe('SUCCEEDED');
    const production = await h.getJson(`registry/${NEW}/production.json`);
    expect(production?.version).toBeTruthy();
    expect(await h.traffic(`mlship-${NEW}-production`, [{ x: 1 }])).toEqual([200]);
  }, 600_000);
});
