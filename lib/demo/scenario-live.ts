import { DescribeEndpointCommand } from '@aws-sdk/client-sagemaker';
import { DescribeExecutionCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { endpointName } from '../../lambdas/shared/names';
import { STATE_MACHINE_NAMES, stateMachineArn } from '../local/constants';
import type { DemoContext } from './context';
import { fmtNumber, secs } from './output';
import { DECISIONS } from './scenario-release';
import { feedShadowStage } from './scenario-shadow';
import { check, sleep, waitFor } from './steps';
import { capturedIds, sendTraffic, writeGroundTruth } from './traffic';

/** Step 5: the approved release goes to production, the rejected one does not. */
export async function production(ctx: DemoContext, timeoutMs: number): Promise<void> {
  const byModel = new Map(ctx.releasesOf('push').map((r) => [r.model, r.executionArn]));
  const approvedArn = byModel.get(DECISIONS.approve.model)!;
  const rejectedArn = byModel.get(DECISIONS.reject.model)!;
  const endpoint = endpointName(DECISIONS.approve.model, 'production');
  const observe = endpointObserver(ctx, endpoint);
  await ctx.waitReleases(
    [approvedArn, rejectedArn],
    'releases after the decisions',
    `${DECISIONS.approve.model} SUCCEEDED (in production), ${DECISIONS.reject.model} FAILED (ApprovalRejected)`,
    (v) => v.status !== 'RUNNING',
    timeoutMs,
    observe,
  );
  const ok = ctx.watcher.view(approvedArn);
  const rejected = ctx.watcher.view(rejectedArn);
  check(ok.status === 'SUCCEEDED', `${ok.label} release`, 'SUCCEEDED', `${ok.status} ${ok.error ?? ''}`);
  check(
    ok.phases.includes('deploy production') && ok.phases.includes('promote'),
    `${ok.label} phases`,
    'deploy production -> promote',
    ok.phases.join(' -> '),
  );
  check(
    rejected.status === 'FAILED' && rejected.error === 'ApprovalRejected',
    `${rejected.label} release`,
    'FAILED with ApprovalRejected',
    `${rejected.status} ${rejected.error ?? ''}`,
  );

  const pointer = await ctx.production(DECISIONS.approve.model);
  check(
    pointer?.version === ok.version,
    `registry/${DECISIONS.approve.model}/production.json`,
    `version ${ok.version}`,
    pointer ? `version ${pointer.version}` : 'no production pointer',
  );
  const record = await ctx.version(DECISIONS.approve.model, ok.version!);
  const deployment = record?.deployments.filter((d) => d.stage === 'production').at(-1);
  check(record?.status === 'production', `${ok.label} ${ok.version} registry status`, 'production', String(record?.status));
  check(deployment?.result === 'in-service', `${ok.label} production deployment`, 'in-service', JSON.stringify(deployment ?? null));
  ctx.out.say(
    `  ${ok.label} ${ok.version} is in production on ${pointer!.endpointName} since ${pointer!.since}: deployment ${deployment!.action} with strategy ${deployment!.strategy}` +
      `${deployment!.action === 'created' ? ' (a new endpoint takes all traffic at once; the canary shifts traffic from the next version on)' : ''}; approved by ${record!.approval?.by}`,
  );

  const rejectedRecord = rejected.version ? await ctx.version(DECISIONS.reject.model, rejected.version) : undefined;
  check(
    rejectedRecord?.approval?.decision === 'rejected',
    `${rejected.label} ${rejected.version} registry approval`,
    'decision rejected with the comment',
    JSON.stringify(rejectedRecord?.approval ?? null),
  );
  const after = (await ctx.production(DECISIONS.reject.model))?.version ?? null;
  const before = ctx.productionBefore.get(DECISIONS.reject.model) ?? null;
  check(
    after === before,
    `${rejected.label} production`,
    `unchanged (${before ?? 'no production version'})`,
    after ?? 'no production version',
  );
  ctx.out.say(
    `  ${rejected.label} ${rejected.version}: ${rejectedRecord!.status}, by ${rejectedRecord!.approval!.by}: "${rejectedRecord!.approval!.comment}"; production ${after ? `still serves ${after}` : 'has no version (unchanged)'}`,
  );
}

/** Narrate the production endpoint's status and traffic split whenever they change. */
export function endpointObserver(ctx: DemoContext, name: string): () => Promise<void> {
  let last = '';
  return async () => {
    let text: string;
    try {
      const d = await ctx.clients.sagemaker.send(new DescribeEndpointCommand({ EndpointName: name }));
      const weights = (vs: { VariantName?: string; CurrentWeight?: number }[] | undefined) =>
        (vs ?? []).map((v) => `${v.VariantName} weight ${fmtNumber(v.CurrentWeight)}`).join(', ');
      const pending = d.PendingDeploymentSummary;
      text = `${d.EndpointStatus}${pending ? `; new version ${pending.EndpointConfigName}: ${weights(pending.ProductionVariants)} (${pending.ProductionVariants?.[0]?.VariantStatus?.[0]?.Status ?? ''})` : ''}`;
    } catch (err) {
      if ((err as Error).name !== 'ValidationException' && !/not found|Could not find/i.test((err as Error).message)) throw err;
      text = 'not created yet';
    }
    if (text !== last) {
      last = text;
      ctx.out.say(`  endpoint ${name}: ${text}`);
    }
  };
}

/** A model's generate.mjs `generateRows`: seeded rows of features plus the label. */
export type RowGenerator = (o: { seed: number; n: number; drift?: number }) => object[];
const rowsOf = (g: RowGenerator, o: { seed: number; n: number; drift: number }) => g(o) as Record<string, unknown>[];

/** Step 6: live traffic, drifted traffic with delayed labels, the drift check and what it starts. */
export async function drift(
  ctx: DemoContext,
  opts: { generateRows: RowGenerator; normal: number; drifted: number; timeoutMs: number },
): Promise<void> {
  const model = DECISIONS.approve.model;
  const m = ctx.manifests.get(model)!;
  const endpoint = endpointName(model, 'production');
  const features = m.features.map((f) => f.name);

  const driftStart = await liveThenDriftedTraffic(ctx, { ...opts, model, endpointName: endpoint, features, label: m.label });

  // The window starts at the drifted traffic, named as a time: a length counted back from
  // when the check runs lost the first drifted rows whenever the check started more than a
  // couple of seconds after this line (a loaded machine: 80 of 300 rows, no verdict).
  const since = new Date(driftStart).toISOString();
  const name = `${model}-demo-drift-${Date.now().toString(36)}`;
  const { executionArn } = await ctx.clients.sfn.send(
    new StartExecutionCommand({
      stateMachineArn: stateMachineArn(STATE_MACHINE_NAMES.driftCheck),
      name,
      input: JSON.stringify({ model, trigger: 'manual', since }),
    }),
  );
  ctx.out.say(`  started drift check ${name} over the traffic since ${since} (the drifted traffic)`);
  const done = await waitFor({
    what: `drift check ${name}`,
    expected: 'SUCCEEDED',
    timeoutMs: opts.timeoutMs,
    signal: ctx.signal,
    probe: async () => {
      const d = await ctx.clients.sfn.send(new DescribeExecutionCommand({ executionArn }));
      return { value: d.status === 'RUNNING' ? undefined : d, found: `${d.status}${d.error ? ` ${d.error}: ${d.cause}` : ''}` };
    },
  });
  check(done.status === 'SUCCEEDED', `drift check ${name}`, 'SUCCEEDED', `${done.status} ${done.error ?? ''} ${done.cause ?? ''}`);
  const output = JSON.parse(done.output ?? '{}') as {
    CheckDriftResult?: { verdict: string; run: string; reportUri: string | null; reason: string };
    TriggerRetrainingResult?: { started: boolean; executionArn: string | null; skippedReason: string | null };
  };
  const result = output.CheckDriftResult;
  check(result?.verdict === 'drift', `drift verdict of ${name}`, 'drift', `${result?.verdict ?? 'none'}: ${result?.reason ?? ''}`);

  const report = await ctx.clients.getJson<{
    data: { driftShare: number; driftedColumns: string[]; currentRows: number; referenceRows: number; datasetDrift?: boolean };
    concept: { metric: string; value: number | null; baseline: number; joined: number; verdict: string } | null;
  }>(`monitoring/${model}/${result.run}/drift-report.json`);
  check(!!report, 'drift report', `monitoring/${model}/${result.run}/drift-report.json`, 'missing');
  const localReport = result.reportUri
    ? await ctx.download(result.reportUri, `monitoring/${model}/${result.run}/drift-report.html`, `${model} drift report`)
    : undefined;
  const c = report.concept;
  const concept = c
    ? `${c.metric} ${fmtNumber(c.value)} on ${c.joined} labelled requests vs ${fmtNumber(c.baseline)} at evaluation (${c.verdict})`
    : 'no concept check';
  const conceptShort = c ? `${c.metric} ${fmtNumber(c.value)} vs ${fmtNumber(c.baseline)}` : '';
  ctx.drift = {
    run: result.run,
    verdict: result.verdict,
    driftShare: report.data.driftShare,
    drifted: report.data.driftedColumns,
    concept,
    conceptShort,
    localReport,
  };
  ctx.out.say(
    `  drift report: ${localReport ?? result.reportUri}\n` +
      `    verdict ${result.verdict}: ${report.data.driftedColumns.length} of ${features.length} features drifted (share ${fmtNumber(report.data.driftShare)}): ${report.data.driftedColumns.join(', ')}\n` +
      `    ${report.data.currentRows} captured rows vs ${report.data.referenceRows} training rows; concept: ${concept}`,
  );

  await followRetraining(ctx, model, output.TriggerRetrainingResult, opts.generateRows);
}

/**
 * Normal traffic, then (a few seconds later) drifted traffic whose labels arrive afterwards,
 * until data capture holds every drifted request; returns when the drifted traffic started.
 */
async function liveThenDriftedTraffic(
  ctx: DemoContext,
  o: {
    generateRows: RowGenerator;
    normal: number;
    drifted: number;
    model: string;
    endpointName: string;
    features: string[];
    label: string;
  },
): Promise<number> {
  const { model, endpointName, features, label } = o;
  const normal = await sendTraffic(ctx.clients, {
    endpointName,
    rows: rowsOf(o.generateRows, { seed: 101, n: o.normal, drift: 0 }),
    features,
    label,
    idPrefix: 'live',
  });
  const p = (q: number, xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? NaN;
  ctx.out.say(
    `  live traffic (drift 0): ${normal.ok}/${normal.sent} InvokeEndpoint calls ok in ${secs(normal.ms)}, p50 ${fmtNumber(p(0.5, normal.latenciesMs))} ms, p99 ${fmtNumber(p(0.99, normal.latenciesMs))} ms`,
  );
  check(normal.ok === normal.sent, 'live traffic', `${normal.sent} successful invocations`, `${normal.ok}; ${normal.errors.join('; ')}`);

  // The check's window covers the drifted traffic only: capture times have whole seconds, so
  // leave a few seconds between the two and start the window just before the drifted part.
  await sleep(3000 - (Date.now() % 1000), ctx.signal);
  const driftStart = Math.floor(Date.now() / 1000) * 1000;
  const drifted = await sendTraffic(ctx.clients, {
    endpointName,
    rows: rowsOf(o.generateRows, { seed: 202, n: o.drifted, drift: 1 }),
    features,
    label,
    idPrefix: 'drifted',
  });
  ctx.out.say(`  drifted traffic (drift 1): ${drifted.ok}/${drifted.sent} calls ok in ${secs(drifted.ms)}`);
  check(
    drifted.ok === drifted.sent,
    'drifted traffic',
    `${drifted.sent} successful invocations`,
    `${drifted.ok}; ${drifted.errors.join('; ')}`,
  );

  // Delayed labels: the deliveries happened, their true durations arrive after the traffic.
  const gtKey = await writeGroundTruth(ctx.clients, model, drifted.labels);
  ctx.out.say(
    `  ground truth for the ${drifted.labels.size} drifted requests (joined on InferenceId): s3://${ctx.clients.bucket}/${gtKey}`,
  );

  await ctx.opts.flushCapture?.();
  await waitFor({
    what: 'data capture of the drifted traffic',
    expected: `all ${drifted.labels.size} inferenceIds under capture/${model}/${endpointName}/`,
    timeoutMs: 30_000,
    signal: ctx.signal,
    probe: async () => {
      const ids = await capturedIds(ctx.clients, model, endpointName);
      const have = [...drifted.labels.keys()].filter((id) => ids.has(id)).length;
      return { value: have === drifted.labels.size ? have : undefined, found: `${have} captured` };
    },
  });

  return driftStart;
}

/** The drift check's TriggerRetraining: a release with trigger drift, which the demo follows. */
async function followRetraining(
  ctx: DemoContext,
  model: string,
  trig: { started: boolean; executionArn: string | null; skippedReason: string | null } | undefined,
  generateRows: RowGenerator,
): Promise<void> {
  if (trig && !trig.started && ctx.opts.reused && trig.skippedReason?.startsWith('cooldown')) {
    // The platform's own rule, not a demo failure: one drift-triggered release per cooldown.
    ctx.out.say(
      `  retraining not started: ${trig.skippedReason}\n  (this cloud ran the demo before; on a fresh cloud the drift starts a retraining release)`,
    );
    return;
  }
  check(trig?.started === true && !!trig.executionArn, 'retraining', 'a release started with trigger drift', JSON.stringify(trig ?? null));
  const described = await ctx.clients.sfn.send(new DescribeExecutionCommand({ executionArn: trig.executionArn! }));
  const input = JSON.parse(described.input ?? '{}') as { trigger?: string; model?: string };
  check(
    input.trigger === 'drift' && input.model === model,
    `retraining release ${trig.executionArn}`,
    `model ${model}, trigger drift`,
    `model ${input.model}, trigger ${input.trigger}`,
  );
  ctx.drift!.retrainingArn = trig.executionArn!;
  ctx.out.say(`  retraining release started because of the drift: ${described.name} (trigger drift, ${described.status})`);
  ctx.follow(trig.executionArn!, model, 'drift', `${model} (retraining)`);
  // Its shadow stage needs live requests: sent whenever production has the shadow variant on, until the second push's step stops it.
  if (ctx.manifests.get(model)?.experiment.shadow) ctx.shadowFeed = feedShadowStage(ctx, model, generateRows);
  await ctx.watcher.poll();
}
