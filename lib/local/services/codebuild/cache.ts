import { spawn } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, normalize, relative, sep } from 'node:path';
import picomatch from 'picomatch';
import { z } from 'zod';

/**
 * The buildspec's `cache` section, honoured as CodeBuild's S3 cache behaves
 * (https://docs.aws.amazon.com/codebuild/latest/userguide/caching-s3.html), with the cache kept
 * in the data dir instead of a bucket:
 *
 * - `paths`: what is cached, as globs relative to the source directory (`dir/**` caches a
 *   whole directory). Paths outside the source directory are not cached locally; the build
 *   log says so.
 * - `key`: evaluated by bash before the build, so `$VAR` and `$(codebuild-hash-files <globs>)`
 *   work (the helper is put on PATH). A keyed cache is written once and never updated, as
 *   on CodeBuild; without a key there is one cache per project, replaced by every successful
 *   build.
 * - `fallback-keys`: tried in order when the key has no cache, each as a prefix (newest
 *   match first).
 * - `action`: `restore` only restores, `save` only saves; both by default.
 *
 * A cache is saved only by a build that succeeded, so a half-installed dependency directory
 * never becomes the next build's starting point.
 */

export const cacheSchema = z.strictObject({
  key: z.string().min(1).optional(),
  'fallback-keys': z.array(z.string().min(1)).max(5, 'at most 5 fallback keys (the CodeBuild limit)').default([]),
  action: z.enum(['restore', 'save']).optional(),
  paths: z.array(z.string().min(1)).min(1, 'list the paths to cache'),
});
export type BuildCacheSpec = z.output<typeof cacheSchema>;

/** What a build resolved about its cache: where it lives and what it restored. */
export interface ResolvedCache {
  spec: BuildCacheSpec;
  /** The evaluated key, or `default` for an unkeyed cache. */
  key: string;
  dir: string;
  restoredFrom?: string;
}

/** A key may only name a folder of the cache store: no separators, no dot-dot. */
const safeKey = (key: string): string =>
  key
    .replace(/[^A-Za-z0-9._=+-]/g, '_')
    .replace(/^\.+/, '_')
    .slice(0, 200);

/** Bash helper put on the build's PATH: SHA-256 over the files the globs match, in sorted order. */
const HASH_FILES_SCRIPT = `#!/usr/bin/env bash
# Written by the local CodeBuild: the stand-in for CodeBuild's codebuild-hash-files.
shopt -s globstar nullglob dotglob
files=()
for pattern in "$@"; do for f in $pattern; do [ -f "$f" ] && files+=("$f"); done; done
if [ \${#files[@]} -eq 0 ]; then echo "codebuild-hash-files: no file matches $*" >&2; exit 1; fi
printf '%s\\n' "\${files[@]}" | LC_ALL=C sort -u | while IFS= read -r f; do printf '%s  %s\\n' "$(sha256sum < "$f" | cut -c1-64)" "$f"; done | sha256sum | cut -c1-64
`;

/** Write the `codebuild-hash-files` helper into `binDir` (returned, for PATH). */
export function installCacheTools(binDir: string): string {
  mkdirSync(binDir, { recursive: true });
  const path = join(binDir, 'codebuild-hash-files');
  // Write and rename: a concurrent build may be running the helper right now.
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(tmp, HASH_FILES_SCRIPT);
  chmodSync(tmp, 0o755);
  renameSync(tmp, path);
  return binDir;
}

/** Evaluate a key expression the way CodeBuild does: shell expansion in the source directory. */
export function evaluateKey(expression: string, env: Record<string, string>, cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    // An unquoted heredoc expands $VAR and $(command) and nothing else (no word splitting).
    const script = `set -euo pipefail\ncat <<__MLSHIP_CACHE_KEY__\n${expression}\n__MLSHIP_CACHE_KEY__\n`;
    const child = spawn('bash', ['-c', script], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const key = out.trim();
      if (code !== 0 || !key) reject(new Error(`cache key "${expression}" did not evaluate${err.trim() ? `: ${err.trim()}` : ''}`));
      else resolve(key);
    });
  });
}

/** Newest folder under `store` whose name starts with `prefix`. */
function newestWithPrefix(store: string, prefix: string): string | undefined {
  if (!existsSync(store)) return undefined;
  return readdirSync(store)
    .filter((n) => n.startsWith(prefix) && !n.endsWith('.tmp') && existsSync(join(store, n, 'files')))
    .map((n) => ({ n, t: statSync(join(store, n)).mtimeMs }))
    .sort((a, b) => b.t - a.t)[0]?.n;
}

/**
 * Resolve the cache of one build and restore it into `src`. Returns what was resolved (for
 * the save after the build) and log lines.
 */
export async function restoreCache(opts: {
  spec: BuildCacheSpec;
  store: string;
  env: Record<string, string>;
  src: string;
  say: (l: string) => void;
}): Promise<ResolvedCache> {
  const { spec, store, src, say } = opts;
  const key = spec.key !== undefined ? safeKey(await evaluateKey(spec.key, opts.env, src)) : 'default';
  const resolved: ResolvedCache = { spec, key, dir: join(store, key) };
  if (spec.action === 'save') {
    say(`Cache: action save: not restoring (key ${key})`);
    return resolved;
  }
  let from = existsSync(join(resolved.dir, 'files')) ? key : undefined;
  for (const fallback of spec['fallback-keys']) {
    if (from) break;
    from = newestWithPrefix(store, safeKey(await evaluateKey(fallback, opts.env, src)));
  }
  if (!from) {
    say(`Cache: no cache for key ${key}${spec['fallback-keys'].length ? ' or its fallback keys' : ''}; the build starts cold`);
    return resolved;
  }
  cpSync(join(store, from, 'files'), src, { recursive: true, verbatimSymlinks: true, force: true });
  say(`Cache: restored ${from === key ? 'key' : 'fallback key'} ${from} into the source directory`);
  return { ...resolved, restoredFrom: from };
}

/** The top-level entries of `src` that the cache paths select, relative to `src`. */
export function selectCachePaths(src: string, patterns: string[], say: (l: string) => void): string[] {
  const out = new Set<string>();
  for (const raw of patterns) {
    const pattern = normalize(raw).replace(/\/+$/, '');
    const rel = isAbsolute(pattern) ? relative(src, pattern) : pattern;
    if (rel.startsWith('..') || isAbsolute(rel)) {
      say(`Cache: path ${raw} is outside the source directory; the local cloud does not cache it`);
      continue;
    }
    // dir/** and dir/**/* cache the directory as a whole (symlinks kept, as tar would).
    const whole = /^(.*?)\/\*\*(\/\*)?$/.exec(rel);
    if (whole && !picomatch.scan(whole[1]!).isGlob) {
      if (existsSync(join(src, whole[1]!))) out.add(whole[1]!);
      continue;
    }
    const isMatch = picomatch(rel, { dot: true });
    const walk = (dir: string): void => {
      for (const entry of readdirSync(join(src, dir), { withFileTypes: true })) {
        const path = dir ? `${dir}/${entry.name}` : entry.name;
        if (isMatch(path)) out.add(path);
        else if (entry.isDirectory()) walk(path);
      }
    };
    const base = picomatch.scan(rel).base;
    if (existsSync(join(src, base))) walk(base === '.' ? '' : base);
  }
  return [...out].sort();
}

/** Save the selected paths after a successful build: keyed caches once, the default one every time. */
export function saveCache(resolved: ResolvedCache, src: string, say: (l: string) => void): void {
  if (resolved.spec.action === 'restore') {
    say(`Cache: action restore: not saving (key ${resolved.key})`);
    return;
  }
  if (resolved.key !== 'default' && existsSync(join(resolved.dir, 'files'))) {
    say(`Cache: key ${resolved.key} exists and is not updated (a keyed cache is written once)`);
    return;
  }
  const paths = selectCachePaths(src, resolved.spec.paths, say);
  if (paths.length === 0) {
    say('Cache: no cache path exists after the build; nothing saved');
    return;
  }
  const tmp = `${resolved.dir}.${process.pid}.${Date.now()}.tmp`;
  for (const p of paths) cpSync(join(src, p), join(tmp, 'files', p), { recursive: true, verbatimSymlinks: true });
  // Replace in one rename, so a build that restores concurrently sees the old or the new cache.
  const old = `${resolved.dir}.${process.pid}.${Date.now()}.old.tmp`;
  if (existsSync(resolved.dir)) renameSync(resolved.dir, old);
  renameSync(tmp, resolved.dir);
  rmSync(old, { recursive: true, force: true });
  say(`Cache: saved ${paths.length} path(s) under key ${resolved.key}: ${paths.map((p) => p.split(sep).join('/')).join(', ')}`);
}
