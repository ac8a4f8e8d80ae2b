import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ListEndpointsCommand } from '@aws-sdk/client-sagemaker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODEL, WorkflowHarness } from './harness';

/**
 * Pull-request checks (issue 21): a push to a branch other than the model's release branch
 * runs the check (build, training, offline evaluation against production on the same holdout)
 * and prints the verdict to the pusher; nothing is deployed. `mlship check` does the same on the
 * working tree without a commit.
 */

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');

/** The fixture with slices of x, small enough to be gated on its 100-row holdout. */
const withSlices = (yaml: string) =>
  yaml.replace(
    '  bootstrap: 20\n',
    '  bootstrap: 200\n  slices:\n    - feature: x\n      buckets: [{ name: low, below: 5 }, { name: high }]\n  sliceGate: { minRows: 20 }\n',
  );

let h: WorkflowHarness;

const git = (...args: string[]) => run('git', ['-C', h.repo, '-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args]);
/** `git push` to the cloud's repository; the hook's output (the verdict) is on stderr, as "remote: ..." lines. */
const push = async (branch: string) => (await git('push', '--force', h.cloud.gitDir, `HEAD:refs/heads/${branch}`)).stderr;
const endpoints = async () => ((await h.sagemaker.send(new ListEndpointsCommand({}))).Endpoints ?? []).map((e) => e.EndpointName).sort();
const executions = () => h.cloud.stepFunctions.records().length;

beforeAll(async () => {
  h = await WorkflowHarness.start();
  // Production: a model 0.3 off everywhere.
  const prod = await h.releaseApproved({ bias: 0.3 }, withSlices);
  if (prod.record.status !== 'SUCCEEDED') throw new Error(await h.explain(prod.executionArn));
}, 240_000);

afterAll(async () => {
  await h?.close();
});

describe('Workflow: pull-request check', () => {
  it('fails a branch push with a model worse on one slice, names the slice to the pusher, and deploys nothing', async () => {
    // Prepare
    const before = { endpoints: await endpoints(), executions: executions() };
    await h.commit({ sliceBias: { below: 5, by: 1.5 } }, withSlices);

    // Act
    const out = await push('feature-regress');

    // Assess
    expect(out).toMatch(/check tiny @ feature-regress [0-9a-f]{12}: FAILED/);
    expect(out).toMatch(/RMSE \+\d+ % on x=low, n=\d+ \(/);
    expect(out).toContain('nothing was deployed');
    expect(await endpoints()).toEqual(before.endpoints);
    expect(executions()).toBe(before.executions);
    const records = (await h.keys(`checks/${MODEL}/`)).filter((k) => /^checks\/tiny\/[^/]+\.json$/.test(k));
    expect(await h.getJson(records.at(-1)!)).toMatchObject({ status: 'failed', ref: 'feature-regress', dirty: false });
  }, 240_000);

  it('passes a branch push with an improving model, and the merge to main releases it', async () => {
    // Prepare
    const before = await endpoints();
    const commit = await h.commit({ bias: 0 }, withSlices);

    // Act
    const out = await push('feature-improve');

    // Assess: the check passes and deploys nothing
    expect(out).toMatch(/check tiny @ feature-improve [0-9a-f]{12}: PASSED/);
    expect(await endpoints()).toEqual(before);

    // Act: the merge (main moves to the checked commit) releases it
    const merged = await push('main');
    const name = /started release (\S+) for tiny/.exec(merged)?.[1];
    expect(name, merged).toBeDefined();
    const arn = h.cloud.stepFunctions.records().find((r) => r.name === name)!.executionArn;
    const approval = await h.approvalOf(name!, arn);
    expect(approval).toBeDefined();
    await h.decide(name!, 'approve', 'the check passed');
    const record = await h.wait(arn);

    // Assess
    expect(record.status, await h.explain(arn)).toBe('SUCCEEDED');
    expect(await h.getJson(`registry/${MODEL}/production.json`)).toMatchObject({
      version: expect.stringMatching(new RegExp(`^${commit.slice(0, 7)}`)),
    });
  }, 240_000);

  it('mlship check runs on a dirty working tree without committing, and prints the verdict', async () => {
    // Prepare: an uncommitted change that makes the model worse on the low slice
    const head = (await git('rev-parse', 'HEAD')).stdout.trim();
    writeFileSync(join(h.repo, 'models', MODEL, 'knobs.json'), `${JSON.stringify({ sliceBias: { below: 5, by: 1.5 } })}\n`);

    // Act
    const res = await run(process.execPath, [join(ROOT, 'bin', 'mlship.mjs'), 'check', MODEL, '--endpoint-url', h.cloud.endpoint], {
      cwd: h.repo,
    }).catch((err: { code: number; stdout: string; stderr: string }) => err);

    // Assess: the verdict names the slice, the exit code says failed, and the tree and branch are as they were
    expect('code' in res ? res.code : 0).toBe(1);
    expect(res.stdout).toMatch(/check tiny @ main [0-9a-f]{12} \(uncommitted changes\): FAILED/);
    expect(res.stdout).toMatch(/on x=low, n=\d+/);
    expect((await git('rev-parse', 'HEAD')).stdout.trim()).toBe(head);
    expect((await git('status', '--porcelain')).stdout).toContain(`models/${MODEL}/knobs.json`);
  }, 240_000);
});
