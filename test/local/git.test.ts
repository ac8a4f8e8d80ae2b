import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DescribeExecutionCommand, ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { LocalCloud } from '../../lib/local/cloud';
import { isValidRefName } from '../../lib/local/services/git/git';
import { rawRequest, startTestCloud, type TestCloud } from './helpers';

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
      'mlship-RecordOutcome': async () => ({ outcome: 'failed', notified: false, cause: 'stopped by the test' }),
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
    expect(started).toContainEqual({
      model: 'alpha',
      commitId: commit,
      sourceUri: `s3://mlship-artifacts/source/alpha/${commit}.zip`,
      trigger: 'push',
      author: { name: 't', email: 't@example.com' },
    });
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
        'mlship-RecordOutcome': async () => ({ outcome: 'failed', notified: false, cause: 'stopped by the test' }),
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
      const { executions = [] } = await local.sfn.send(
        new ListExecutionsCommand({ stateMachineArn: LocalCloud.stateMachineArn('release') }),
      );
      expect(executions).toHaveLength(1);
    } finally {
      await local.close();
      rmSync(checkout, { recursive: true, force: true });
      rmSync(repo, { recursive: true, force: true });
    }
  });
});

describe('Route: POST /_mlship/git-push (only the hook may call it)', () => {
  const outside = mkdtempSync(join(tmpdir(), 'mlship-victim-'));
  const victim = join(outside, 'victim.txt');
  const created = join(outside, 'created.txt');
  /** The data dir's push secret; '' where there is none, so a refusal is what the test sees. */
  const secret = () => {
    try {
      return readFileSync(join(t.dataDir, 'push.secret'), 'utf8').trim();
    } catch {
      return '';
    }
  };
  const port = () => new URL(t.cloud.endpoint).port;
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    rawRequest(t.cloud.endpoint, {
      method: 'POST',
      path: '/_mlship/git-push',
      headers: { host: `127.0.0.1:${port()}`, 'content-type': 'application/json', authorization: `Bearer ${secret()}`, ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  let head: string;
  const firstPush = () => ({ gitDir: t.cloud.gitDir, updates: [{ oldRev: '0'.repeat(40), newRev: head, ref: 'refs/heads/main' }] });

  beforeAll(async () => {
    // Prepare: a file outside the data dir that an option-shaped rev once overwrote
    writeFileSync(victim, 'precious\n');
    head = (await git('rev-parse', 'main')).stdout.trim();
  });
  afterAll(() => rmSync(outside, { recursive: true, force: true }));

  it('keeps the push secret in the data dir, readable by its owner only', () => {
    // Assess
    expect(statSync(join(t.dataDir, 'push.secret')).mode & 0o777).toBe(0o600);
    expect(secret().length).toBeGreaterThanOrEqual(32);
  });

  it('refuses a request without the secret or with a wrong one, and starts nothing', async () => {
    // Prepare
    const before = (await releases()).length;

    // Act
    const missing = await post(firstPush(), { authorization: '' });
    const wrong = await post(firstPush(), { authorization: 'Bearer not-the-secret-not-the-secret-not-the-secret' });

    // Assess
    expect(missing.status).toBe(401);
    expect(wrong.status).toBe(401);
    expect(missing.body).toContain('push secret');
    expect(await releases()).toHaveLength(before);
  });

  it('refuses option-shaped revs before git sees them, and no file on disk changes', async () => {
    // Prepare
    const before = (await releases()).length;
    const victimBefore = statSync(victim);

    // Act
    const asOld = await post({ updates: [{ oldRev: `--output=${victim}`, newRev: head, ref: 'refs/heads/main' }] });
    const asNew = await post({ updates: [{ oldRev: head, newRev: `--output=${created}`, ref: 'refs/heads/main' }] });
    const asRef = await post({ updates: [{ oldRev: '0'.repeat(40), newRev: head, ref: `--output=${created}` }] });

    // Assess
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(statSync(victim).mtimeMs).toBe(victimBefore.mtimeMs);
    expect(existsSync(created)).toBe(false);
    expect([asOld.status, asNew.status, asRef.status]).toEqual([400, 400, 400]);
    expect(asOld.body).toContain('is not a full hex object name');
    expect(asRef.body).toContain('is not a valid ref name');
    expect(await releases()).toHaveLength(before);
  });

  it('refuses {"oldRev":"0","newRev":"main"}: short and symbolic names release nothing', async () => {
    // Prepare
    const before = (await releases()).length;

    // Act
    const res = await post({ updates: [{ oldRev: '0', newRev: 'main', ref: 'refs/heads/main' }] });
    const short = await post({ updates: [{ oldRev: '0'.repeat(40), newRev: head.slice(0, 12), ref: 'refs/heads/main' }] });
    const unknown = await post({ updates: [{ oldRev: '0'.repeat(40), newRev: 'f'.repeat(40), ref: 'refs/heads/main' }] });

    // Assess
    expect(res.status).toBe(400);
    expect(short.status).toBe(400);
    expect(unknown.status).toBe(400);
    expect(unknown.body).toContain('is not a commit');
    expect(await releases()).toHaveLength(before);
  });

  it('refuses a foreign Origin, a cross-site text/plain body and a foreign Host even with the secret', async () => {
    // Prepare
    const before = (await releases()).length;

    // Act
    const origin = await post(firstPush(), { origin: 'http://evil.example' });
    const site = await post(firstPush(), { 'sec-fetch-site': 'cross-site' });
    const textPlain = await post(firstPush(), { 'content-type': 'text/plain' });
    const host = await post(firstPush(), { host: `rebound.evil.example:${port()}` });

    // Assess
    expect(origin.status).toBe(403);
    expect(site.status).toBe(403);
    expect(textPlain.status).toBe(415);
    expect(host.status).toBe(421);
    expect(await releases()).toHaveLength(before);
  });

  it("refuses a body that names another repository than the cloud's own", async () => {
    // Prepare: a bare repository holding the same commits
    const other = join(outside, 'other.git');
    await run('git', ['clone', '--quiet', '--bare', t.cloud.gitDir, other]);
    const before = (await releases()).length;

    // Act
    const res = await post({ ...firstPush(), gitDir: other });

    // Assess
    expect(res.status).toBe(400);
    expect(res.body).toContain(`releases from ${t.cloud.gitDir} only`);
    expect(await releases()).toHaveLength(before);
  });

  it("accepts the hook's own request: the secret, JSON, full object names", async () => {
    // Act: what the hook sends for a first push of main (every model's files changed)
    const res = await post(firstPush());

    // Assess
    expect(res.status).toBe(200);
    expect(res.body).toMatch(/mlship: started release alpha-/);
  });
});

describe('Function: handlePush (model names and manifests checked at push)', () => {
  it('starts nothing for a duplicated name or an invalid manifest, names both files, and releases the other models', async () => {
    // Prepare: a copy of alpha under another directory (loose alarms would govern its canary),
    // a broken manifest, a new valid model, and a change to alpha's files
    await git('checkout', '--quiet', 'main');
    write('models/alpha-copy/model.yaml', manifest('alpha', ['models/alpha/**', 'models/alpha-copy/**']));
    write('models/broken/model.yaml', 'name: broken\ntask: regression\n');
    write('models/gamma/model.yaml', manifest('gamma', ['models/gamma/**']));
    write('models/alpha/serve.mjs', '// v3\n');
    await git('add', '-A');
    await git('commit', '--quiet', '-m', 'copy alpha, break one, add gamma');
    const alphaBefore = (await releases()).filter((r) => r.model === 'alpha').length;

    // Act
    const { stderr } = await git('push', '--quiet', 'mlship', 'main');

    // Assess: one line names both files and says nothing started for the name
    const duplicate = stderr.split('\n').filter((l) => l.includes('"alpha"'));
    expect(duplicate).toHaveLength(1);
    expect(duplicate[0]).toContain('models/alpha-copy/model.yaml');
    expect(duplicate[0]).toContain('models/alpha/model.yaml');
    expect(duplicate[0]).toContain('no release started');
    expect(stderr).toMatch(/remote: mlship: models\/broken\/model\.yaml: .*no release started/);
    expect(stderr).not.toContain('for alpha');
    expect(stderr).toMatch(/remote: mlship: started release gamma-/);
    expect((await releases()).filter((r) => r.model === 'alpha')).toHaveLength(alphaBefore);
    expect((await releases()).filter((r) => r.model === 'gamma')).toHaveLength(1);
    expect(t.cloud.knownModels().find((m) => m.manifest.name === 'alpha')?.file).toBe('models/alpha/model.yaml');
  });
});

describe('Function: handlePush (a removed model)', () => {
  it('retires a model whose directory a push removes: the cloud no longer knows it (its schedule and rollback alarms go with it)', async () => {
    // Prepare: a model pushed once
    await git('checkout', '--quiet', 'main');
    write('models/delta/model.yaml', manifest('delta', ['models/delta/**']));
    await git('add', '-A');
    await git('commit', '--quiet', '-m', 'add delta');
    await git('push', '--quiet', 'mlship', 'main');
    expect(t.cloud.knownModels().map((m) => m.manifest.name)).toContain('delta');
    await git('rm', '-r', '--quiet', 'models/delta');
    await git('commit', '--quiet', '-m', 'remove delta');
    // Act
    await git('push', '--quiet', 'mlship', 'main');
    // Assess
    expect(t.cloud.knownModels().map((m) => m.manifest.name)).not.toContain('delta');
    expect(t.cloud.knownModels().map((m) => m.manifest.name)).toContain('beta');
  });
});

describe('Function: isValidRefName', () => {
  it.each([
    ['refs/heads/main', true],
    ['refs/heads/feature/x-1', true],
    ['refs/tags/v1.0', true],
    ['main', false],
    ['--output=/tmp/x', false],
    ['refs/heads/a..b', false],
    ['refs/heads/a b', false],
    ['refs/heads/x@{1}', false],
    ['refs/heads/.hidden', false],
    ['refs/heads/x.lock', false],
    ['refs/heads/', false],
    ['refs/heads//x', false],
    ['refs/heads/x:y', false],
    ['refs/heads/x\\y', false],
  ])('%s -> %s', (ref, ok) => {
    expect(isValidRefName(ref)).toBe(ok);
  });
});
