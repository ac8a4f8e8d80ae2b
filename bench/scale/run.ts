/**
 * issue 17: how the CDK app grows with the number of models. Synthesizes with 2, 50 and 300
 * generated models (test/infra/helpers.ts `generatedModels`, the fixtures under new names) and
 * prints, per stack, resources, IAM roles and template bytes, and the synth wall time, each
 * with its ratio to the 2-model run (the reference, measured in the same run).
 *
 * Each synth runs in a fresh process (CDK caches asset hashes per process, so in one process
 * the first synth would pay for the others), ROUNDS times per count, interleaved; medians.
 * Targets at 300: no stack over 400 resources, IAM roles independent of the count, synth at
 * most 2x the 2-model time.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from '../stats';

const here = dirname(fileURLToPath(import.meta.url));
const COUNTS = [2, 50, 300] as const;
const ROUNDS = 3;

interface StackCensus {
  stack: string;
  resources: number;
  roles: number;
  bytes: number;
}

function synthOnce(models: number): { ms: number; stacks: StackCensus[] } {
  const run = spawnSync(process.execPath, ['--import', 'tsx', join(here, 'synth-once.ts'), String(models)], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`synth of ${models} models failed:\n${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').pop()!);
}

const runs = new Map<number, { ms: number[]; stacks: StackCensus[] }>(COUNTS.map((n) => [n, { ms: [], stacks: [] }]));
for (let round = 0; round < ROUNDS; round++) {
  for (const n of COUNTS) {
    const r = synthOnce(n);
    runs.get(n)!.ms.push(r.ms);
    runs.get(n)!.stacks = r.stacks;
  }
}

const ratio = (x: number, ref: number) => (ref ? `${(x / ref).toFixed(2)}x` : 'n/a');
const ref = runs.get(2)!;
const total = (stacks: StackCensus[], key: 'resources' | 'roles' | 'bytes') => stacks.reduce((s, x) => s + x[key], 0);
const biggest = (stacks: StackCensus[]) => stacks.reduce((a, b) => (b.resources > a.resources ? b : a));

console.log(`synth with N generated models, ${ROUNDS} fresh processes each, medians; reference: the 2-model run`);
for (const n of COUNTS) {
  const { ms, stacks } = runs.get(n)!;
  console.log(`\n-- ${n} models`);
  console.log('stack                        resources  IAM roles  template bytes');
  for (const st of stacks) {
    const r = ref.stacks.find((x) => x.stack === st.stack);
    const vs = (k: 'resources' | 'roles' | 'bytes') => (r ? ` (${ratio(st[k], r[k])})` : ' (new)');
    console.log(
      `${st.stack.padEnd(28)} ${`${st.resources}${vs('resources')}`.padStart(10)} ${`${st.roles}${vs('roles')}`.padStart(10)} ${`${st.bytes}${vs('bytes')}`.padStart(15)}`,
    );
  }
  const big = biggest(stacks);
  console.log(
    `stacks ${stacks.length}; largest ${big.stack} ${big.resources} resources; resources ${total(stacks, 'resources')} (${ratio(total(stacks, 'resources'), total(ref.stacks, 'resources'))}); IAM roles ${total(stacks, 'roles')} (${ratio(total(stacks, 'roles'), total(ref.stacks, 'roles'))}); template bytes ${total(stacks, 'bytes')} (${ratio(total(stacks, 'bytes'), total(ref.stacks, 'bytes'))})`,
  );
  console.log(
    `synth wall time: median ${median(ms).toFixed(0)} ms (${ratio(median(ms), median(ref.ms))}) of ${ms.map((x) => x.toFixed(0)).join(', ')} ms`,
  );
}
const at300 = runs.get(300)!;
console.log(
  `\ntargets at 300: largest stack ${biggest(at300.stacks).resources} <= 400 resources: ${biggest(at300.stacks).resources <= 400 ? 'met' : 'MISSED'}; ` +
    `IAM roles ${total(at300.stacks, 'roles')} = ${total(ref.stacks, 'roles')} at 2: ${total(at300.stacks, 'roles') === total(ref.stacks, 'roles') ? 'met' : 'MISSED'}; ` +
    `synth ${ratio(median(at300.ms), median(ref.ms))} <= 2x: ${median(at300.ms) <= 2 * median(ref.ms) ? 'met' : 'MISSED'}`,
);
