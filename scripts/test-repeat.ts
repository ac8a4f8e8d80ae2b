/**
 * Run vitest n times in a row on the same files and summarize every failure by test name:
 * a flaky test shows up as failing in some runs only. Every run goes to the end (a failure
 * does not stop the next run), because the point is how often each test fails.
 *
 *     npm run test:repeat -- <n> [vitest file filters...]
 *
 * Exit code 0 only if every run passed.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface JsonReport {
  testResults: Array<{
    name: string;
    status: string;
    message?: string;
    assertionResults: Array<{ fullName: string; status: string; failureMessages: string[] }>;
  }>;
}

interface Failure {
  test: string;
  message: string;
}

class UsageError extends Error {
  override name = 'UsageError';
}

function parseArgs(argv: string[]): { runs: number; files: string[] } {
  const [n, ...files] = argv;
  const runs = Number(n);
  if (!Number.isInteger(runs) || runs < 1)
    throw new UsageError('usage: npm run test:repeat -- <n> [files...]   (n: how many runs, at least 1)');
  return { runs, files };
}

/** One `vitest run`; resolves with its failures (a file that failed to load counts as one). */
async function runOnce(files: string[], reportFile: string): Promise<{ failures: Failure[]; seconds: number }> {
  const started = performance.now();
  const vitest = join(import.meta.dirname, '..', 'node_modules', 'vitest', 'vitest.mjs');
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [vitest, 'run', '--reporter=dot', '--reporter=json', `--outputFile.json=${reportFile}`, ...files],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    );
    child.once('error', reject);
    child.once('exit', (c, sig) => resolve(c ?? (sig ? 128 : null)));
  });
  const seconds = (performance.now() - started) / 1000;
  let report: JsonReport;
  try {
    report = JSON.parse(readFileSync(reportFile, 'utf8')) as JsonReport;
  } catch {
    return { failures: [{ test: '(vitest)', message: `exited with ${code} and wrote no report` }], seconds };
  }
  const failures: Failure[] = [];
  for (const file of report.testResults) {
    const rel = file.name.replace(`${process.cwd()}/`, '');
    for (const t of file.assertionResults) {
      if (t.status === 'failed') failures.push({ test: `${rel} > ${t.fullName}`, message: firstLine(t.failureMessages[0] ?? '') });
    }
    // A hook or an import that fails fails the file without failing a test.
    if (file.status === 'failed' && !file.assertionResults.some((t) => t.status === 'failed'))
      failures.push({ test: `${rel} (file)`, message: firstLine(file.message ?? '') });
  }
  if (code !== 0 && failures.length === 0) failures.push({ test: '(vitest)', message: `exited with ${code}` });
  return { failures, seconds };
}

const firstLine = (s: string) =>
  s
    .split('\n')
    .find((l) => l.trim())
    ?.trim()
    .slice(0, 200) ?? '';

async function main(): Promise<void> {
  const { runs, files } = parseArgs(process.argv.slice(2));
  const dir = mkdtempSync(join(tmpdir(), 'mlship-test-repeat-'));
  const byTest = new Map<string, { runs: number[]; message: string }>();
  const lines: string[] = [];
  try {
    for (let i = 1; i <= runs; i++) {
      process.stdout.write(`\n=== test:repeat run ${i}/${runs}: vitest run ${files.join(' ')}\n`);
      const { failures, seconds } = await runOnce(files, join(dir, `run-${i}.json`));
      const line = `run ${i}/${runs}: ${failures.length ? `${failures.length} failed` : 'passed'} (${seconds.toFixed(0)} s)`;
      lines.push(line, ...failures.map((f) => `    ${f.test}: ${f.message}`));
      process.stdout.write(`=== ${line}\n`);
      for (const f of failures) {
        const entry = byTest.get(f.test) ?? { runs: [], message: f.message };
        entry.runs.push(i);
        byTest.set(f.test, entry);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const failedRuns = new Set([...byTest.values()].flatMap((e) => e.runs)).size;
  process.stdout.write(`\n=== test:repeat summary: ${runs - failedRuns}/${runs} runs passed\n${lines.join('\n')}\n`);
  if (byTest.size) {
    process.stdout.write('\nfailures by test:\n');
    for (const [test, e] of [...byTest].sort((a, b) => b[1].runs.length - a[1].runs.length)) {
      process.stdout.write(`  ${e.runs.length}/${runs}  ${test}  (runs ${e.runs.join(', ')})\n      ${e.message}\n`);
    }
  }
  process.exitCode = failedRuns ? 1 : 0;
}

main().catch((err: unknown) => {
  process.stderr.write(`test:repeat: ${err instanceof UsageError ? err.message : (err as Error).stack}\n`);
  process.exitCode = 2;
});
