/**
 * The working tree as git would commit it, without committing: `git add -A` into a temporary
 * index (so the user's index and branch are untouched, .gitignore is honoured), `write-tree`,
 * and, when that tree differs from HEAD's, a commit object on no branch. `git archive` of it
 * is the same source zip a push of that commit would give the check.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface WorkingTreeSnapshot {
  /** HEAD when the tree is clean; otherwise a snapshot commit whose parent is HEAD. */
  commit: string;
  /** The branch checked out (or "HEAD" when detached). */
  branch: string;
  dirty: boolean;
  zip: Buffer;
}

/** The repository's top level containing `cwd`. @throws when `cwd` is not in a git work tree */
export async function repositoryRoot(cwd: string): Promise<string> {
  return (await run('git', ['-C', cwd, 'rev-parse', '--show-toplevel'])).stdout.trim();
}

export async function snapshotWorkingTree(repo: string): Promise<WorkingTreeSnapshot> {
  const temp = mkdtempSync(join(tmpdir(), 'mlship-snapshot-'));
  const env = {
    ...process.env,
    GIT_INDEX_FILE: join(temp, 'index'),
    // commit-tree needs an identity; the snapshot is a throwaway object, not the user's commit.
    GIT_AUTHOR_NAME: 'mlship check',
    GIT_AUTHOR_EMAIL: 'check@mlship.invalid',
    GIT_COMMITTER_NAME: 'mlship check',
    GIT_COMMITTER_EMAIL: 'check@mlship.invalid',
  };
  const git = async (...args: string[]) => (await run('git', ['-C', repo, ...args], { env, maxBuffer: 1024 * 1024 * 1024 })).stdout.trim();
  try {
    const head = await git('rev-parse', '--verify', 'HEAD^{commit}');
    const branch = await git('rev-parse', '--abbrev-ref', 'HEAD');
    await git('read-tree', 'HEAD');
    await git('add', '-A');
    const tree = await git('write-tree');
    const dirty = tree !== (await git('rev-parse', 'HEAD^{tree}'));
    const commit = dirty ? await git('commit-tree', tree, '-p', head, '-m', 'mlship check: working tree snapshot') : head;
    const { stdout } = await run('git', ['-C', repo, 'archive', '--format=zip', commit], {
      encoding: 'buffer',
      maxBuffer: 1024 * 1024 * 1024,
    });
    return { commit, branch, dirty, zip: stdout };
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}
