import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DescribeExecutionCommand, ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { LocalCloud } from '../../lib/local/cloud';
import { startTestCloud, type TestCloud } from './helpers';

const run = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), 'mlship-git-'));
let t: TestCloud;

const manifest = (name: string, paths: string[]) => `name: ${name}
task: regression
paths: [${paths.map((p) => JSON.stringify(p)).join(', ')}]
serve:
  command: node serve.mjs
features:
  - { name: x, type: numeric }
label: y
`;

async function git(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run('git', ['-C', work, '-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args]);
}

function write(path: string, text: string): void {
  mkdirSync(join(work, path, '..'), { recursive: true });
  writeFileSync(join(work, path), text);
}

/** The releases started so far: input by execution name. */
async function releases(): Promise<Array<Record<string, unknown>>> {
  const { executions = [] } = await t.sfn.send(new ListExecutionsCommand({ stateMachineArn: LocalCloud.stateMachineArn('release') }));
  const inputs = [];
  for (const e of executions) {
    const d = await t.sfn.send(new DescribeExecutionCommand({ executionArn: e.executionArn }));
    inputs.push(JSON.parse(d.input!) as Record<string, unknown>);
  }
  return inputs;
}

beforeAll(async () => {
  // Prepare: releases fail fast; this test is about what starts them
  t = await startTestCloud({
    functions: {
      'mlship-PrepareRelease': async () => {
        const err = new Error('stopped by the test');
        err.name = 'InvalidManifestError';
        throw err;
      },
      'mlship-RecordOutcome': async () => ({ outcome: 'failed', notified: false }),
    },
  });
  await run('git', ['init', '--quiet', '--initial-branch=main', work]);
  write('models/alpha/model.yaml', manifest('alpha', ['models/alpha/**']));
  write('models/alpha/serve.mjs', '// v1\n');
  write('models/beta/model.yaml', manifest('beta', ['models/beta/**', 'shared/*.py']));
  write('shared/util.py', '# v1\n');
  write('README.md', 'hello\n');
  await git('add', '-A');
  await git('commit', '--quiet', '-m', 'first');
  await git('remote', 'add', 'mlship', t.cloud.gitDir);
});

afterAll(async () => {
  await t?.close();
  rmSync(work, { recursive: true, force: true });
});

describe('Function: handlePush (git push trigger)', () => {
  it('starts one release per model on the first push and prints them to the pusher', async () => {
    // Act
    const { stderr } = await git('push', '--quiet', 'mlship', 'main');
    const commit = (await git('rev-parse', 'HEAD')).stdout.trim();

    // Assess
    expect(stderr).toMatch(/remote: mlship: started release alpha-[0-9a-f]{8}-\S+ for alpha/);
    expect(stderr).toMatch(/remote: mlship: started release beta-[0-9a-f]{8}-\S+ for beta/);
    const started = await releases();
    expect(started).toHaveLength(2);
    expect(started).toContainEqual({ model: 'alpha', commitId: commit, sourceUri: `s3://mlship-artifacts/source/alpha/${commit}.zip`, trigger: 'push', author: { name: 't', email: 't@example.com' } });
    const head = await t.s3.send(new HeadObjectCommand({ Bucket: 'mlship-artifacts', Key: `source/beta/${commit}.zip` }));
    expect(head.ContentLength).toBeGreaterThan(0);
  });

  it('starts only the models whose path globs match the changed files', async () => {
    // Prepare
    write('shared/util.py', '# v2\n');
    await git('commit', '--quiet', '-am', 'shared change');

    // Act
    const { stderr } = await git('push', '--quiet', 'mlship', 'main');

    // Assess
    expect(stderr).toContain('for beta');
    expect(stderr).not.toContain('for alpha');
    expect((await releases()).filter((r) => r.model === 'beta')).toHaveLength(2);
  });

  it('starts nothing when no glob matches', async () => {
    write('README.md', 'changed\n');
    await git('commit', '--quiet', '-am', 'docs');
    const { stderr } = await git('push', '--quiet', 'mlship', 'main');
    expect(stderr).toContain('nothing to release');
    expect(await releases()).toHaveLength(3);
  });

  it('ignores pushes to another branch than the manifests name', async () => {
    await git('checkout', '--quiet', '-b', 'feature');
    write('models/alpha/serve.mjs', '// v2\n');
    await git('commit', '--quiet', '-am', 'feature work');
    const { stderr } = await git('push', '--quiet', 'mlship', 'feature');
    expect(stderr).toContain('nothing to release');
    expect(await releases()).toHaveLength(3);
  });
});

describe('Function: ensureRepository (the README path: data dir inside the checkout)', () => {
  it('releases on push when the data dir sits under a package.json with "type": "module"', async () => {
    // Prepare: the README's layout — `mlship up` in a checkout whose package.json makes
    // extension-less scripts ESM, with the default data dir `.mlship/` inside it
    const checkout = mkdtempSync(join(tmpdir(), 'mlship-checkout-'));
    writeFileSync(join(checkout, 'package.json'), JSON.stringify({ name: 'x', type: 'module' }));
    const local = await startTestCloud({
      dataDir: join(checkout, '.mlship'),
      functions: {
        'mlship-PrepareRelease': async () => {
          const err = new Error('stopped by the test');
          err.name = 'InvalidManifestError';
          throw err;
        },
        'mlship-RecordOutcome': async () => ({ outcome: 'failed', notified: false }),
      },
    });
    const repo = mkdtempSync(join(tmpdir(), 'mlship-user-repo-'));
    try {
      await run('git', ['init', '--quiet', '--initial-branch=main', repo]);
      mkdirSync(join(repo, 'models', 'alpha'), { recursive: true });
      writeFileSync(join(repo, 'models', 'alpha', 'model.yaml'), manifest('alpha', ['models/alpha/**']));
      const g = (...args: string[]) => run('git', ['-C', repo, '-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args]);
      await g('add', '-A');
      await g('commit', '--quiet', '-m', 'first');
      await g('remote', 'add', 'mlship', local.cloud.gitDir);

      // Act
      const { stderr } = await g('push', '--quiet', 'mlship', 'main');

      // Assess: the hook ran (no ESM ReferenceError) and the release started
      expect(stderr).not.toContain('require is not defined');
      expect(stderr).toMatch(/remote: mlship: started release alpha-/);
      const { executions = [] } = await local.sfn.send(new ListExecutionsCommand({ stateMachineArn: LocalCloud.stateMachineArn('release') }));
      expect(executions).toHaveLength(1);
    } finally {
      await local.close();
      rmSync(checkout, { recursive: true, force: true });
      rmSync(repo, { recursive: true, force: true });
    }
  });
});
