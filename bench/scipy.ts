/**
 * Whether the SciPy reference can run. The drift bench compares itself with SciPy from
 * Debian's python3-scipy; without it the bench still measures mlship, skips the reference and
 * says in one line what to install, instead of ending on a Python traceback.
 */
import { spawnSync } from 'node:child_process';

/** The interpreter the reference runs under: Debian's, unless MLSHIP_BENCH_PYTHON names another (a venv with scipy). */
export const benchPython = (env: NodeJS.ProcessEnv = process.env): string => env.MLSHIP_BENCH_PYTHON || '/usr/bin/python3';

/** Undefined when `python` imports numpy and scipy; otherwise the one line to print. */
export function scipyMissing(python = benchPython()): string | undefined {
  const r = spawnSync(python, ['-c', 'import numpy, scipy.stats, scipy.spatial'], { encoding: 'utf8' });
  if (r.status === 0) return undefined;
  const why = r.error
    ? `${python} cannot be run (${(r.error as NodeJS.ErrnoException).code ?? r.error.message})`
    : `${python} cannot import ${/No module named '?([\w.]+)/.exec(r.stderr)?.[1] ?? 'numpy/scipy'}`;
  return `SciPy reference skipped: ${why}; install it with \`sudo apt-get install python3-scipy\` (Debian/Ubuntu), or point MLSHIP_BENCH_PYTHON at a python3 with numpy and scipy`;
}
