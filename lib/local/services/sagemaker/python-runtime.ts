import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ModelStartError } from './errors';

const run = promisify(execFile);

/**
 * The local stand-in for a Python model image's dependency layer. On AWS the model's
 * Dockerfile runs `pip install -r requirements.txt` into the image; the local cloud serves the
 * build's bundle without a container, so a bundle with a `requirements.txt` at its root gets a
 * virtualenv built once per distinct requirements file (and Python version), shared by every
 * bundle that names the same requirements — the way a container runtime reuses the layer of
 * an unchanged `COPY requirements.txt` + `RUN pip install`. The server then runs with the
 * virtualenv first on PATH. Bundles without a requirements.txt run as they are.
 */
export class PythonRuntimes {
  private readonly pending = new Map<string, Promise<Record<string, string>>>();
  /** The Python the virtualenvs are made with: part of their key, asked once. */
  private python?: Promise<string>;

  /** @param root where the virtualenvs live, `<dataDir>/sagemaker/runtimes`. */
  constructor(private readonly root: string) {}

  /** Environment additions for a server started from `bundleDir` (empty when it needs none). */
  async environmentFor(bundleDir: string): Promise<Record<string, string>> {
    const requirements = join(bundleDir, 'requirements.txt');
    if (!existsSync(requirements)) return {};
    this.python ??= run('python3', ['--version']).then(
      (r) => r.stdout.trim(),
      () => 'none',
    );
    const python = await this.python;
    const hash = createHash('sha256').update(python).update('\0').update(readFileSync(requirements)).digest('hex').slice(0, 16);
    let p = this.pending.get(hash);
    if (!p) {
      p = this.ensure(hash, requirements).finally(() => this.pending.delete(hash));
      this.pending.set(hash, p);
    }
    return p;
  }

  private async ensure(hash: string, requirements: string): Promise<Record<string, string>> {
    // Built in place (console scripts in a virtualenv carry its absolute path), marked complete last.
    const dir = join(this.root, `python-${hash}`);
    const env = { PATH: `${join(dir, 'bin')}:${process.env.PATH ?? '/usr/bin:/bin'}`, VIRTUAL_ENV: dir };
    if (existsSync(join(dir, '.mlship-complete'))) return env;
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(this.root, { recursive: true });
    try {
      await run('python3', ['-m', 'venv', dir]);
      await run(join(dir, 'bin', 'python'), ['-m', 'pip', 'install', '--disable-pip-version-check', '--quiet', '-r', requirements], {
        maxBuffer: 16 * 1024 * 1024,
      });
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      const e = err as Error & { stderr?: string };
      const tail = (e.stderr ?? e.message).trim().split('\n').slice(-3).join(' | ');
      throw new ModelStartError(`installing the bundle's requirements.txt (the image's dependency layer) failed: ${tail}`, { cause: err });
    }
    writeFileSync(join(dir, '.mlship-complete'), readFileSync(requirements));
    return env;
  }
}
