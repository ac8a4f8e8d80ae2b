import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readCloudFile, runningCloud } from '../local/client';
import { PACKAGE_ROOT } from '../local/constants';
import { DemoClients } from './clients';
import { DemoContext } from './context';
import { Narrator, secs, type OutputSink } from './output';
import { drift, production } from './scenario-live';
import { secondPush } from './scenario-second';
import { checkCloud, decide, firstPush, untilApproval } from './scenario-release';
import { DemoAbortedError, DemoCheckError, StepRunner, type StepTiming } from './steps';
import { summaryTable, timingTable } from './summary';

/**
 * `mlship demo`: the whole story of mlship on the local cloud in a few minutes, narrated
 * step by step, every step checking its own outcome. See lib/cli/commands/demo.ts.
 */

export interface DemoOptions {
  /** Use this data dir; a cloud already running there (its cloud.json) is reused. @default a new temp dir */
  dataDir?: string;
  /** Use the local cloud at this edge URL instead of starting one (needs `gitDir` or a cloud.json in `dataDir`). */
  endpoint?: string;
  /** The running cloud's bare repository, with `endpoint`. */
  gitDir?: string;
  /** Wait for a person to decide in the console or with `mlship approve|reject`. */
  interactive?: boolean;
  /** Time scale of a cloud the demo starts. @default 0.02 (as `mlship up --fast`) */
  timeScale?: number;
  /** Edge port of a cloud the demo starts. @default 0 (any free port) */
  port?: number;
  /** The approver recorded for the demo's decisions. */
  approver?: string;
  /** Wait for the second push's release to reach approval (false: only check what started). @default true */
  checkSecondRelease?: boolean;
  /** Where the narration goes. @default process.stdout */
  out?: OutputSink;
  /** Aborting stops the demo at its next wait (the CLI wires SIGINT/SIGTERM to it). */
  signal?: AbortSignal;
  /** The models copied into the demo repository. @default this package's models/ */
  modelsDir?: string;
}

export interface DemoResult {
  ok: boolean;
  totalMs: number;
  steps: StepTiming[];
  dataDir: string;
  /** The summary table's rows (model, version, trigger, state, key figures, report). */
  summary: string[][];
  /** The failure that stopped the demo, if any. */
  error?: string;
}

export const DEMO_APPROVER = 'Dana Reyes (demo approver)';
const STEPS = 8;

/** What the demo started or reached, for its steps and for the tidy-up at the end. */
interface DemoSession {
  dataDir: string;
  /** Stops the local cloud the demo started (none when it reused a running one). */
  close?: () => Promise<void>;
  clients?: DemoClients;
  ctx?: DemoContext;
  /** A cloud someone else started: it may run at real time. */
  external: boolean;
}

export async function runDemo(opts: DemoOptions = {}): Promise<DemoResult> {
  const sink = opts.out ?? { write: (t: string) => void process.stdout.write(t) };
  const out = new Narrator(sink);
  const runner = new StepRunner(out, STEPS);
  const started = Date.now();
  const session: DemoSession = { dataDir: resolve(opts.dataDir ?? mkdtempSync(join(tmpdir(), 'mlship-demo-'))), external: false };
  const { dataDir } = session;
  let error: string | undefined;
  let summary: string[][] = [];

  // The task handlers run in this process: their per-invocation INFO logs would drown the
  // narration (warnings and errors still show). The SDK's notice about future Node.js
  // versions is not something a newcomer can act on during the demo.
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  out.say(
    `mlship demo: two models from git push to production, an approval, a rejection, live traffic, drift and retraining${opts.interactive ? ' (interactive)' : ''}`,
  );
  try {
    const c = await runner.run('Start the local cloud', () => startOrReuseCloud(opts, session, out));
    session.ctx = c;
    summary = await runScenario(c, opts, runner, session);
    if (opts.interactive && session.close && opts.signal) {
      // A person at the keyboard may want to look around: approve what is pending (the
      // retraining release shows the canary), open the reports, use the console.
      out.say(
        `the local cloud keeps running for you: console ${c.opts.consoleUrl ?? '-'}, AWS_ENDPOINT_URL=${c.clients.endpoint}; press Ctrl-C to stop it`,
      );
      await new Promise<void>((resolve) =>
        opts.signal!.aborted ? resolve() : opts.signal!.addEventListener('abort', () => resolve(), { once: true }),
      );
    }
  } catch (err) {
    error = err instanceof DemoCheckError ? err.message : `${(err as Error)?.name}: ${(err as Error)?.message ?? String(err)}`;
    if (!(err instanceof DemoCheckError) && !(err instanceof DemoAbortedError)) out.raw(String((err as Error)?.stack ?? err));
  } finally {
    out.raw(`\n${timingTable(runner.timings, Date.now() - started)}\n`);
    await tidyUp(session, out);
  }
  const totalMs = Date.now() - started;
  const ok = !error && runner.timings.length === STEPS && runner.timings.every((t) => t.ok);
  out.say(
    ok
      ? `mlship demo: every step did what it said, in ${secs(totalMs)}; data in ${dataDir}`
      : `mlship demo: FAILED: ${error ?? 'a step did not finish'}`,
  );
  return { ok, totalMs, steps: runner.timings, dataDir, summary, error };
}

/** Step 1: reach the cloud given (--endpoint, or one running on the data dir), or start one. */
async function startOrReuseCloud(opts: DemoOptions, session: DemoSession, out: Narrator): Promise<DemoContext> {
  const { dataDir } = session;
  const running = opts.endpoint ? undefined : runningCloud(dataDir);
  let endpoint: string;
  let gitDir: string | undefined;
  let consoleUrl: string | undefined;
  let flushCapture: (() => Promise<void>) | undefined;
  let timeScale: number | undefined;
  if (opts.endpoint || running) {
    endpoint = (opts.endpoint ?? running!.endpoint).replace(/\/$/, '');
    gitDir = opts.gitDir ?? running?.gitDir ?? readCloudFile(dataDir)?.gitDir;
    consoleUrl = running?.consoleUrl;
    session.external = true;
    out.say(
      `  using the local cloud running at ${endpoint}${running ? ` (from ${join(dataDir, 'cloud.json')})` : ''}; started with \`mlship up --fast\` it keeps to the demo's time limits`,
    );
  } else {
    const { LocalCloud } = await import('../local/cloud');
    const t0 = Date.now();
    const cloud = await LocalCloud.start({
      port: opts.port ?? 0,
      dataDir,
      repoRoot: PACKAGE_ROOT,
      timeScale: opts.timeScale ?? 0.02,
      console: true,
      scheduler: false,
    });
    session.close = () => cloud.close();
    endpoint = cloud.endpoint;
    gitDir = cloud.gitDir;
    consoleUrl = cloud.consoleUrl;
    flushCapture = () => cloud.sageMaker.flushCapture();
    timeScale = opts.timeScale ?? 0.02;
    out.say(
      `  started in ${secs(Date.now() - t0)}, time scale ${opts.timeScale ?? 0.02} (waits and bake times run faster; the work itself does not)`,
    );
  }
  if (!gitDir || !existsSync(gitDir))
    throw new DemoCheckError("the cloud's git repository", 'a bare repository (from cloud.json or --git-dir)', gitDir ?? 'none');
  session.clients = new DemoClients(endpoint);
  const c = new DemoContext(session.clients, out, dataDir, {
    consoleUrl,
    gitDir,
    timeScale,
    reused: session.external,
    signal: opts.signal,
    flushCapture,
  });
  await checkCloud(c);
  out.say(
    `  endpoint  ${endpoint}   (export AWS_ENDPOINT_URL=${endpoint} AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1)\n` +
      `  data dir  ${dataDir}\n` +
      `  console   ${consoleUrl ?? '(not running; start it with `mlship console`)'}`,
  );
  return c;
}

/** Steps 2 to 8; returns the summary table's rows. */
async function runScenario(c: DemoContext, opts: DemoOptions, runner: StepRunner, session: DemoSession): Promise<string[][]> {
  /** Time limits of the waits; a cloud someone else started may run at real time. */
  const limit = (ms: number) => (session.external ? ms * 4 : ms);
  const modelsDir = opts.modelsDir ?? join(PACKAGE_ROOT, 'models');
  await runner.run('Create a models repository and push it', () => firstPush(c, modelsDir, c.opts.gitDir));
  await runner.run('Build, deploy to staging, evaluate and load-test both releases', () => untilApproval(c, limit(300_000)));
  await runner.run(opts.interactive ? 'Approvals: waiting for your decisions' : 'Approve delivery-time, reject ticket-triage', () =>
    decide(c, { interactive: !!opts.interactive, approver: opts.approver ?? DEMO_APPROVER }),
  );
  await runner.run('delivery-time goes to production; ticket-triage does not', () => production(c, limit(180_000)));
  const { generateRows } = (await import(
    pathToFileURL(join(modelsDir, 'delivery-time', 'generate.mjs')).href
  )) as typeof import('../../models/delivery-time/generate.mjs');
  await runner.run('Live traffic, drifted traffic with delayed labels, drift check and retraining', () =>
    drift(c, { generateRows, normal: 200, drifted: 300, timeoutMs: limit(120_000) }),
  );
  const approver = opts.approver ?? DEMO_APPROVER;
  await runner.run('Push a change to ticket-triage only; roll the retraining out with a canary', () =>
    secondPush(c, {
      timeoutMs: limit(300_000),
      untilApproval: opts.checkSecondRelease !== false,
      interactive: !!opts.interactive,
      approver,
    }),
  );
  let rows: string[][] = [];
  await runner.run('Summary', async () => {
    const s = await summaryTable(c);
    rows = s.rows;
    c.out.raw(`\n${s.text}\n`);
  });
  return rows;
}

/** Say what is left running and where the files are, then stop what the demo started. */
async function tidyUp(session: DemoSession, out: Narrator): Promise<void> {
  const { ctx, close, dataDir } = session;
  // A step that failed before the second push stopped it leaves the shadow stage's traffic running.
  await ctx?.shadowFeed?.stop();
  if (ctx) {
    const running = ctx.releases.filter((r) => ctx.watcher.view(r.executionArn).status === 'RUNNING').map((r) => r.label);
    if (close && running.length)
      out.say(
        `stopping the local cloud: the running releases (${running.join(', ')}) end FAILED and can be redriven after \`mlship up --data-dir ${dataDir}\``,
      );
    if (ctx.files.length)
      out.raw(
        `\nFiles to open (everything is under ${dataDir}; remove it with rm -rf when done):\n${ctx.files.map((f) => `  ${f.label}: ${f.path}`).join('\n')}\n`,
      );
  }
  session.clients?.destroy();
  if (close) {
    // Tasks still running in this process fail as the cloud goes away; their error logs
    // after the demo's last line would only confuse.
    const { logger } = await import('../../lambdas/shared/logger');
    logger.setLogLevel('SILENT');
  }
  await close?.().catch((e: unknown) => out.say(`error while stopping the local cloud: ${(e as Error).message}`));
}
