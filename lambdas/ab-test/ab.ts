import type { S3Client } from '@aws-sdk/client-s3';
import type { SageMakerClient } from '@aws-sdk/client-sagemaker';
import type { QualityReport } from '../ml';
import { abVerdict, type AbPlan } from '../ml/abtest';
import { EndpointBusyError } from '../shared/errors';
import { abConfigName, endpointConfigName, endpointName, keys, s3Uri, sagemakerModelName, VARIANT_NAME } from '../shared/names';
import { readProduction, readVersion, updateVersion, type VersionRecord } from '../shared/registry';
import { getJson, putJson } from '../shared/s3json';
import { describeEndpoint, variantGone } from '../shadow-test/endpoint';
import { readArmLosses } from './arms';
import { addCandidate, CANDIDATE_VARIANT, removeCandidate, type AbPlacement } from './endpoint';

export interface AbTestDeps {
  s3: S3Client;
  sagemaker: SageMakerClient;
  bucket: string;
  now: () => Date;
}

export interface AbTestInput {
  model: string;
  version: string;
  executionId: string;
  executionName: string;
}

/** StartAbTest's result; `placement`, `startedAt` and `plan` are null when the test is skipped. */
export interface StartResult {
  status: 'running' | 'skipped';
  reason: string;
  placement: AbPlacement | null;
  startedAt: string | null;
  pollSeconds: number;
}

/** CheckAbTest's result: `collecting` until each arm has the planned n (or maxDuration has passed), then `done`. */
export interface CheckResult {
  status: 'collecting' | 'done';
  verdict: 'pass' | 'fail' | 'insufficient-data' | null;
  /** Whether the release goes on to DeployProduction: a pass, or a timeout with onTimeout promote. */
  proceed: boolean;
  labelled: { production: number; candidate: number };
  reason: string;
  reportUri: string | null;
}

/** Each check lists and reads every capture and ground-truth file of the window: not more often than this. */
export const MIN_AB_POLL_SECONDS = 15;

type AbRecord = NonNullable<VersionRecord['ab']>;

async function recordAb(deps: AbTestDeps, input: AbTestInput, ab: AbRecord): Promise<void> {
  await updateVersion(deps, input.model, input.version, (r) => ({ ...r, ab }), deps.now);
}

async function skip(deps: AbTestDeps, input: AbTestInput, reason: string): Promise<StartResult> {
  await recordAb(deps, input, { verdict: 'skipped', reasons: [reason], plan: null, startedAt: null, reportUri: null });
  return { status: 'skipped', reason, placement: null, startedAt: null, pollSeconds: 0 };
}

/**
 * The plan EvaluateModel made in the candidate's quality report, which the approver saw on the
 * approval page: the test runs exactly that one (or the string says why there is none).
 */
async function planOf(deps: AbTestDeps, input: AbTestInput): Promise<AbPlan | string> {
  const key = keys.report(input.model, input.version, 'quality-report.json');
  const report = (await getJson<QualityReport>(deps.s3, deps.bucket, key))?.value;
  if (!report?.ab) return `${s3Uri(deps.bucket, key)} has no A/B plan (experiment.ab was added after the evaluation?)`;
  return report.ab.plan ?? `${s3Uri(deps.bucket, key)}: ${report.ab.reason}`;
}

/**
 * Plan the test, write the plan to the version record, then give the candidate its share of
 * production's traffic; or say why the test is skipped (no `experiment.ab`, a first release, no
 * production endpoint in service).
 */
export async function startAbTest(deps: AbTestDeps, input: AbTestInput & { pollSeconds: number }): Promise<StartResult> {
  const { value: record } = await readVersion(deps, input.model, input.version);
  const settings = record.manifest.experiment?.ab;
  if (!settings) return skip(deps, input, 'no A/B test: experiment.ab is not set in the manifest');
  const production = await readProduction(deps, input.model);
  if (!production) return skip(deps, input, 'first release: there is no production version to test the candidate against');
  const name = endpointName(input.model, 'production');
  const ep = await describeEndpoint(deps, name);
  if (!ep) return skip(deps, input, `the production endpoint ${name} does not exist, so there is no live traffic to split`);
  const productionConfigName = endpointConfigName(input.model, production.value.version, 'production');
  const config = abConfigName(input.model, input.version);
  const pollSeconds = Math.max(input.pollSeconds, MIN_AB_POLL_SECONDS);
  const reason = `${settings.trafficPercent} % of ${name}'s requests to the candidate (production ${production.value.version})`;
  // A retried start finds the update its first attempt made: carry on from it (the plan is on the record already).
  if (ep.EndpointConfigName === config || ep.PendingDeploymentSummary?.EndpointConfigName === config)
    return {
      status: 'running',
      reason,
      placement: { endpointName: name, productionConfigName, abConfigName: config, productionVariant: VARIANT_NAME },
      startedAt: record.ab?.startedAt ?? deps.now().toISOString(),
      pollSeconds,
    };
  if (ep.EndpointStatus === 'Failed')
    return skip(
      deps,
      input,
      `the production endpoint ${name} is Failed (${ep.FailureReason ?? 'no reason given'}), so there is no live traffic to split`,
    );
  if (ep.EndpointStatus !== 'InService')
    throw new EndpointBusyError(`${name} is ${ep.EndpointStatus}; the candidate variant is added once it settles`);
  const plan = await planOf(deps, input);
  if (typeof plan === 'string') throw new Error(`A/B test: ${plan}`);
  const startedAt = deps.now().toISOString();
  // Pre-registered: the plan is on the record before a single request reaches the candidate.
  await recordAb(deps, input, { verdict: 'running', reasons: [reason], plan, startedAt, reportUri: null });
  const placement = await addCandidate(deps, {
    endpointName: name,
    productionConfigName,
    abConfigName: config,
    modelName: sagemakerModelName(input.model, input.version),
    instanceType: record.manifest.serve.instanceType,
    trafficPercent: settings.trafficPercent,
  });
  return { status: 'running', reason, placement, startedAt, pollSeconds };
}

/**
 * Count each arm's labelled requests since the start; once both have the plan's n, run the test
 * once on each arm's first n (no peeking: the counts are looked at, never the difference), or
 * at maxDuration give insufficient-data. Then write `reports/<model>/<version>/ab.json`, record
 * the verdict and take the candidate variant off the endpoint.
 */
export async function checkAbTest(
  deps: AbTestDeps,
  input: AbTestInput & { placement: AbPlacement; startedAt: string },
): Promise<CheckResult> {
  const { value: record } = await readVersion(deps, input.model, input.version);
  const settings = record.manifest.experiment.ab!;
  const plan = record.ab?.plan;
  if (!plan) throw new Error(`registry/${input.model}/versions/${input.version}.json has no A/B plan; StartAbTest writes it`);
  // Decided by an earlier check (which asked for the removal): only wait for production's config,
  // never judge again (the data is the same, but the endpoint is not: it no longer has the candidate).
  const decided = record.ab?.verdict;
  if (decided === 'pass' || decided === 'fail' || decided === 'insufficient-data') {
    const report = await getJson<{ labelled?: CheckResult['labelled'] }>(
      deps.s3,
      deps.bucket,
      keys.report(input.model, input.version, 'ab.json'),
    );
    const labelled = report?.value.labelled ?? { production: 0, candidate: 0 };
    return finish(deps, input, settings, {
      verdict: decided,
      reason: record.ab!.reasons.join('; '),
      reportUri: record.ab!.reportUri,
      labelled,
    });
  }
  const from = Date.parse(input.startedAt);
  const now = deps.now().getTime();
  const arms = await readArmLosses(deps, {
    model: input.model,
    endpointName: input.placement.endpointName,
    productionVariant: input.placement.productionVariant,
    candidateVariant: CANDIDATE_VARIANT,
    metric: plan.metric,
    from,
    to: now,
  });
  const labelled = { production: arms.production.length, candidate: arms.candidate.length };
  const n = plan.nPerArm;
  const elapsed = (now - from) / 1000;
  const reached = labelled.production >= n && labelled.candidate >= n;
  // A candidate that cannot serve fails at once: waiting out maxDuration would only delay that, and onTimeout promote would promote it.
  const gone = reached
    ? undefined
    : await variantGone(deps, input.placement.endpointName, input.placement.abConfigName, 'the candidate variant');
  if (!reached && elapsed < settings.maxDuration && gone === undefined)
    return {
      status: 'collecting',
      verdict: null,
      proceed: false,
      labelled,
      reason: `${labelled.production} / ${labelled.candidate} of ${n} labelled requests per arm (production / candidate) after ${Math.round(elapsed)} s`,
      reportUri: null,
    };
  const outcome = reached
    ? abVerdict(plan, arms.production.slice(0, n), arms.candidate.slice(0, n))
    : gone
      ? { verdict: 'fail' as const, reason: gone, test: null }
      : {
          verdict: 'insufficient-data' as const,
          reason: `${labelled.production} / ${labelled.candidate} labelled requests (production / candidate) after ${Math.round(elapsed)} s, fewer than the ${n} per arm the plan needs within experiment.ab.maxDuration ${settings.maxDuration} s; experiment.ab.onTimeout is ${settings.onTimeout}`,
          test: null,
        };
  const reportKey = keys.report(input.model, input.version, 'ab.json');
  await putJson(deps.s3, deps.bucket, reportKey, {
    model: input.model,
    version: input.version,
    production: input.placement.productionConfigName,
    startedAt: input.startedAt,
    endedAt: new Date(now).toISOString(),
    trafficPercent: settings.trafficPercent,
    plan,
    requests: arms.requests,
    labelled,
    skippedLines: arms.skippedLines,
    verdict: outcome.verdict,
    reason: outcome.reason,
    test: outcome.test,
  });
  const reportUri = s3Uri(deps.bucket, reportKey);
  await recordAb(deps, input, { verdict: outcome.verdict, reasons: [outcome.reason], plan, startedAt: input.startedAt, reportUri });
  return finish(deps, input, settings, { verdict: outcome.verdict, reason: outcome.reason, reportUri, labelled });
}

/**
 * Take the candidate off and report done only once production is back on its own config, so the
 * production deployment (or the end of the release) never meets the endpoint mid-update; until
 * then the next check (which keeps the recorded verdict) finds the removal under way.
 */
async function finish(
  deps: AbTestDeps,
  input: AbTestInput & { placement: AbPlacement },
  settings: { onTimeout: 'rollback' | 'promote' },
  d: { verdict: 'pass' | 'fail' | 'insufficient-data'; reason: string; reportUri: string | null; labelled: CheckResult['labelled'] },
): Promise<CheckResult> {
  await removeCandidate(deps, input.placement);
  const ep = await describeEndpoint(deps, input.placement.endpointName);
  if (ep && (ep.EndpointStatus !== 'InService' || ep.EndpointConfigName === input.placement.abConfigName))
    return {
      status: 'collecting',
      verdict: null,
      proceed: false,
      labelled: d.labelled,
      reason: `${d.verdict}; taking the candidate variant off`,
      reportUri: d.reportUri,
    };
  const proceed = d.verdict === 'pass' || (d.verdict === 'insufficient-data' && settings.onTimeout === 'promote');
  return { status: 'done', verdict: d.verdict, proceed, labelled: d.labelled, reason: d.reason, reportUri: d.reportUri };
}

/**
 * Take this release's candidate variant off the production endpoint, whatever path the release
 * ends on (the state RemoveAbVariant): where it is is known from the names alone, so an error
 * before StartAbTest returned still finds it.
 */
export async function stopAbTest(deps: AbTestDeps, input: AbTestInput): Promise<{ action: 'removed' | 'absent'; detail: string }> {
  const production = await readProduction(deps, input.model);
  if (!production) return { action: 'absent', detail: 'no production endpoint, so no candidate variant' };
  const placement: AbPlacement = {
    endpointName: endpointName(input.model, 'production'),
    productionConfigName: endpointConfigName(input.model, production.value.version, 'production'),
    abConfigName: abConfigName(input.model, input.version),
    productionVariant: VARIANT_NAME,
  };
  const action = await removeCandidate(deps, placement);
  return {
    action,
    detail:
      action === 'removed'
        ? `${placement.endpointName} goes back to ${placement.productionConfigName}`
        : `${placement.endpointName} has no candidate variant of this release`,
  };
}
