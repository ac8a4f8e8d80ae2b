/**
 * Bundle size and cold import time of every task function.
 *
 * Each function is bundled with the esbuild options CDK's NodejsFunction deploys it with
 * (FUNCTION_ESBUILD in lib/infra/bundling.ts: minified ESM for node22, `mainFields` module
 * first, a `require` shim) twice: self-contained, as it deploys, and with `@aws-sdk/*`
 * external as NodejsFunction does by default for Node 18+ runtimes (the runtime provides the
 * SDK; here it resolves from the repository's node_modules). Then a fresh `node` process
 * imports the bundle, and its wall time is set against a bare `node -e 0` measured in the
 * same run, interleaved, so the ratio survives a busy machine.
 *
 *   npx tsx bench/lambdas/cold-start.ts [--runs 7] [--only PrepareRelease,CheckBuild]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { FUNCTION_ESBUILD } from '../../lib/infra/bundling';
import { TASKS, type TaskName } from '../../lib/tasks';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
// Inside the repository so a bundle with the SDK external resolves it from node_modules.
const outDir = join(root, 'node_modules', '.cache', 'mlship-bench-lambdas');

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const runs = Number(flag('runs') ?? 7);
const only = flag('only')?.split(',') as TaskName[] | undefined;

// What every handler reads at import (fromEnv); values only have to be well-formed.
const env = {
  ...process.env,
  ARTIFACT_BUCKET: 'bench-bucket',
  NOTIFICATION_TOPIC_ARN: 'arn:aws:sns:us-east-1:000000000000:bench',
  RELEASE_STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:000000000000:stateMachine:bench',
  BUILD_PROJECT_PREFIX: 'bench-',
  SAGEMAKER_ROLE_ARN: 'arn:aws:iam::000000000000:role/bench',
  ROLLBACK_ALARM_PREFIX: 'bench-',
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  NODE_NO_WARNINGS: '1',
};

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function bundle(task: TaskName, sdkExternal: boolean): Promise<string> {
  const outfile = join(outDir, `${task}${sdkExternal ? '.external' : ''}.mjs`);
  await build({
    ...FUNCTION_ESBUILD,
    mainFields: [...FUNCTION_ESBUILD.mainFields],
    entryPoints: [join(root, TASKS[task].entry)],
    bundle: true,
    outfile,
    external: [...FUNCTION_ESBUILD.external, ...(sdkExternal ? ['@aws-sdk/*'] : [])],
    banner: { js: FUNCTION_ESBUILD.banner },
    logLevel: 'silent',
  });
  return outfile;
}

/** Wall time of one fresh node process running `code`. */
function timeNode(code: string[]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, code, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`node ${code.join(' ')} failed: ${r.stderr.toString().slice(0, 500)}`);
  return ms;
}

async function main(): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  const tasks = (only ?? (Object.keys(TASKS) as TaskName[])).filter((t) => t in TASKS);
  const rows: string[][] = [];
  const bare: number[] = [];
  try {
    for (const task of tasks) {
      const full = await bundle(task, false);
      const external = await bundle(task, true);
      const importCode = (file: string) => ['--input-type=module', '-e', `await import(${JSON.stringify(pathToFileURL(file).href)});`];
      const fullMs: number[] = [];
      const extMs: number[] = [];
      // Interleaved, so load on the machine hits the reference and the measurement alike.
      for (let i = 0; i < runs; i++) {
        bare.push(timeNode(['-e', '0']));
        fullMs.push(timeNode(importCode(full)));
        extMs.push(timeNode(importCode(external)));
      }
      const ref = median(bare);
      rows.push([
        task,
        (statSync(full).size / 1024).toFixed(0),
        (statSync(external).size / 1024).toFixed(0),
        median(fullMs).toFixed(0),
        (median(fullMs) / ref).toFixed(2),
        median(extMs).toFixed(0),
        (median(extMs) / ref).toFixed(2),
      ]);
    }
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
  const header = ['task', 'KiB', 'KiB sdk-ext', 'ms', 'x node -e 0', 'ms sdk-ext', 'x node -e 0'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  process.stdout.write(
    [
      `cold import of each task bundle in a fresh node ${process.version} process, median of ${runs}; reference: bare \`node -e 0\` = ${median(bare).toFixed(0)} ms (median of ${bare.length}, same run)`,
      line(header),
      ...rows.map(line),
      '',
    ].join('\n'),
  );
}

await main();
