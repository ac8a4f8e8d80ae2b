import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DiscoveredModel } from '../../lib/config';
import { handlePush, type PushDeps } from '../../lib/local/services/git/git';

const run = promisify(execFile);
const root = mkdtempSync(join(tmpdir(), 'mlship-check-scope-'));
const work = join(root, 'work');
const bare = join(root, 'bare.git');

const manifest = (name: string) => `name: ${name}
task: regression
paths: ["models/${name}/**"]
serve:
  command: node serve.mjs
features:
  - { name: x, type: numeric }
label: y
`;

const git = (...args: string[]) => run('git', ['-C', work, '-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args]);
const rev = async (ref: string) => (await git('rev-parse', ref)).stdout.trim();
function write(path: string, text: string): void {
  mkdirSync(join(work, path, '..'), { recursive: true });
  writeFileSync(join(work, path), text);
}

/** The push as the hook hands it over, with the models each part was given. */
async function push(branch: string, oldRev: string) {
  await git('push', '--quiet', bare, `${branch}:refs/heads/${branch}`);
  const checked: string[] = [];
  const released: string[] = [];
  const deps: PushDeps = {
    gitDir: bare,
    uploadSource: async () => 's3://bucket/source.zip',
    startRelease: async (model) => {
      released.push(model);
      return { executionArn: `arn:${model}`, name: model };
    },
    updateModels: () => {},
    runCheck: async (m: DiscoveredModel) => {
      checked.push(m.manifest.name);
      return [`check ${m.manifest.name}: PASSED`];
    },
  };
  await handlePush(deps, [{ oldRev, newRev: await rev(branch), ref: `refs/heads/${branch}` }]);
  return { checked, released };
}

const ZERO = '0'.repeat(40);

beforeAll(async () => {
  await run('git', ['init', '--quiet', '--bare', '--initial-branch=main', bare]);
  await run('git', ['init', '--quiet', '--initial-branch=main', work]);
  for (const m of ['alpha', 'beta', 'gamma']) {
    write(`models/${m}/model.yaml`, manifest(m));
    write(`models/${m}/serve.mjs`, '// v1\n');
  }
  await git('add', '-A');
  await git('commit', '--quiet', '-m', 'three models');
  await push('main', ZERO);
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('Function: handlePush (which models a branch push checks)', () => {
  it("checks only the models a new branch changed since it left the models' release branch, not every model in the tree", async () => {
    // Prepare: a feature branch that changes alpha only
    await git('checkout', '--quiet', '-b', 'feature');
    write('models/alpha/serve.mjs', '// v2\n');
    await git('commit', '--quiet', '-am', 'alpha v2');

    // Act: the branch's first push (git sends the zero id as its old value)
    const { checked, released } = await push('feature', ZERO);

    // Assess
    expect(checked).toEqual(['alpha']);
    expect(released).toEqual([]);
  });

  it('checks the models a later push to the branch changed', async () => {
    const before = await rev('feature');
    write('models/beta/serve.mjs', '// v2\n');
    await git('commit', '--quiet', '-am', 'beta v2');
    const { checked } = await push('feature', before);
    expect(checked).toEqual(['beta']);
  });
});
