import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestCloud, type TestCloud } from './helpers';

const run = promisify(execFile);

/**
 * The push trigger passes the commit's author in the release input, where PrepareRelease
 * records it for separation of duties at approval (the manifest's approval.separationOfDuties).
 */
describe('Function: the push trigger (commit author)', () => {
  let t: TestCloud;
  let repo: string;
  const prepared: unknown[] = [];

  beforeAll(async () => {
    t = await startTestCloud({
      functions: {
        // Stop each release at its first state: only its input matters here.
        'mlship-PrepareRelease': async (event) => {
          prepared.push(event);
          throw Object.assign(new Error('stopped by the test'), { name: 'InvalidManifestError' });
        },
        'mlship-RecordOutcome': async () => ({ outcome: 'failed', notified: false }),
      },
    });
    repo = mkdtempSync(join(tmpdir(), 'mlship-author-repo-'));
  });
  afterAll(async () => {
    await t?.close();
    rmSync(repo, { recursive: true, force: true });
  });

  it("starts the release with the pushed commit's author name and email", async () => {
    // Prepare
    await run('git', ['init', '--quiet', '--initial-branch=main', repo]);
    mkdirSync(join(repo, 'models', 'alpha'), { recursive: true });
    writeFileSync(
      join(repo, 'models', 'alpha', 'model.yaml'),
      'name: alpha\ntask: regression\npaths: ["models/alpha/**"]\nserve:\n  command: node serve.mjs\nfeatures:\n  - { name: x, type: numeric }\nlabel: y\n',
    );
    const g = (...args: string[]) => run('git', ['-C', repo, '-c', 'user.name=Ann Author', '-c', 'user.email=ann@example.com', ...args]);
    await g('add', '-A');
    await g('commit', '--quiet', '-m', 'first');
    await g('remote', 'add', 'mlship', t.cloud.gitDir);

    // Act
    await g('push', '--quiet', 'mlship', 'main');

    // Assess
    const event = (await eventually(() => prepared[0])) as { input: Record<string, unknown> };
    expect(event.input).toMatchObject({ model: 'alpha', trigger: 'push', author: { name: 'Ann Author', email: 'ann@example.com' } });
  });
});
