/**
 * Orchestration overhead of the local cloud's Step Functions against the raw engine.
 *
 * 50 releases of a trivial model run concurrently through the REAL release definition, twice
 * in the same process:
 *   - reference: aws-local-stepfunctions' StateMachine.run with task overrides that return at
 *     once (the engine alone);
 *   - local cloud: started as `git push` starts a release (LocalCloud.startWorkflow, the
 *     service's StartExecution), the same trivial work as in-process Lambda functions, the
 *     approval answered with SendTaskSuccess, every event mapped to Step Functions history and
 *     journaled to the data dir.
 * The task functions are trivial on purpose: the figure is the cost of orchestration per state
 * transition and per release, not of builds or models.
 *
 * The API's own cost is measured apart, after the rounds: StartExecution over HTTP with the
 * AWS SDK, through the edge, of a one-state machine. It is not in the ratio because a client
 * is not orchestration, and in this process the SDK's work (signing, serialization, 50
 * sockets) would be counted as the local cloud's.
 *
 * Run: npx tsx bench/orchestration/run.ts [releases=50] [rounds=9]
 */
import '../../bin/polyfills';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { join } from 'node:path';
import { CreateStateMachineCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { StateMachine } from 'aws-local-stepfunctions';
import { LocalCloud, renderWorkflow } from '../../lib/local/cloud';
import { TASKS, TASK_NAMES } from '../../lib/tasks';
import { taskFunctionName } from '../../lib/local/constants';
import { prepareDefinition } from '../../lib/local/services/sfn/definition';

const RELEASES = Number(process.argv[2] ?? 50);

/**
 * Each timed run starts on a collected heap, after the previous run's leftovers (a closed
 * cloud's garbage, its exiting s3rver) have settled, so neither side pays for the other.
 */
setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;
async function settle(): Promise<void> {
  await new Promise((r) => setTimeout(r, 100));
  collect();
}
const definitionText = renderWorkflow('release');
const definition = JSON.parse(definitionText) as { States: Record<string, Record<string, any>> };

/** Values the Choice states read; every other ResultSelector field gets a placeholder. */
const CHOSEN: Record<string, unknown> = { status: 'SUCCEEDED', validationOk: true, ok: true, pollSeconds: 0, approvalTimeoutSeconds: 600 };

/** A trivial result per task state, with every field its ResultSelector reads. */
function payloadFor(stateName: string): Record<string, unknown> {
  const state = definition.States[stateName]!;
  const out: Record<string, unknown> = {};
  for (const path of Object.values((state.ResultSelector ?? {}) as Record<string, string>)) {
    const m = /^\$\.Payload\.([A-Za-z0-9_]+)/.exec(path);
    if (m) out[m[1]!] = CHOSEN[m[1]!] ?? 'x';
  }
  // CheckStaging/CheckProduction read endpoint statuses.
  if (stateName.startsWith('Check') && stateName !== 'CheckBuild') out.status = 'InService';
  return out;
}

const taskStates = Object.entries(definition.States).filter(([, s]) => s.Type === 'Task');
const functionOf = (s: Record<string, any>): string => String(s.Parameters.FunctionName).split(':function:')[1]!;

async function reference(): Promise<{ wallMs: number; perRelease: number[]; transitions: number }> {
  // The engine reads TimeoutSecondsPath from the Parameters output instead of the state input;
  // the same definition rewrite the local cloud makes (prepareDefinition) lets it run at all.
  const engine = new StateMachine(prepareDefinition(definition, 1).engine as never, { validationOptions: { noValidate: true } });
  const overrides: Record<string, () => unknown> = {};
  for (const [name, s] of taskStates) {
    const payload = payloadFor(name);
    overrides[name] = s.Resource.endsWith('.waitForTaskToken') ? () => ({ approved: true }) : () => ({ Payload: payload, StatusCode: 200 });
  }
  let transitions = 0;
  await settle();
  const t0 = performance.now();
  const perRelease = await Promise.all(
    Array.from({ length: RELEASES }, async (_, i) => {
      const start = performance.now();
      const run = engine.run({ model: 'bench', commitId: `c${i}`, sourceUri: 's3://x/y', trigger: 'manual' } as never, {
        overrides: { taskResourceLocalHandlers: overrides as never },
        context: { Execution: { Id: `ref-${i}`, Name: `ref-${i}` }, Task: { Token: 'token' } },
      });
      const counting = (async () => {
        for await (const e of run.eventLogs) if (e.type === 'StateEntered') transitions += 1;
      })();
      await run.result;
      await counting;
      return performance.now() - start;
    }),
  );
  return { wallMs: performance.now() - t0, perRelease, transitions: transitions / RELEASES };
}

/** Start a local cloud on fresh temp dirs, run `body` on it, then stop it and remove the dirs. */
async function withCloud<T>(functions: Record<string, (event: any) => unknown>, body: (cloud: LocalCloud) => Promise<T>): Promise<T> {
  const dataDir = mkdtempSync(join(tmpdir(), 'mlship-bench-'));
  const repoRoot = mkdtempSync(join(tmpdir(), 'mlship-bench-repo-'));
  const cloud = await LocalCloud.start({ port: 0, dataDir, repoRoot, scheduler: false, functions });
  try {
    return await body(cloud);
  } finally {
    await cloud.close();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(repoRoot, { recursive: true, force: true });
  }
}

async function localCloud(): Promise<{ wallMs: number; perRelease: number[]; transitions: number }> {
  let cloud: LocalCloud | undefined;
  const functions: Record<string, (event: any) => unknown> = {};
  for (const task of TASK_NAMES) {
    const states = taskStates.filter(([, s]) => functionOf(s) === taskFunctionName(task));
    if (!states.length) continue;
    // One function may back several states (RecordOutcome); their ResultSelectors are merged.
    const payload = Object.assign({}, ...states.map(([n]) => payloadFor(n)));
    const waits = states.some(([, s]) => s.Resource.endsWith('.waitForTaskToken'));
    functions[taskFunctionName(task)] = waits
      ? (event: { taskToken: string }) => {
          // The approver answers right away, through the same API a person's decision takes.
          setImmediate(
            () => void cloud!.stepFunctions.handle('SendTaskSuccess', { taskToken: event.taskToken, output: '{"approved":true}' }),
          );
          return payload;
        }
      : () => payload;
  }
  return withCloud(functions, async (started) => {
    cloud = started;
    await settle();
    const t0 = performance.now();
    const perRelease = await Promise.all(
      Array.from({ length: RELEASES }, async (_, i) => {
        const start = performance.now();
        const { executionArn } = await started.startWorkflow('release', 'bench', {
          model: 'bench',
          commitId: `c${i}`,
          sourceUri: 's3://x/y',
          trigger: 'manual',
        });
        const rec = await started.stepFunctions.waitForExecution(executionArn);
        if (rec.status !== 'SUCCEEDED') throw new Error(`${executionArn}: ${rec.status} ${rec.error}: ${rec.cause}`);
        return performance.now() - start;
      }),
    );
    const wallMs = performance.now() - t0;
    const history = started.stepFunctions.history(started.stepFunctions.records()[0]!.executionArn);
    const transitions = history.filter((e) => e.type.endsWith('StateEntered')).length;
    return { wallMs, perRelease, transitions };
  });
}

/** StartExecution over HTTP with the AWS SDK: RELEASES at once, then one at a time, of a one-state machine. */
function api(): Promise<{ allAtOnceMs: number; oneAtATimeMs: number[] }> {
  return withCloud({}, async (cloud) => {
    const sfn = new SFNClient({
      endpoint: cloud.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    try {
      const { stateMachineArn } = await sfn.send(
        new CreateStateMachineCommand({
          name: 'bench-api',
          definition: JSON.stringify({ StartAt: 'Done', States: { Done: { Type: 'Succeed' } } }),
          roleArn: 'arn:aws:iam::000000000000:role/x',
        }),
      );
      const start = (name: string) =>
        sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify({ model: 'bench', commitId: name }) }));
      await start('warm-up');
      const t0 = performance.now();
      await Promise.all(Array.from({ length: RELEASES }, (_, i) => start(`all-${i}`)));
      const allAtOnceMs = performance.now() - t0;
      const oneAtATimeMs: number[] = [];
      for (let i = 0; i < RELEASES; i++) {
        const t = performance.now();
        await start(`one-${i}`);
        oneAtATimeMs.push(performance.now() - t);
      }
      return { allAtOnceMs, oneAtATimeMs };
    } finally {
      sfn.destroy();
    }
  });
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const p = (xs: number[], q: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

// Warm both paths once (module loading, JIT), then alternate rounds and keep the median
// round of each: the machine is shared, and one noisy round should not decide the ratio.
const ROUNDS = Number(process.argv[3] ?? 9);
await reference();
await localCloud();
const refRounds: Awaited<ReturnType<typeof reference>>[] = [];
const localRounds: Awaited<ReturnType<typeof localCloud>>[] = [];
for (let i = 0; i < ROUNDS; i++) {
  refRounds.push(await reference());
  localRounds.push(await localCloud());
}
// The round whose wall-time ratio is the median; each round's two runs are adjacent in time.
const ratios = refRounds.map((r, i) => localRounds[i]!.wallMs / r.wallMs);
const mid = ratios.map((r, i) => [r, i] as const).sort((a, b) => a[0] - b[0])[Math.floor(ROUNDS / 2)]![1];
const ref = refRounds[mid]!;
const local = localRounds[mid]!;

const rows = [
  ['', 'raw aws-local-stepfunctions', 'local cloud (edge + journal)', 'ratio'],
  ['releases (concurrent)', String(RELEASES), String(RELEASES), ''],
  ['state transitions per release', String(ref.transitions), String(local.transitions), ''],
  ['wall time, all releases (ms)', ref.wallMs.toFixed(1), local.wallMs.toFixed(1), (local.wallMs / ref.wallMs).toFixed(2)],
  [
    'mean time per release (ms)',
    mean(ref.perRelease).toFixed(1),
    mean(local.perRelease).toFixed(1),
    (mean(local.perRelease) / mean(ref.perRelease)).toFixed(2),
  ],
  [
    'p95 time per release (ms)',
    p(ref.perRelease, 0.95).toFixed(1),
    p(local.perRelease, 0.95).toFixed(1),
    (p(local.perRelease, 0.95) / p(ref.perRelease, 0.95)).toFixed(2),
  ],
  [
    'wall time per state transition (ms)',
    (ref.wallMs / (RELEASES * ref.transitions)).toFixed(3),
    (local.wallMs / (RELEASES * local.transitions)).toFixed(3),
    (local.wallMs / (RELEASES * local.transitions) / (ref.wallMs / (RELEASES * ref.transitions))).toFixed(2),
  ],
];
const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
process.stdout.write(
  `Orchestration overhead: ${RELEASES} concurrent trivial releases of the real release definition (${Object.keys(TASKS).length} task functions), median of ${ROUNDS} rounds\n` +
    `(local cloud times include StartExecution, as \`git push\` calls it, and the journaled final record; its fsync is group-committed in the background)\n\n`,
);
for (const r of rows) process.stdout.write(`${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')}\n`);
process.stdout.write(`\nwall-time ratio of each round: ${ratios.map((r) => r.toFixed(2)).join(', ')} (the table shows the median round)\n`);
const calls = await api();
process.stdout.write(
  `\nStartExecution over HTTP (AWS SDK client in this process -> edge) of a one-state machine: ${RELEASES} at once ${calls.allAtOnceMs.toFixed(1)} ms ` +
    `(${(calls.allAtOnceMs / RELEASES).toFixed(2)} ms each); one at a time, median ${p(calls.oneAtATimeMs, 0.5).toFixed(2)} ms per call\n`,
);
process.stdout.write(
  `\ntargets: ratio < 2x the raw engine; a whole trivial release < 1000 ms of overhead (local cloud mean ${mean(local.perRelease).toFixed(1)} ms)\n`,
);
