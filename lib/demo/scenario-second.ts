import { DescribeExecutionCommand, ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { listApprovals } from '../../lambdas/shared/approvals';
import { endpointName } from '../../lambdas/shared/names';
import { STATE_MACHINE_NAMES, stateMachineArn } from '../local/constants';
import type { DemoContext } from './context';
import { endpointObserver } from './scenario-live';
import { narrateShadow } from './scenario-shadow';
import { DECISIONS } from './scenario-release';
import { check, waitFor } from './steps';

/**
 * Step 7: a change to one model releases only that model. Meanwhile the retraining release
 * that the drift check started passes its gates; approving it shows what the first
 * deployment could not: a canary, because now there is a production version to shift from.
 */
export async function secondPush(
  ctx: DemoContext,
  opts: { timeoutMs: number; untilApproval: boolean; interactive: boolean; approver: string },
): Promise<void> {
  const repo = ctx.repo!;
  const model = DECISIONS.reject.model;
  const file = `models/${model}/README.md`;
  repo.append(file, '\nRefund requests ("money back", "refund my order") are routed to billing.\n');
  const commit = await repo.commitAll(`${model}: document refund routing`);
  await checkBranch(ctx, model, `edited ${file}, committed ${commit.slice(0, 12)}`);
  ctx.out.say(`  git push mlship main (the merge)`);
  const push = await repo.push('mlship');
  for (const line of push.hookOutput) ctx.out.say(`  remote: ${line}`);
  const started = push.started.map((s) => s.model);
  check(
    started.length === 1 && started[0] === model,
    'releases started by the second push',
    `only ${model}`,
    started.join(', ') || `none (${push.hookOutput.join(' | ')})`,
  );

  // Also ask the workflow itself: no other release runs this commit.
  const { executions = [] } = await ctx.clients.sfn.send(
    new ListExecutionsCommand({ stateMachineArn: stateMachineArn(STATE_MACHINE_NAMES.release), maxResults: 100 }),
  );
  const forCommit: string[] = [];
  for (const e of executions) {
    const d = await ctx.clients.sfn.send(new DescribeExecutionCommand({ executionArn: e.executionArn }));
    const input = JSON.parse(d.input ?? '{}') as { commitId?: string; model?: string };
    if (input.commitId === push.commit) forCommit.push(String(input.model));
  }
  check(
    forCommit.length === 1 && forCommit[0] === model,
    `release executions of commit ${commit.slice(0, 12)}`,
    `only ${model}`,
    forCommit.join(', ') || 'none',
  );
  const arn = push.started[0]!.executionArn;
  ctx.out.say(`  only ${model} was released: ${push.started[0]!.name}`);
  ctx.follow(arn, model, 'push2', `${model} (2nd push)`);
  if (!opts.untilApproval) return;

  const retraining = ctx.releasesOf('drift')[0]?.executionArn;
  const arns = retraining ? [arn, retraining] : [arn];
  let shadowTraffic: { sent: number; ok: number; errors: string[] } | undefined;
  try {
    await ctx.waitReleases(
      arns,
      "the second push's release and the retraining release",
      'both waiting for approval',
      (v) => v.status === 'RUNNING' && v.phase === 'awaiting approval',
      opts.timeoutMs,
    );
  } finally {
    // The retraining release has passed its shadow stage (or the wait failed): no more live traffic for it.
    shadowTraffic = await ctx.shadowFeed?.stop();
    ctx.shadowFeed = undefined;
  }
  if (retraining && shadowTraffic) await narrateShadow(ctx, retraining, DECISIONS.approve.model, shadowTraffic);
  for (const a of arns) {
    const v = ctx.watcher.view(a);
    check(
      v.evaluation?.validationOk === true && v.loadTest?.ok === true,
      `${v.label} gates`,
      'quality gate and load test passed',
      JSON.stringify({ evaluation: v.evaluation, loadTest: v.loadTest }),
    );
  }
  const pendingId = (await approvalOf(ctx, arn)).id;
  ctx.out.say(`  ${model} (2nd push) now waits for a person (console, or \`mlship approve ${pendingId}\`); the demo leaves it pending`);
  if (retraining) await rollOutRetraining(ctx, retraining, opts);
}

/**
 * Before the merge: the same commit pushed to a branch runs the model's check (build, tests,
 * training, evaluation against production on the same holdout) and the push prints its verdict;
 * nothing is deployed and no release starts.
 */
async function checkBranch(ctx: DemoContext, model: string, change: string): Promise<void> {
  const branch = 'refund-routing';
  ctx.out.say(
    `  ${change}; first git push mlship HEAD:${branch}: a branch other than main runs ${model}'s check (its build, tests and training, then the release's evaluation on the holdout; nothing is deployed)`,
  );
  const push = await ctx.repo!.pushBranch('mlship', branch);
  for (const line of push.hookOutput) ctx.out.say(`  remote: ${line}`);
  const verdict = push.hookOutput.find((l) => l.includes(`check ${model} @ ${branch}`));
  check(
    push.started.length === 0 && /: PASSED/.test(verdict ?? ''),
    `the check of the ${branch} push`,
    `${model}'s check passed, no release started`,
    push.hookOutput.join(' | ') || 'no output',
  );
  ctx.out.say(`  the check passed and predicts the release's quality gate; now the merge: main moves to the same commit`);
}

async function approvalOf(ctx: DemoContext, executionArn: string) {
  return waitFor({
    what: `approval request of ${executionArn}`,
    expected: 'a pending request',
    timeoutMs: 30_000,
    signal: ctx.signal,
    probe: async () => {
      const a = (await listApprovals({ s3: ctx.clients.s3, bucket: ctx.clients.bucket })).find((r) => r.executionArn === executionArn);
      return { value: a?.status === 'pending' ? a : undefined, found: a ? a.status : 'none' };
    },
  });
}

/** Approve the retraining release and narrate its canary deployment to production. */
async function rollOutRetraining(
  ctx: DemoContext,
  executionArn: string,
  opts: { timeoutMs: number; interactive: boolean; approver: string },
): Promise<void> {
  const model = DECISIONS.approve.model;
  const request = await approvalOf(ctx, executionArn);
  const before = (await ctx.production(model))?.version;
  if (opts.interactive) {
    ctx.out.say(`  the retraining release ${request.id} waits for a person too; approve it to watch a canary deployment`);
    return;
  }
  const m = ctx.manifests.get(model)!;
  const comment = 'Retrained after the drift alert; gates passed. Roll out with the canary.';
  const approved = await ctx.clients.decide({ id: request.id, decision: 'approve', by: opts.approver, comment });
  check(approved.ok, `approve ${request.id}`, 'decided', `${approved.status} ${approved.error ?? ''} ${approved.message ?? ''}`);
  ctx.out.say(
    `  approved the retraining release ${request.id} as "${opts.approver}": "${comment}"\n` +
      `  production ${before} -> ${request.version}: ${m.deployment.strategy} of ${m.deployment.stepPercent}% of the traffic, bake ${m.deployment.bakeTime}s${ctx.opts.timeScale ? ` (${Number((m.deployment.bakeTime * ctx.opts.timeScale).toFixed(2))}s at time scale ${ctx.opts.timeScale})` : ''}, rollback on 5xx > ${m.deployment.alarms.max5xxRate * 100}% or p99 > ${m.deployment.alarms.p99LatencyMs} ms`,
  );
  await ctx.waitReleases(
    [executionArn],
    `retraining release ${request.id}`,
    'SUCCEEDED (in production)',
    (v) => v.status === 'SUCCEEDED',
    opts.timeoutMs,
    endpointObserver(ctx, endpointName(model, 'production')),
    200,
  );
  const v = ctx.watcher.view(executionArn);
  const pointer = await ctx.production(model);
  check(pointer?.version === v.version, `registry/${model}/production.json`, `version ${v.version}`, pointer?.version ?? 'none');
  const record = await ctx.version(model, v.version!);
  const deployment = record?.deployments.filter((d) => d.stage === 'production').at(-1);
  check(
    deployment?.action === 'updated' && deployment.strategy === m.deployment.strategy && deployment.result === 'in-service',
    `${model} ${v.version} production deployment`,
    `updated with strategy ${m.deployment.strategy}, in-service`,
    JSON.stringify(deployment ?? null),
  );
  const previous = before ? await ctx.version(model, before) : undefined;
  ctx.out.say(
    `  ${model} ${v.version} is in production (blue/green ${deployment!.strategy}); ${before} is ${previous?.status ?? 'unknown'}; lineage: previous production ${record!.lineage.previousProduction}`,
  );
}
