/**
 * `npm run bench [name ...]`: run the benchmarks one after another, each in its own
 * process so that none measures another's leftovers. Each prints its figures and their
 * ratio to the named reference it measures in the same run.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const BENCHES: Record<string, string> = {
  lambdas: 'lambdas/cold-start.ts',
  orchestration: 'orchestration/run.ts',
  endpoint: 'endpoint/run.ts',
  drift: 'drift/run.ts',
  'drift-window': 'drift-window/run.ts',
  validation: 'validation/run.ts',
  scale: 'scale/run.ts',
  'local-scale': 'local-scale/run.ts',
};

const chosen = process.argv.slice(2);
const unknown = chosen.filter((n) => !(n in BENCHES));
if (unknown.length) {
  process.stderr.write(`unknown benchmark ${unknown.join(', ')}; choose from ${Object.keys(BENCHES).join(', ')}\n`);
  process.exit(2);
}
let failed = 0;
for (const name of chosen.length ? chosen : Object.keys(BENCHES)) {
  process.stdout.write(`\n=== bench/${name}\n`);
  const run = spawnSync(process.execPath, ['--import', 'tsx', join(here, BENCHES[name]!)], { stdio: 'inherit' });
  if (run.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
