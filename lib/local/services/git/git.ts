import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { loadManifestText, partitionByUniqueName, type DiscoveredModel } from '../../../config';
import { shellQuote } from '../../core/fsutil';
import { CLOUD_FILE, PUSH_SECRET_FILE } from '../../constants';
import { matchingFiles } from '../../../config/globs';

/**
 * The local stand-in for CodePipeline V2's push trigger: a bare repository in the data dir
 * whose post-receive hook calls back into the edge (`POST /_mlship/git-push`). For a push to
 * a model's branch, the changed files are matched against the model's `paths` globs, the
 * commit is archived to `source/<model>/<commit>.zip`, and one release starts per matching
 * model. The hook prints what started, so `git push` shows it.
 *
 * The route is reachable by anything that can reach 127.0.0.1, so it is closed: the hook
 * authenticates with a per-data-dir secret only the data dir's owner can read; every value
 * of the request is checked before it reaches git (full object names, well-formed ref
 * names, this cloud's own repository); and every git call ends its options explicitly, as
 * a second line of defence.
 */

const run = promisify(execFile);
/** A full object name (SHA-1 or SHA-256), as git passes it to post-receive. */
const OBJECT_NAME = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
const ZERO = /^(?:0{40}|0{64})$/;
/** More ref updates than any real push carries; a bound on the work one request can ask for. */
const MAX_UPDATES = 1000;

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
  /**
   * Manifests found at the pushed commit replace the known ones (builds, schedules); a known
   * model of `branch` whose manifest file the commit no longer has (`manifestFiles`: every
   * models/<dir>/model.yaml in it, valid or not) is retired (its schedule and alarms go).
   */
  updateModels(models: DiscoveredModel[], branch: string, manifestFiles: ReadonlySet<string>): void;
  /**
   * The pre-merge check of a model at a commit of a branch other than its release branch
   * (issue 21); returns the verdict lines for the pusher. Without it such a push starts nothing.
   */
  runCheck?(model: DiscoveredModel, input: { commit: string; branch: string; zip: Buffer }): Promise<string[]>;
}

/** A push request the cloud refuses; the message says why (shown to the pusher). */
export class PushRequestError extends Error {
  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = 'PushRequestError';
  }
}

/**
 * Run git on the cloud's repository. Callers put `--end-of-options` (or `--`) before any
 * argument that came from a request, so no value can be read as an option.
 */
async function git(gitDir: string, args: string[], encoding: 'utf8' | 'buffer' = 'utf8'): Promise<string | Buffer> {
  const { stdout } = await run('git', [`--git-dir=${gitDir}`, ...args], { encoding, maxBuffer: 1024 * 1024 * 1024 });
  return stdout;
}

/** Whether `name` is a ref name git itself would accept (git-check-ref-format), under refs/. */
export function isValidRefName(name: string): boolean {
  if (!name.startsWith('refs/') || name.length > 1024) return false;
  // Control characters, space and the characters git reserves for revision syntax.
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(name)) return false;
  if (name.includes('..') || name.includes('@{') || name.endsWith('.') || name.endsWith('/')) return false;
  return name.split('/').every((part) => part.length > 0 && !part.startsWith('.') && !part.endsWith('.lock'));
}

/** @throws PushRequestError unless every update names full object names and a valid ref. */
function checkUpdates(updates: unknown): RefUpdate[] {
  if (!Array.isArray(updates) || updates.length > MAX_UPDATES)
    throw new PushRequestError(`updates must be a list of at most ${MAX_UPDATES} ref updates`);
  return updates.map((u: unknown, i) => {
    const { oldRev, newRev, ref } = (u ?? {}) as Record<string, unknown>;
    for (const [field, rev] of [
      ['oldRev', oldRev],
      ['newRev', newRev],
    ] as const) {
      if (typeof rev !== 'string' || !OBJECT_NAME.test(rev)) {
        throw new PushRequestError(
          `updates[${i}].${field}: ${JSON.stringify(rev)?.slice(0, 80)} is not a full hex object name (40 or 64 hex digits, or all zeros)`,
        );
      }
    }
    if (typeof ref !== 'string' || !isValidRefName(ref))
      throw new PushRequestError(`updates[${i}].ref: ${JSON.stringify(ref)?.slice(0, 80)} is not a valid ref name`);
    return { oldRev: oldRev as string, newRev: newRev as string, ref };
  });
}

const samePath = (a: string, b: string): boolean => {
  const real = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      return resolve(p);
    }
  };
  return real(a) === real(b);
};

/**
 * Parse and check the body of `POST /_mlship/git-push`. The repository is always the cloud's
 * own; a body naming another one (a copied data dir, a forged request) is refused rather
 * than pointed at it.
 * @throws PushRequestError naming the first problem
 */
export function parsePushRequest(body: Buffer, gitDir: string): RefUpdate[] {
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch {
    throw new PushRequestError('the request body is not JSON');
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new PushRequestError('the request body must be a JSON object');
  const { gitDir: claimed, updates } = doc as Record<string, unknown>;
  if (claimed !== undefined && (typeof claimed !== 'string' || !samePath(claimed, gitDir))) {
    throw new PushRequestError(`this local cloud releases from ${gitDir} only, not ${JSON.stringify(claimed)?.slice(0, 200)}`);
  }
  return checkUpdates(updates);
}

/** The commit `rev` names in the repository. @throws PushRequestError when it names none */
async function commitOf(gitDir: string, rev: string): Promise<string> {
  try {
    return String(await git(gitDir, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`])).trim();
  } catch {
    throw new PushRequestError(`${rev} is not a commit in ${gitDir}`);
  }
}

/**
 * The per-data-dir secret the hook sends with each push (`<dataDir>/push.secret`, mode 0600):
 * created once, kept across restarts, so a hook written by an earlier start still works.
 */
export function ensurePushSecret(dataDir: string): string {
  const file = join(dataDir, PUSH_SECRET_FILE);
  mkdirSync(dataDir, { recursive: true });
  if (existsSync(file)) {
    // A copy or an archive restore may have widened the mode; only the owner reads it.
    chmodSync(file, 0o600);
    const secret = readFileSync(file, 'utf8').trim();
    if (secret.length >= 32) return secret;
  }
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return secret;
}

const lines = (s: string | Buffer): string[] => String(s).split('\n').filter(Boolean);

/** Create the bare repository and its hook (idempotent; the hook is rewritten each start). */
export async function ensureRepository(dataDir: string): Promise<string> {
  const gitDir = join(dataDir, 'git', 'models.git');
  if (!existsSync(join(gitDir, 'HEAD'))) {
    mkdirSync(gitDir, { recursive: true });
    await run('git', ['init', '--bare', '--quiet', '--initial-branch=main', '--', gitDir]);
  }
  const hooks = join(gitDir, 'hooks');
  mkdirSync(hooks, { recursive: true });
  // git runs the extension-less `post-receive`; the script itself is `.cjs`, because an
  // extension-less file is loaded as ESM when the nearest package.json says "type": "module"
  // (as this checkout's does, and the default data dir `.mlship/` sits inside it).
  const script = join(hooks, 'post-receive.cjs');
  writeFileSync(script, hookScript(join(dataDir, CLOUD_FILE), join(dataDir, PUSH_SECRET_FILE)));
  const hook = join(hooks, 'post-receive');
  writeFileSync(hook, `#!/bin/sh\n# Written by mlship up.\nexec ${shellQuote(process.execPath)} ${shellQuote(script)}\n`);
  chmodSync(hook, 0o755);
  return gitDir;
}

/** The hook: a small CommonJS script (no dependencies) run by git with the ref updates on stdin. */
function hookScript(cloudFile: string, secretFile: string): string {
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
  let secret;
  try {
    endpoint = JSON.parse(readFileSync(${JSON.stringify(cloudFile)}, 'utf8')).endpoint;
  } catch {
    console.log('mlship: the local cloud is not running (start it with mlship up); the push is stored, no release started');
    return;
  }
  try {
    secret = readFileSync(${JSON.stringify(secretFile)}, 'utf8').trim();
  } catch (err) {
    console.log('mlship: cannot read the push secret ' + ${JSON.stringify(secretFile)} + ': ' + err.message + '; no release started');
    return;
  }
  // node:http, not fetch: fetch gives up on a response slower than 5 minutes (undici's
  // headersTimeout), and a push to a non-release branch waits for the model's whole check.
  const body = JSON.stringify({ gitDir: process.env.GIT_DIR ? require('node:path').resolve(process.env.GIT_DIR) : process.cwd(), updates });
  const req = require('node:http').request(new URL(endpoint + '/_mlship/git-push'), {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer ' + secret, 'content-length': Buffer.byteLength(body) },
  }, (res) => {
    res.setEncoding('utf8');
    res.on('data', (d) => process.stdout.write(d));
  });
  req.on('error', (err) => console.log('mlship: cannot reach the local cloud at ' + endpoint + ': ' + err.message + '; no release started'));
  req.end(body);
});
`;
}

/**
 * The manifests committed at `rev`, by model directory. An invalid manifest, and every
 * manifest of a name two directories claim (the same check as synth and `mlship up`), is
 * reported and left out: that model starts nothing, the others go on.
 */
export async function manifestsAt(gitDir: string, rev: string, errors: string[], found?: string[]): Promise<DiscoveredModel[]> {
  const files = lines(await git(gitDir, ['ls-tree', '-r', '--name-only', '--end-of-options', rev, '--', 'models'])).filter((f) =>
    /^models\/[^/]+\/model\.yaml$/.test(f),
  );
  found?.push(...files);
  const texts = await blobsAt(gitDir, rev, files);
  const out: DiscoveredModel[] = [];
  for (const [i, file] of files.entries()) {
    try {
      const manifest = loadManifestText(texts[i]!, file);
      out.push({ manifest, dir: file.slice(0, -'/model.yaml'.length), file });
    } catch (err) {
      errors.push(`mlship: ${(err as Error).message}; no release started for ${file.slice(0, -'/model.yaml'.length)}`);
    }
  }
  const { unique, duplicates } = partitionByUniqueName(out);
  for (const d of duplicates) errors.push(`mlship: ${d.message}; no release started for "${d.modelName}"`);
  return unique;
}

/**
 * The contents of `files` at `rev`, in order, from one `git cat-file --batch`: with hundreds of
 * models, a git process per manifest made a push take seconds before its release started.
 * `files` come from ls-tree (one per line: git quotes a name with a newline), `rev` is a
 * checked object name.
 */
function blobsAt(gitDir: string, rev: string, files: readonly string[]): Promise<string[]> {
  if (!files.length) return Promise.resolve([]);
  return new Promise((resolvePromise, reject) => {
    const child = spawn('git', [`--git-dir=${gitDir}`, 'cat-file', '--batch'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`git cat-file --batch exited with ${code}: ${stderr.trim()}`));
      const all = Buffer.concat(chunks);
      const texts: string[] = [];
      let at = 0;
      for (const file of files) {
        const eol = all.indexOf(10, at);
        const header = all.subarray(at, eol).toString('utf8');
        const size = /^[0-9a-f]+ blob (\d+)$/.exec(header)?.[1];
        if (size === undefined) return reject(new Error(`git cat-file --batch: ${file} at ${rev}: ${header}`));
        texts.push(all.subarray(eol + 1, eol + 1 + Number(size)).toString('utf8'));
        at = eol + 1 + Number(size) + 1;
      }
      resolvePromise(texts);
    });
    child.stdin.end(files.map((f) => `${rev}:${f}\n`).join(''));
  });
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
  // Checked here too, so no caller can hand git an unchecked value; then every commit is
  // resolved before anything starts, so a bad update refuses the whole request.
  const checked = checkUpdates(updates).filter(({ newRev, ref }) => ref.startsWith('refs/heads/') && !ZERO.test(newRev));
  for (const { oldRev, newRev } of checked) {
    await commitOf(deps.gitDir, newRev);
    if (!ZERO.test(oldRev)) await commitOf(deps.gitDir, oldRev);
  }
  for (const { oldRev, newRev, ref } of checked) {
    const branch = ref.slice('refs/heads/'.length);
    const changed = ZERO.test(oldRev)
      ? lines(await git(deps.gitDir, ['ls-tree', '-r', '--name-only', '--end-of-options', newRev]))
      : lines(await git(deps.gitDir, ['diff', '--name-only', '--end-of-options', oldRev, newRev, '--']));
    const manifestFiles: string[] = [];
    const models = await manifestsAt(deps.gitDir, newRev, out, manifestFiles);
    deps.updateModels(models, branch, new Set(manifestFiles));
    const touched = models.filter((m) => matchingFiles(m.manifest.paths, changed).length > 0);
    const matching = touched.filter((m) => m.manifest.branch === branch);
    const toCheck = deps.runCheck ? await modelsToCheck(deps.gitDir, models, { branch, oldRev, newRev, changed }) : [];
    if (toCheck.length > 0) out.push(...(await checkPush(deps, toCheck, branch, newRev)));
    if (matching.length === 0) {
      out.push(
        `mlship: ${branch} ${newRev.slice(0, 12)}: no model's paths match the ${changed.length} changed file(s); nothing to release`,
      );
      continue;
    }
    const zip = (await git(deps.gitDir, ['archive', '--format=zip', '--end-of-options', newRev], 'buffer')) as Buffer;
    for (const m of matching) {
      const sourceUri = await deps.uploadSource(m.manifest.name, newRev, zip);
      const started = await deps.startRelease(m.manifest.name, { model: m.manifest.name, commitId: newRev, sourceUri, trigger: 'push' });
      out.push(`mlship: started release ${started.name} for ${m.manifest.name} at ${newRev.slice(0, 12)}`);
      out.push(`mlship:   ${started.executionArn}`);
    }
  }
  return `${out.join('\n')}\n`;
}

/**
 * The models a push to a branch other than their release branch changed, whose checks it runs.
 * A branch's first push (git sends the zero id as its old value) is judged by what it changed
 * since it left the model's release branch (git merge-base), as a pull request's diff is: every
 * file of the tree counts as changed only when that branch does not exist here.
 */
async function modelsToCheck(
  gitDir: string,
  models: DiscoveredModel[],
  push: { branch: string; oldRev: string; newRev: string; changed: string[] },
): Promise<DiscoveredModel[]> {
  const sinceBase = new Map<string, string[]>();
  const out: DiscoveredModel[] = [];
  for (const m of models.filter((m) => m.manifest.branch !== push.branch)) {
    let files = push.changed;
    if (ZERO.test(push.oldRev)) {
      const base = m.manifest.branch;
      if (!sinceBase.has(base)) sinceBase.set(base, (await changedSinceBranchPoint(gitDir, base, push.newRev)) ?? push.changed);
      files = sinceBase.get(base)!;
    }
    if (matchingFiles(m.manifest.paths, files).length > 0) out.push(m);
  }
  return out;
}

/** Files `rev` changed since it left `base`; undefined when the repository has no branch `base` (or no common commit). */
async function changedSinceBranchPoint(gitDir: string, base: string, rev: string): Promise<string[] | undefined> {
  try {
    const point = String(await git(gitDir, ['merge-base', '--end-of-options', `refs/heads/${base}`, rev])).trim();
    return lines(await git(gitDir, ['diff', '--name-only', '--end-of-options', point, rev, '--']));
  } catch {
    return undefined;
  }
}

/** Run the check of each model a push to a non-release branch touched; the pusher waits for the verdicts. */
async function checkPush(deps: PushDeps, models: DiscoveredModel[], branch: string, rev: string): Promise<string[]> {
  const zip = (await git(deps.gitDir, ['archive', '--format=zip', '--end-of-options', rev], 'buffer')) as Buffer;
  const out: string[] = [];
  for (const m of models) {
    out.push(
      `mlship: ${branch} is not the release branch of ${m.manifest.name} (${m.manifest.branch}): running its check, nothing is deployed`,
    );
    const lines = await deps.runCheck!(m, { commit: rev, branch, zip });
    out.push(...lines.map((l) => `mlship: ${l}`));
  }
  return out;
}

/** The author of a pushed commit, for separation of duties at approval; nothing when git cannot say. */
export async function commitAuthor(gitDir: string, commitId: string): Promise<{ author?: { name: string; email: string } }> {
  if (!/^[0-9a-f]{7,64}$/i.test(commitId)) return {};
  try {
    const out = String(await git(gitDir, ['show', '-s', '--format=%an%x00%ae', '--end-of-options', commitId, '--']));
    const [name = '', email = ''] = out.trim().split('\0');
    return name || email ? { author: { name, email } } : {};
  } catch {
    return {};
  }
}
