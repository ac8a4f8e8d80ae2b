import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';

/**
 * The team's models repository, as the demo plays it: a fresh git repository holding a copy
 * of this package's `models/`, with the local cloud's bare repository as its `mlship` remote.
 */

const run = promisify(execFile);

/** A release the push hook reported: `mlship: started release <name> for <model> at <sha>`. */
export interface StartedRelease {
  name: string;
  model: string;
  commit: string;
  executionArn: string;
}

export interface PushResult {
  commit: string;
  /** What the hook printed (git shows it as `remote: ...`). */
  hookOutput: string[];
  started: StartedRelease[];
}

/** Files of the models that are outputs of local runs, never part of the repository. */
const SKIP = new Set(['out', 'data', 'node_modules', '.DS_Store', '.venv', '__pycache__']);

/**
 * The example models the demo releases: the ones its story is about. The other example (the
 * scikit-learn one installs ~300 MB of Python packages on its first build) would slow every
 * demo for nothing it shows.
 */
export const DEMO_MODELS = ['delivery-time', 'ticket-triage'] as const;

export class DemoRepo {
  private constructor(readonly dir: string) {}

  /** Create an empty repository in a new temp dir (or under `parent`). */
  static async create(parent?: string): Promise<DemoRepo> {
    const dir = mkdtempSync(join(parent ?? tmpdir(), 'mlship-demo-repo-'));
    const repo = new DemoRepo(dir);
    await repo.git('init', '--quiet', '--initial-branch=main');
    return repo;
  }

  /**
   * Start from the remote's main when it has one (a cloud that ran the demo before), so the
   * push is a fast-forward. @returns whether the remote had a main branch
   */
  async baseOn(remote: string): Promise<boolean> {
    await this.git('fetch', '--quiet', remote);
    try {
      await this.git('rev-parse', '--verify', '--quiet', `refs/remotes/${remote}/main`);
    } catch {
      return false;
    }
    await this.git('checkout', '--quiet', '-B', 'main', `${remote}/main`);
    return true;
  }

  /** Copy models in (all of `modelsDir`, or the `names` given; build outputs left out) with a top-level README. */
  copyModels(modelsDir: string, names: readonly string[] = readdirSync(modelsDir)): void {
    for (const name of names) {
      cpSync(join(modelsDir, name), join(this.dir, 'models', name), { recursive: true, filter: (src) => !SKIP.has(basename(src)) });
    }
    writeFileSync(join(this.dir, 'README.md'), '# Our models\n\nReleased by mlship on every push (see `mlship demo`).\n');
  }

  async hasChanges(): Promise<boolean> {
    return (await this.git('status', '--porcelain')).trim().length > 0;
  }

  /** The model directories copied in. */
  models(): string[] {
    return readdirSync(join(this.dir, 'models')).filter((d) => existsSync(join(this.dir, 'models', d, 'model.yaml')));
  }

  async git(...args: string[]): Promise<string> {
    // Identity and hooks are set per command so no global git configuration is needed or touched.
    try {
      const { stdout, stderr } = await run(
        'git',
        ['-c', 'user.name=mlship demo', '-c', 'user.email=demo@mlship.invalid', '-c', 'commit.gpgsign=false', ...args],
        {
          cwd: this.dir,
          maxBuffer: 64 * 1024 * 1024,
        },
      );
      return `${stdout}${stderr}`;
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { stderr?: string };
      if (e.code === 'ENOENT')
        throw new Error('git is not installed or not on PATH: the demo releases models by pushing to the local cloud with git', {
          cause: err,
        });
      throw new Error(`git ${args.join(' ')} (in ${this.dir}) failed: ${(e.stderr ?? e.message).trim()}`, { cause: err });
    }
  }

  async commitAll(message: string): Promise<string> {
    await this.git('add', '--all');
    await this.git('commit', '--quiet', '-m', message);
    return (await this.git('rev-parse', 'HEAD')).trim();
  }

  /** Append a line to a file of the repository (the second push's change). */
  append(relPath: string, text: string): void {
    appendFileSync(join(this.dir, relPath), text);
  }

  async addRemote(name: string, url: string): Promise<void> {
    await this.git('remote', 'add', name, url);
  }

  /** Push HEAD to another branch than main: the hook runs the touched models' checks and prints their verdicts (issue 21). */
  async pushBranch(remote: string, branch: string): Promise<PushResult> {
    const commit = (await this.git('rev-parse', 'HEAD')).trim();
    const text = await this.git('push', '--quiet', remote, `HEAD:refs/heads/${branch}`);
    return { commit, ...parseHookOutput(text) };
  }

  /** Push main; the post-receive hook's lines tell which releases started. */
  async push(remote: string): Promise<PushResult> {
    const commit = (await this.git('rev-parse', 'HEAD')).trim();
    const text = await this.git('push', '--quiet', remote, 'main');
    return { commit, ...parseHookOutput(text) };
  }
}

/** The releases a push started, from the hook's output. */
export function parseHookOutput(text: string): { hookOutput: string[]; started: StartedRelease[] } {
  const hookOutput = text
    .split('\n')
    .map((l) => l.replace(/^remote:\s?/, '').trimEnd())
    .filter((l) => l.startsWith('mlship:'));
  const started: StartedRelease[] = [];
  for (let i = 0; i < hookOutput.length; i++) {
    const m = /^mlship: started release (\S+) for (\S+) at ([0-9a-f]+)$/.exec(hookOutput[i]!);
    if (!m) continue;
    const arn = /^mlship:\s+(arn:aws:states:\S+)$/.exec(hookOutput[i + 1] ?? '');
    started.push({ name: m[1]!, model: m[2]!, commit: m[3]!, executionArn: arn?.[1] ?? '' });
  }
  return { hookOutput, started };
}
