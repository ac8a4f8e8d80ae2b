import { DescribeEndpointCommand } from '@aws-sdk/client-sagemaker';
import { endpointName } from '../../lambdas/shared/names';
import type { DemoContext } from './context';
import { check, sleep } from './steps';
import { sendTraffic } from './traffic';

/**
 * The retraining release's shadow stage under live traffic (issue 18): while the release is in
 * its shadow test, the demo keeps sending requests to the production endpoint, so that the
 * candidate (the shadow variant) answers a copy of them; afterwards it prints the verdict the
 * stage recorded on the version. Callers only ever get production's answers, which the demo
 * checks on every request it sent.
 */

/** Requests per batch: small, so a batch never outlasts the stage by much. */
const BATCH = 20;

export interface ShadowFeed {
  /** Stop sending; resolves with what was sent while the release was in its shadow test. */
  stop(): Promise<{ sent: number; ok: number; errors: string[] }>;
}

/** Whether the endpoint serves, or is moving to, a config with a shadow variant (what the shadow stage puts there). */
async function shadowOn(ctx: DemoContext, name: string): Promise<boolean> {
  const ep = await ctx.clients.sagemaker.send(new DescribeEndpointCommand({ EndpointName: name })).catch(() => undefined);
  return (ep?.ShadowProductionVariants?.length ?? 0) > 0;
}

/**
 * Send drifted live traffic to `model`'s production endpoint whenever it has a shadow variant,
 * until stopped. It asks the endpoint rather than the release's phase: the release's shadow
 * stage may come while the demo is busy elsewhere (the branch check), and only requests sent
 * while the shadow is on are copied.
 */
export function feedShadowStage(
  ctx: DemoContext,
  model: string,
  generateRows: (o: { seed: number; n: number; drift?: number }) => object[],
): ShadowFeed {
  const m = ctx.manifests.get(model)!;
  const name = endpointName(model, 'production');
  const totals = { sent: 0, ok: 0, errors: [] as string[] };
  let stopped = false;
  const loop = (async () => {
    for (let batch = 0; !stopped && !ctx.signal?.aborted;) {
      if (!(await shadowOn(ctx, name))) {
        await sleep(250, ctx.signal);
        continue;
      }
      const r = await sendTraffic(ctx.clients, {
        endpointName: name,
        rows: generateRows({ seed: 300 + batch++, n: BATCH, drift: 1 }) as Record<string, unknown>[],
        features: m.features.map((f) => f.name),
        label: m.label,
        idPrefix: `shadow-${batch}`,
        concurrency: 4,
      });
      totals.sent += r.sent;
      totals.ok += r.ok;
      totals.errors.push(...r.errors.slice(0, 5 - totals.errors.length));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      return totals;
    },
  };
}

/** Print the shadow stage's verdict from the version record, and check production answered every request sent meanwhile. */
export async function narrateShadow(
  ctx: DemoContext,
  executionArn: string,
  model: string,
  traffic: { sent: number; ok: number; errors: string[] },
): Promise<void> {
  const version = ctx.watcher.view(executionArn).version;
  const shadow = version ? (await ctx.version(model, version))?.shadow : undefined;
  check(
    !!shadow && shadow.verdict !== 'skipped',
    `shadow test of ${model} ${version ?? ''}`,
    'a verdict on live traffic',
    JSON.stringify(shadow ?? null),
  );
  check(
    traffic.sent > 0 && traffic.ok === traffic.sent,
    `live requests during ${model}'s shadow test`,
    'every one answered by production',
    `${traffic.ok} of ${traffic.sent}; ${traffic.errors.join('; ')}`,
  );
  const m = ctx.manifests.get(model)!.experiment.shadow!;
  ctx.out.say(
    `  shadow test of ${model} ${version} on live traffic: ${shadow!.verdict} (${shadow!.reasons.join('; ')}); ` +
      `${traffic.sent} live requests sent during the stage, all answered by production; ${m.samplingPercent} % copied to the candidate, ` +
      `${shadow!.requests} answered by both${shadow!.reportUri ? `; report ${shadow!.reportUri.replace(/\.json$/, '.html')}` : ''}`,
  );
}
