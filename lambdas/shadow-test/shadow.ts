import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SageMakerClient } from '@aws-sdk/client-sagemaker';
import type { ShadowExperiment } from '../../lib/config';
import { METRIC_DIRECTIONS } from '../ml';
import {
  compareClassification,
  compareRegression,
  pairedBootstrap,
  shadowVerdict,
  type Agreement,
  type PairedBootstrapResult,
  type VariantTrafficSummary,
} from '../ml/shadow';
import { EndpointBusyError } from '../shared/errors';
import {
  abConfigName,
  endpointConfigName,
  endpointName,
  keys,
  s3Uri,
  sagemakerModelName,
  shadowConfigName,
  VARIANT_NAME,
} from '../shared/names';
import { readLease } from '../shared/lease';
import { readProduction, readVersion, updateVersion, type VersionRecord } from '../shared/registry';
import { putBody, putJson } from '../shared/s3json';
import { renderShadowReportHtml } from '../ml/shadow-html';
import { removeCandidate } from '../ab-test/endpoint';
import { addShadow, describeEndpoint, removeShadow, SHADOW_VARIANT, variantGone, type ShadowPlacement } from './endpoint';
import { readShadowPairs, type ShadowPairs } from './pairs';
import { readVariantMetrics, type VariantMetrics } from './variant-metrics';

export interface ShadowTestDeps {
  s3: S3Client;
  sagemaker: SageMakerClient;
  /** GetMetricData: latency and error rate per variant (best effort, see variant-metrics.ts). */
  cloudwatch: CloudWatchClient;
  bucket: string;
  now: () => Date;
}

export interface ShadowTestInput {
  model: string;
  version: string;
  executionId: string;
  executionName: string;
}

/** StartShadowTest's result; `placement` and `startedAt` are null when the stage is skipped. */
export interface StartResult {
  status: 'running' | 'skipped';
  reason: string;
  placement: ShadowPlacement | null;
  startedAt: string | null;
  /** How long the release waits between two checks. */
  pollSeconds: number;
}

/** Each check lists and reads every capture file of the window: not more often than this. */
export const MIN_SHADOW_POLL_SECONDS = 15;

/** CheckShadowTest's result: `collecting` until enough requests or the maximum duration, then `done`. */
export interface CheckResult {
  status: 'collecting' | 'done';
  verdict: 'pass' | 'fail' | 'insufficient-data' | null;
  /** Whether the release goes on to the approval: a pass, or insufficient-data the manifest sends to the approver. */
  proceed: boolean;
  requests: number;
  reason: string;
  reportUri: string | null;
}

async function skip(deps: ShadowTestDeps, input: ShadowTestInput, reason: string): Promise<StartResult> {
  await recordShadow(deps, input, { verdict: 'skipped', reasons: [reason], requests: 0, reportUri: null });
  return { status: 'skipped', reason, placement: null, startedAt: null, pollSeconds: 0 };
}

async function recordShadow(deps: ShadowTestDeps, input: ShadowTestInput, shadow: NonNullable<VersionRecord['shadow']>): Promise<void> {
  await updateVersion(deps, input.model, input.version, (r) => ({ ...r, shadow }), deps.now);
}

/**
 * Put the candidate beside production as a shadow variant, or say why the stage is skipped: no
 * `experiment.shadow` in the manifest, or no production to compare with (a first release).
 */
export async function startShadowTest(deps: ShadowTestDeps, input: ShadowTestInput & { pollSeconds: number }): Promise<StartResult> {
  const { value: record } = await readVersion(deps, input.model, input.version);
  const settings = record.manifest.experiment?.shadow;
  if (!settings) return skip(deps, input, 'no shadow test: experiment.shadow is not set in the manifest');
  const production = await readProduction(deps, input.model);
  if (!production) return skip(deps, input, 'first release: there is no production version to compare the candidate with');
  const name = endpointName(input.model, 'production');
  const ep = await describeEndpoint(deps, name);
  if (!ep) return skip(deps, input, `the production endpoint ${name} does not exist, so there is no live traffic to shadow`);
  const shadowConfig = shadowConfigName(input.model, input.version);
  const running = {
    status: 'running' as const,
    reason: `shadowing ${settings.samplingPercent} % of ${name}'s requests (production ${production.value.version})`,
    startedAt: deps.now().toISOString(),
    pollSeconds: Math.max(input.pollSeconds, MIN_SHADOW_POLL_SECONDS),
  };
  // A retried start finds the update its first attempt made: carry on from it.
  if (ep.EndpointConfigName === shadowConfig || ep.PendingDeploymentSummary?.EndpointConfigName === shadowConfig) {
    const productionConfigName = endpointConfigName(input.model, production.value.version, 'production');
    return {
      ...running,
      placement: { endpointName: name, productionConfigName, shadowConfigName: shadowConfig, productionVariant: VARIANT_NAME },
    };
  }
  if (ep.EndpointStatus === 'Failed')
    return skip(
      deps,
      input,
      `the production endpoint ${name} is Failed (${ep.FailureReason ?? 'no reason given'}), so there is no live traffic to shadow`,
    );
  if (ep.EndpointStatus !== 'InService')
    throw new EndpointBusyError(`${name} is ${ep.EndpointStatus}; the shadow variant is added once it settles`);
  // The production version's own config, not whatever the endpoint serves: a release stopped
  // during its shadow stage (superseded: StopExecution runs no state) leaves its shadow config in
  // service, and this stage must neither copy it nor go back to it.
  const placement = await addShadow(deps, {
    endpointName: name,
    currentConfigName: endpointConfigName(input.model, production.value.version, 'production'),
    shadowConfigName: shadowConfig,
    modelName: sagemakerModelName(input.model, input.version),
    instanceType: record.manifest.serve.instanceType,
    samplingPercent: settings.samplingPercent,
  });
  return { ...running, placement };
}

/** The comparison of the pairs collected so far, and the verdict against the bounds. */
function judge(settings: ShadowExperiment, record: VersionRecord, pairs: ShadowPairs, variants: VariantMetrics) {
  const n = pairs.production.length;
  const agreement: Agreement | null =
    n === 0
      ? null
      : pairs.task === 'regression'
        ? compareRegression(pairs.production as number[], pairs.shadow as number[])
        : compareClassification(pairs.production.map(String), pairs.shadow.map(String));
  const metric = Object.keys(record.manifest.evaluation.metrics)[0]!;
  let bootstrap: PairedBootstrapResult | null = null;
  if (pairs.labelled.length >= settings.minLabels) {
    bootstrap = pairedBootstrap({
      task: pairs.task,
      metric,
      labels: pairs.labelled.map((l) => l.label),
      production: pairs.labelled.map((l) => pairs.production[l.index]!),
      shadow: pairs.labelled.map((l) => pairs.shadow[l.index]!),
      resamples: settings.bootstrap,
      seed: 42,
    });
  }
  const direction =
    record.manifest.evaluation.metrics[metric]?.direction ?? METRIC_DIRECTIONS[metric as keyof typeof METRIC_DIRECTIONS] ?? 'higher';
  const verdict = shadowVerdict({
    agreement,
    bootstrap,
    minRequests: settings.minRequests,
    bounds: settings.bounds,
    metricDirection: direction,
    traffic: trafficSummary(variants),
  });
  return { agreement, bootstrap, verdict, metric };
}

/** Production's (the first) and the shadow's (the second) latency and error rate, as the verdict takes them. */
function trafficSummary(m: VariantMetrics): VariantTrafficSummary {
  if (!m.available) return m;
  const [production, shadow] = m.variants;
  return { available: true, production: production!, shadow: shadow! };
}

/**
 * Count the requests both variants answered since the start; once there are enough (or the
 * maximum duration has passed) compare them, write `reports/<model>/<version>/shadow.json`,
 * record the verdict on the version and take the shadow variant off the endpoint.
 */
export async function checkShadowTest(
  deps: ShadowTestDeps,
  input: ShadowTestInput & { placement: ShadowPlacement; startedAt: string },
): Promise<CheckResult> {
  const { value: record } = await readVersion(deps, input.model, input.version);
  const settings = record.manifest.experiment.shadow!;
  const from = Date.parse(input.startedAt);
  const now = deps.now().getTime();
  const pairs = await readShadowPairs(deps, {
    model: input.model,
    endpointName: input.placement.endpointName,
    productionVariant: input.placement.productionVariant,
    shadowVariant: SHADOW_VARIANT,
    task: record.manifest.task,
    from,
    to: now,
  });
  const n = pairs.production.length;
  const elapsed = (now - from) / 1000;
  const gone =
    n < settings.minRequests && elapsed < settings.maxDuration
      ? await variantGone(deps, input.placement.endpointName, input.placement.shadowConfigName, 'the shadow variant')
      : undefined;
  if (n < settings.minRequests && elapsed < settings.maxDuration && gone === undefined)
    return {
      status: 'collecting',
      verdict: null,
      proceed: false,
      requests: n,
      reason: `${n} of ${settings.minRequests} requests after ${Math.round(elapsed)} s`,
      reportUri: null,
    };

  // Read once the stage is ending, not on every poll: the window is complete then.
  const variants = await readVariantMetrics(deps.cloudwatch, {
    endpointName: input.placement.endpointName,
    variants: [input.placement.productionVariant, SHADOW_VARIANT],
    from,
    to: now,
  });
  const { agreement, bootstrap, verdict, metric } = judge(settings, record, pairs, variants);
  if (gone) verdict.reasons.push(gone);
  const reportKey = keys.report(input.model, input.version, 'shadow.json');
  const report = {
    model: input.model,
    version: input.version,
    production: input.placement.productionConfigName,
    startedAt: input.startedAt,
    endedAt: new Date(now).toISOString(),
    samplingPercent: settings.samplingPercent,
    requests: n,
    labelled: pairs.labelled.length,
    skippedLines: pairs.skippedLines,
    agreement,
    metric: bootstrap ?? {
      metric,
      reason: `${pairs.labelled.length} labelled requests, fewer than experiment.shadow.minLabels ${settings.minLabels}`,
    },
    variants,
    bounds: settings.bounds,
    ...verdict,
  };
  await putJson(deps.s3, deps.bucket, reportKey, report);
  const htmlKey = keys.report(input.model, input.version, 'shadow.html');
  await putBody(deps.s3, deps.bucket, htmlKey, renderShadowReportHtml(report), 'text/html; charset=utf-8');
  const reportUri = s3Uri(deps.bucket, reportKey);
  await recordShadow(deps, input, { verdict: verdict.verdict, reasons: verdict.reasons, requests: n, reportUri });
  await removeShadow(deps, input.placement);
  // Done only once production is back on its own config, so that the approval (and the
  // production deployment after it) never meets the endpoint mid-update; until then the next
  // check judges the same pairs again and finds the removal under way.
  const ep = await describeEndpoint(deps, input.placement.endpointName);
  if (ep && (ep.EndpointStatus !== 'InService' || ep.EndpointConfigName === input.placement.shadowConfigName))
    return {
      status: 'collecting',
      verdict: null,
      proceed: false,
      requests: n,
      reason: `${verdict.verdict}; taking the shadow variant off`,
      reportUri,
    };
  const proceed = verdict.verdict === 'pass' || (verdict.verdict === 'insufficient-data' && settings.insufficientData === 'ask-approver');
  return { status: 'done', verdict: verdict.verdict, proceed, requests: n, reason: verdict.reasons.join('; '), reportUri };
}

/** Where this release's shadow would be on the production endpoint, from the names alone. */
function placementOf(input: ShadowTestInput, productionVersion: string): ShadowPlacement {
  return {
    endpointName: endpointName(input.model, 'production'),
    productionConfigName: endpointConfigName(input.model, productionVersion, 'production'),
    shadowConfigName: shadowConfigName(input.model, input.version),
    productionVariant: VARIANT_NAME,
  };
}

/**
 * Take this release's shadow variant off the production endpoint, whatever path the release
 * ends on (the state RemoveShadowVariant, which every ending passes): where it is is known from
 * the names alone, so an error before StartShadowTest returned still finds it.
 */
export async function stopShadowTest(
  deps: ShadowTestDeps,
  input: ShadowTestInput,
): Promise<{ action: 'removed' | 'absent'; detail: string }> {
  const production = await readProduction(deps, input.model);
  if (!production) return { action: 'absent', detail: 'no production endpoint, so no shadow variant' };
  const placement = placementOf(input, production.value.version);
  const action = await removeShadow(deps, placement);
  if (action === 'removed') return { action, detail: `${placement.endpointName} goes back to ${placement.productionConfigName}` };
  const cleared = await clearLeftoverExperiment(deps, input);
  if (cleared.action === 'removed') return cleared;
  return { action, detail: `${placement.endpointName} has no shadow variant of this release` };
}

/**
 * ClearLeftoverExperiment, right after this release takes the model's lease (and again at its
 * end): take another release's experiment off production, its shadow variant (`-x` config) or
 * its A/B candidate (`-a` config). That release was stopped in its shadow stage or its A/B test
 * (superseded, a StopExecution by hand, an execution timeout: none of them runs a state of the
 * release) and only the lease holder may touch production. Done at once rather than when this
 * release reaches a stage of its own, which a failed build, a failed gate or a manifest without
 * `experiment` never reaches.
 * @throws EndpointBusyError while the endpoint is mid-update (the state machine retries)
 */
export async function clearLeftoverExperiment(
  deps: ShadowTestDeps,
  input: ShadowTestInput,
): Promise<{ action: 'removed' | 'absent'; detail: string }> {
  const production = await readProduction(deps, input.model);
  if (!production) return { action: 'absent', detail: 'no production endpoint, so no experiment on it' };
  const placement = placementOf(input, production.value.version);
  const leftover = await leftoverExperiment(deps, input, placement);
  if (!leftover) return { action: 'absent', detail: `${placement.endpointName} has no experiment of another release` };
  // An A/B config changes the variant names, so it goes back by SageMaker's default update (ab-test/endpoint.ts says why).
  const action = leftover.endsWith('-a')
    ? await removeCandidate(deps, { ...placement, abConfigName: leftover })
    : await removeShadow(deps, { ...placement, shadowConfigName: leftover });
  if (action === 'absent') return { action, detail: `${placement.endpointName} has no experiment of another release` };
  const what = leftover.endsWith('-a') ? 'the A/B candidate' : 'the shadow';
  return {
    action,
    detail: `${placement.endpointName} goes back to ${placement.productionConfigName} from ${leftover}, ${what} of a stopped release`,
  };
}

/**
 * Another release's shadow or A/B config in service on production (or on its way there), when
 * this release holds the model's lease: only one release of a model runs at a time, so that
 * release was stopped during its experiment. Without the lease, nothing is ours to touch.
 */
async function leftoverExperiment(deps: ShadowTestDeps, input: ShadowTestInput, p: ShadowPlacement): Promise<string | undefined> {
  const ep = await describeEndpoint(deps, p.endpointName);
  const config = ep?.PendingDeploymentSummary?.EndpointConfigName ?? ep?.EndpointConfigName ?? '';
  const version = '[0-9a-z]{7}-[0-9a-f]{4}';
  const experiment = new RegExp(`^(${shadowConfigName(input.model, version)}|${abConfigName(input.model, version)})$`);
  if (!experiment.test(config) || config === p.shadowConfigName || config === abConfigName(input.model, input.version)) return undefined;
  const holder = (await readLease(deps, input.model))?.value.holder;
  return holder?.executionArn === input.executionId ? config : undefined;
}
