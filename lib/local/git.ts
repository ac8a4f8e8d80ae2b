import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadManifestText, type DiscoveredModel } from '../config';
import { CLOUD_FILE } from './constants';
import { matchingFiles } from './globs';

/**
 * The local stand-in for CodePipeline V2's push trigger: a bare repository in the data dir
 * whose post-receive hook calls back into the edge (`POST /_mlship/git-push`). For a push to
 * a model's branch, the changed files are matched against the model's `paths` globs, the
 * commit is archived to `source/<model>/<commit>.zip`, and one release starts per matching
 * model. The hook prints what started, so `git push` shows it.
 */

const run = promisify(execFile);
const ZERO = /^0+$/;

export interface RefUpdate {
  oldRev: string;
  newRev: string;
  ref: string;
}

/** What the push handler needs from the local cloud. */
export interface PushDeps {
  gitDir: string;
  uploadSource(model: string, commit: string, zip: Buffer): Promise<string>;
  startRelease(model: string, input: Record<string, unknown>): Promise<{ executionArn: string; name: string }>;
  /** Manifests found at the pushed commit replace the known ones (builds, schedules). */
  updateModels(models: DiscoveredModel[]): void;
}

async function git(gitDir: string, args: string[], encoding: 'utf8' | 'buffer' = 'utf8'): Promise<string | Buffer> {
  const { stdout } = await run('git', ['--git-dir', gitDir, ...args], { encoding, maxBuffer: 1024 * 1024 * 1024 });
  return stdout;
}

const lines = (s: string | Buffer): string[] => String(s).split('\n').filter(Boolean);

/** Create the bare repository and its hook (idempotent; the hook is rewritten each start). */
export async function ensureRepository(dataDir: string): Promise<string> {
  const gitDir = join(dataDir, 'git', 'models.git');
  if (!existsSync(join(gitDir, 'HEAD'))) {
    mkdirSync(gitDir, { recursive: true });
    await run('git', ['init', '--bare', '--quiet', '--initial-branch=main', gitDir]);
  }
  const hooks = join(gitDir, 'hooks');
  mkdirSync(hooks, { recursive: true });
  // git runs the extension-less `post-receive`; the script itself is `.cjs`, because an
  // extension-less file is loaded as ESM when the nearest package.json says "type": "module"
  // (as this checkout's does, and the default data dir `.mlship/` sits inside it).
  const script = join(hooks, 'post-receive.cjs');
  writeFileSync(script, hookScript(join(dataDir, CLOUD_FILE)));
  const hook = join(hooks, 'post-receive');
  writeFileSync(hook, `#!/bin/sh\n# Written by mlship up.\nexec ${shellQuote(process.execPath)} ${shellQuote(script)}\n`);
  chmodSync(hook, 0o755);
  return gitDir;
}

const shellQuote = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;

/** The hook: a small CommonJS script (no dependencies) run by git with the ref updates on stdin. */
function hookScript(cloudFile: string): string {
  return `// Written by mlship up: tells the running local cloud about this push.
const { readFileSync } = require('node:fs');
let input = '';
process.stdin.on('data', (d) => (input += d));
process.stdin.on('end', async () => {
  const updates = input.split('\\n').filter(Boolean).map((l) => {
    const [oldRev, newRev, ref] = l.split(' ');
    return { oldRev, newRev, ref };
  });
  let endpoint;
  try {
    endpoint = JSON.parse(readFileSync(${JSON.stringify(cloudFile)}, 'utf8')).endpoint;
  } catch {
    console.log('mlship: the local cloud is not running (start it with mlship up); the push is stored, no release started');
    return;
  }
  try {
    const res = await fetch(endpoint + '/_mlship/git-push', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ gitDir: process.env.GIT_DIR ? require('node:path').resolve(process.env.GIT_DIR) : process.cwd(), updates }),
    });
    process.stdout.write(await res.text());
  } catch (err) {
    console.log('mlship: cannot reach the local cloud at ' + endpoint + ': ' + err.message + '; no release started');
  }
});
`;
}

/** The manifests committed at `rev`, by model directory. Invalid manifests are reported, not fatal. */
export async function manifestsAt(gitDir: string, rev: string, errors: string[]): Promise<DiscoveredModel[]> {
  const files = lines(await git(gitDir, ['ls-tree', '-r', '--name-only', rev, '--', 'models'])).filter((f) => /^models\/[^/]+\/model\.yaml$/.test(f));
  const out: DiscoveredModel[] = [];
  for (const file of files) {
    try {
      const manifest = loadManifestText(String(await git(gitDir, ['show', `${rev}:${file}`])), file);
      out.push({ manifest, dir: file.slice(0, -'/model.yaml'.length), file });
    } catch (err) {
      errors.push(`mlship: ${(err as Error).message}`);
    }
  }
  return out;
}

/** The branches of the bare repository, `main` first: where the pushed manifests are read at start. */
export async function branchHeads(gitDir: string): Promise<string[]> {
  const names = lines(await git(gitDir, ['for-each-ref', '--format=%(refname:short)', 'refs/heads/']));
  return names.sort((a, b) => Number(b === 'main') - Number(a === 'main') || a.localeCompare(b));
}

/**
 * Handle the ref updates of one push; returns the text the pusher sees.
 * A first push of a branch (old revision all zeros) counts every file as changed, as
 * CodePipeline does for a new branch.
 */
export async function handlePush(deps: PushDeps, updates: RefUpdate[]): Promise<string> {
  const out: string[] = [];
  for (const { oldRev, newRev, ref } of updates) {
    if (!ref.startsWith('refs/heads/') || ZERO.test(newRev)) continue;
    const branch = ref.slice('refs/heads/'.length);
    const changed = ZERO.test(oldRev)
      ? lines(await git(deps.gitDir, ['ls-tree', '-r', '--name-only', newRev]))
      : lines(await git(deps.gitDir, ['diff', '--name-only', oldRev, newRev]));
    const models = await manifestsAt(deps.gitDir, newRev, out);
    deps.updateModels(models);
    const matching = models.filter((m) => m.manifest.branch === branch && matchingFiles(m.manifest.paths, changed).length > 0);
    if (matching.length === 0) {
      out.push(`mlship: ${branch} ${newRev.slice(0, 12)}: no model's paths match the ${changed.length} changed file(s); nothing to release`);
      continue;
    }
    const zip = (await git(deps.gitDir, ['archive', '--format=zip', newRev], 'buffer')) as Buffer;
    for (const m of matching) {
      const sourceUri = await deps.uploadSource(m.manifest.name, newRev, zip);
      const started = await deps.startRelease(m.manifest.name, { model: m.manifest.name, commitId: newRev, sourceUri, trigger: 'push' });
      out.push(`mlship: started release ${started.name} for ${m.manifest.name} at ${newRev.slice(0, 12)}`);
      out.push(`mlship:   ${started.executionArn}`);
    }
  }
  return `${out.join('\n')}\n`;
}
