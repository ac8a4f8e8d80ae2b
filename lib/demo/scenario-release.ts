import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ListStateMachinesCommand } from '@aws-sdk/client-sfn';
import { listApprovals } from '../../lambdas/shared/approvals';
import type { ApprovalRecord } from '../../lambdas/shared/approvals';
import { discoverModels } from '../config';
import type { DemoContext } from './context';
import { fmtMetrics, table } from './output';
import { DEMO_MODELS, DemoRepo } from './repo';
import { check, waitFor } from './steps';

/** Steps 2-4: the first push, the two releases up to approval, and the decisions. */

/** The demo's decisions: delivery-time goes on, ticket-triage is sent back. */
export const DECISIONS = {
  approve: { model: 'delivery-time', comment: 'Quality report reviewed: MAE well inside the bound, load test clean. Ship it.' },
  reject: { model: 'ticket-triage', comment: 'Hold: the support team wants the new refund-request wording in the training data first.' },
} as const;

/** The cloud answers the Step Functions API and knows both workflows. */
export async function checkCloud(ctx: DemoContext): Promise<void> {
  const { stateMachines = [] } = await ctx.clients.sfn.send(new ListStateMachinesCommand({}));
  const names = stateMachines.map((m) => m.name ?? '').sort();
  check(
    names.includes('mlship-release') && names.includes('mlship-drift-check'),
    'state machines of the local cloud',
    'mlship-release and mlship-drift-check',
    names.join(', ') || 'none',
  );
}

/** Step 2: a repository with the models, pushed to the cloud's bare repository. */
export async function firstPush(ctx: DemoContext, modelsDir: string, gitDir: string): Promise<void> {
  const parent = join(ctx.dataDir, 'demo');
  mkdirSync(parent, { recursive: true });
  const repo = await DemoRepo.create(parent);
  ctx.repo = repo;
  await repo.addRemote('mlship', gitDir);
  const existing = await repo.baseOn('mlship');
  repo.copyModels(modelsDir, DEMO_MODELS);
  for (const m of discoverModels(repo.dir)) ctx.manifests.set(m.manifest.name, m.manifest);
  const models = [...ctx.manifests.keys()].sort();
  check(models.length >= 2, `models copied from ${modelsDir}`, 'at least delivery-time and ticket-triage', models.join(', ') || 'none');
  ctx.out.say(`  repository ${repo.dir} with ${models.join(', ')}`);
  for (const m of models) ctx.productionBefore.set(m, (await ctx.production(m))?.version ?? null);
  if (existing) {
    // The cloud's repository already holds these models (an earlier demo): change each one,
    // or the push would release only the models that differ from its last commit.
    for (const m of models) repo.append(`models/${m}/README.md`, `\nDemo run ${new Date().toISOString()}.\n`);
    ctx.out.say(`  ${gitDir} already has these models: a note in each model's README.md makes this push release them again`);
  }

  const commit = await repo.commitAll(
    existing ? 'Update the delivery-time and ticket-triage models' : 'Add the delivery-time and ticket-triage models',
  );
  ctx.out.say(`  committed ${commit.slice(0, 12)}; git remote add mlship ${gitDir}; git push mlship main`);
  const push = await repo.push('mlship');
  for (const line of push.hookOutput) ctx.out.say(`  remote: ${line}`);
  const started = push.started.map((s) => s.model).sort();
  check(
    JSON.stringify(started) === JSON.stringify(models),
    'releases started by the push',
    `one per model (${models.join(', ')})`,
    started.join(', ') || `none (hook said: ${push.hookOutput.join(' | ') || 'nothing'})`,
  );
  for (const s of push.started) {
    check(s.executionArn.startsWith('arn:aws:states:'), `execution of ${s.model}`, 'an execution ARN', s.executionArn || 'none');
    ctx.follow(s.executionArn, s.model, 'push');
  }
}

/** Step 3: both releases build, deploy to staging, evaluate, load-test and wait for approval. */
export async function untilApproval(ctx: DemoContext, timeoutMs: number): Promise<void> {
  const arns = ctx.releasesOf('push').map((r) => r.executionArn);
  await ctx.waitReleases(
    arns,
    'releases of the first push',
    'both waiting for approval',
    (v) => v.status === 'RUNNING' && v.phase === 'awaiting approval',
    timeoutMs,
  );
  for (const arn of arns) {
    const v = ctx.watcher.view(arn);
    for (const phase of ['build', 'deploy staging', 'evaluate', 'load test']) {
      check(v.phases.includes(phase), `${v.label}: phases before approval`, `to include ${phase}`, v.phases.join(' -> '));
    }
    check(v.evaluation?.validationOk === true, `${v.label}: quality gate`, 'passed', JSON.stringify(v.evaluation ?? null));
    check(v.loadTest?.ok === true, `${v.label}: load test`, 'passed', JSON.stringify(v.loadTest ?? null));
  }
}

/** The pending approval record of each followed release of `why`. */
async function pendingApprovals(ctx: DemoContext, why: string): Promise<Map<string, ApprovalRecord>> {
  const arns = new Set(ctx.releasesOf(why).map((r) => r.executionArn));
  return waitFor({
    what: 'approval requests',
    expected: `a pending request for each of the ${arns.size} releases`,
    timeoutMs: 30_000,
    signal: ctx.signal,
    probe: async () => {
      const list = (await listApprovals({ s3: ctx.clients.s3, bucket: ctx.clients.bucket })).filter((a) => arns.has(a.executionArn));
      const byModel = new Map(list.map((a) => [a.model, a]));
      const found = list.map((a) => `${a.id} ${a.status}`).join(', ') || 'none';
      return { value: list.length === arns.size && list.every((a) => a.status === 'pending') ? byModel : undefined, found };
    },
  });
}

/** Step 4: show the requests and their reports, then decide (or let a person decide). */
export async function decide(ctx: DemoContext, opts: { interactive: boolean; approver: string }): Promise<void> {
  const pending = await pendingApprovals(ctx, 'push');
  const rows: string[][] = [];
  for (const a of [...pending.values()].sort((x, y) => x.model.localeCompare(y.model))) {
    const html = await ctx.download(
      a.reportLinks.html,
      `reports/${a.model}/${a.version}/quality-report.html`,
      `${a.model} ${a.version} quality report`,
    );
    await ctx.download(
      a.reportLinks.json,
      `reports/${a.model}/${a.version}/quality-report.json`,
      `${a.model} ${a.version} quality report (JSON)`,
    );
    rows.push([
      a.id,
      a.version,
      fmtMetrics(a.summary.metrics, Object.keys(ctx.manifests.get(a.model)?.evaluation.metrics ?? a.summary.metrics)),
      a.summary.validationOk && a.summary.loadTestOk ? 'gates passed' : 'gate FAILED',
      html,
    ]);
  }
  ctx.out.say(`  pending approvals:\n${table(['REQUEST', 'VERSION', 'METRICS', 'GATES', 'QUALITY REPORT (open in a browser)'], rows)}`);
  if (ctx.opts.consoleUrl) ctx.out.say(`  console: ${ctx.opts.consoleUrl}`);

  const approveId = pending.get(DECISIONS.approve.model)?.id;
  const rejectId = pending.get(DECISIONS.reject.model)?.id;
  check(
    !!approveId && !!rejectId,
    'approval requests of both models',
    `${DECISIONS.approve.model} and ${DECISIONS.reject.model}`,
    [...pending.keys()].join(', '),
  );

  if (opts.interactive) {
    ctx.out.say(
      `  --interactive: decide in the console (${ctx.opts.consoleUrl ?? 'mlship console'}) or with\n` +
        `    mlship approve ${approveId} --endpoint ${ctx.clients.endpoint}\n` +
        `    mlship reject ${rejectId} --comment "..." --endpoint ${ctx.clients.endpoint}\n` +
        `  The rest of the demo expects ${DECISIONS.approve.model} approved and ${DECISIONS.reject.model} rejected. Waiting...`,
    );
  } else {
    const approved = await ctx.clients.decide({
      id: approveId,
      decision: 'approve',
      by: opts.approver,
      comment: DECISIONS.approve.comment,
    });
    check(approved.ok, `approve ${approveId}`, 'decided', `${approved.status} ${approved.error ?? ''} ${approved.message ?? ''}`);
    ctx.out.say(`  approved ${approveId} as "${opts.approver}": "${DECISIONS.approve.comment}"`);
    const rejected = await ctx.clients.decide({ id: rejectId, decision: 'reject', by: opts.approver, comment: DECISIONS.reject.comment });
    check(rejected.ok, `reject ${rejectId}`, 'decided', `${rejected.status} ${rejected.error ?? ''} ${rejected.message ?? ''}`);
    ctx.out.say(`  rejected ${rejectId} as "${opts.approver}": "${DECISIONS.reject.comment}"`);
  }

  const decided = await waitFor({
    what: 'decisions recorded',
    expected: `${approveId} approved and ${rejectId} rejected`,
    timeoutMs: opts.interactive ? 3_600_000 : 30_000,
    intervalMs: 1000,
    signal: ctx.signal,
    probe: async () => {
      const all = await listApprovals({ s3: ctx.clients.s3, bucket: ctx.clients.bucket });
      const a = all.find((r) => r.id === approveId);
      const r = all.find((x) => x.id === rejectId);
      const found = `${approveId} ${a?.status ?? 'missing'}, ${rejectId} ${r?.status ?? 'missing'}`;
      if (a?.status === 'pending' || r?.status === 'pending') return { found };
      return { value: { a, r, found }, found };
    },
  });
  check(
    decided.a?.status === 'approved' && decided.r?.status === 'rejected',
    'decisions recorded',
    `${approveId} approved and ${rejectId} rejected`,
    decided.found,
  );
  if (opts.interactive) {
    ctx.out.say(
      `  ${approveId} approved by ${decided.a!.decision?.by}; ${rejectId} rejected by ${decided.r!.decision?.by}: "${decided.r!.decision?.comment ?? ''}"`,
    );
  }
}
