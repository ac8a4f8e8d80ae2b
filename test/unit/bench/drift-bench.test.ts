import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { scipyMissing } from '../../../bench/scipy';

/** A python3 without SciPy, as on a machine where Debian's python3-scipy is not installed. */
const dir = mkdtempSync(join(tmpdir(), 'mlship-noscipy-'));
const fakePython = join(dir, 'python3');
writeFileSync(
  fakePython,
  `#!/bin/sh\necho 'Traceback (most recent call last):' >&2\necho '  File "<string>", line 1, in <module>' >&2\necho "ModuleNotFoundError: No module named 'scipy'" >&2\nexit 1\n`,
);
chmodSync(fakePython, 0o755);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bench/drift without SciPy', () => {
  it('names what to install in one line', () => {
    expect(scipyMissing(fakePython)).toMatch(/cannot import scipy; install it with `sudo apt-get install python3-scipy`/);
    expect(scipyMissing(join(dir, 'no-such-python'))).toMatch(/cannot be run \(ENOENT\)/);
  });

  it('measures mlship, skips the reference with that line, and exits 0 without a traceback', () => {
    // Act: a tiny run (the figures are not the point; nothing here asserts a timing)
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        join(import.meta.dirname, '..', '..', '..', 'bench', 'drift', 'run.ts'),
        '--rows',
        '2000',
        '--ref',
        '500',
        '--reps',
        '1',
      ],
      {
        encoding: 'utf8',
        env: { ...process.env, MLSHIP_BENCH_PYTHON: fakePython, NODE_NO_WARNINGS: '1' },
      },
    );

    // Assess
    expect(r.status).toBe(0);
    expect(r.stdout.match(/SciPy reference skipped/g)).toHaveLength(1);
    expect(r.stdout).toContain('python3-scipy');
    expect(r.stdout).toContain('mlship auto, compute only');
    expect(`${r.stdout}${r.stderr}`).not.toContain('Traceback');
  });
});
