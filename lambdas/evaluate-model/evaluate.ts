import type { S3Client } from '@aws-sdk/client-s3';
import type { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import {
  computeBaseline,
  csvRecords,
  detectDataDrift,
  parseCsv,
  renderQualityReportHtml,
  toColumns,
  type DriftReport,
  type QualityReport,
} from '../ml';
import { planFromReport } from '../ml/abtest';
import type { ModelManifest } from '../../lib/config';
import { readBundleFile, readBundleParams, sha256Hex, type BundleParams } from '../shared/bundle';
import { logger } from '../shared/logger';
import { InvalidDataError, SourceNotFoundError } from '../shared/errors';
import { instancesFromCsv, invokeBatch, type Instance } from '../shared/inference';
import { endpointLogLocation, endpointName, EVALUATION_INFERENCE_PREFIX, keys, s3Uri } from '../shared/names';
import { mapConcurrent } from '../shared/pool';
import { readProductionVersion, readVersion, updateVersion, type VersionRecord } from '../shared/registry';
import { putBody, putJson } from '../shared/s3json';
import { judge, scoredOf, type ExtraDataset, type Judgement, type ProductionBasis, type Scored } from './judge';

export interface EvaluateDeps {
  s3: S3Client;
  runtime: SageMakerRuntimeClient;
  bucket: string;
  /** Instances per InvokeEndpoint request. @default 50 */
  batchSize?: number;
  /** Requests in flight. @default 4 */
  concurrency?: number;
  /** Where an endpoint's model-server log is, `{endpoint}` for its name. @default CloudWatch's /aws/sagemaker/Endpoints/<name> */
  endpointLogTemplate?: string;
  now: () => Date;
}

export interface EvaluateInput {
  model: string;
  version: string;
  executionId: string;
  endpointName: string;
}

export interface EvaluateResult {
  validationOk: boolean;
  metrics: Record<string, number>;
  /** One message per failed gate check. */
  failures: string[];
  /** The quality report (HTML). */
  reportUri: string;
  validationUri: string;
}

/**
 * Champion/challenger: production is scored on the candidate's own holdout, so a model
 * retrained on drifted data is compared with production on the same (drifted) rows, not
 * with figures production once earned on an older holdout. When production cannot be
 * reached, its recorded metrics stand in, and the basis says which was used.
 */
async function productionOnSameHoldout(
  input: EvaluateInput,
  production: Awaited<ReturnType<typeof readProductionVersion>>,
  scoreOn: (endpoint: string, inferenceIdSuffix: string) => Promise<Scored>,
): Promise<ProductionBasis | undefined> {
  const recorded = production?.record.evaluation?.metrics;
  if (!production) return undefined;
  const version = production.pointer.version;
  try {
    return { version, outputs: await scoreOn(endpointName(input.model, 'production'), '-production'), basis: 'same-holdout' };
  } catch (err) {
    if (!recorded) throw err;
    return { version, metrics: recorded, basis: 'recorded' };
  }
}

/** The version under evaluation and its bundle's data. */
interface EvaluationData {
  record: VersionRecord;
  holdoutFile: { text: string; uri: string };
  trainFile: { text: string; uri: string };
  holdout: ReturnType<typeof parseCsv>;
  train: ReturnType<typeof parseCsv>;
  /** The build's params.json, when it left one. */
  params: BundleParams | undefined;
}

/** The candidate's answers on its holdout, and production's basis to compare with. */
interface HoldoutScores {
  candidate: Scored;
  production: Awaited<ReturnType<typeof readProductionVersion>>;
  productionBasis: ProductionBasis | undefined;
}

const reportKey = (input: EvaluateInput, file: string) => keys.report(input.model, input.version, file);

async function readEvaluationData(deps: EvaluateDeps, input: EvaluateInput): Promise<EvaluationData> {
  const { value: record } = await readVersion(deps, input.model, input.version);
  const holdoutFile = await readBundleFile(deps, record, 'data/holdout.csv');
  const trainFile = await readBundleFile(deps, record, 'data/train.csv');
  const holdout = parseCsv(holdoutFile.text, holdoutFile.uri);
  const train = parseCsv(trainFile.text, trainFile.uri);
  if (holdout.rows.length === 0) throw new InvalidDataError(`${holdoutFile.uri} has no rows`);
  // Lineage only: a params.json that is not hyperparameters is logged, never a failed release.
  const params = await readBundleParams(deps, record, (message) => logger.warn('hyperparameters not recorded', { message }));
  return { record, holdoutFile, trainFile, holdout, train, params };
}

/**
 * The manifest's extra evaluation datasets through the same two endpoints. Production is scored
 * only where it was scored on the holdout; its requests are tagged like the holdout's
 * (`-d<index>`: InferenceId is at most 64 characters).
 */
async function scoreExtraDatasets(deps: EvaluateDeps, input: EvaluateInput, d: EvaluationData, s: HoldoutScores): Promise<ExtraDataset[]> {
  const m = d.record.manifest;
  const out: ExtraDataset[] = [];
  for (const [i, ds] of m.evaluation.datasets.entries()) {
    const file = await readBundleFile(deps, d.record, ds.path);
    const csv = parseCsv(file.text, file.uri);
    if (csv.rows.length === 0) throw new InvalidDataError(`${file.uri} (evaluation.datasets "${ds.name}") has no rows`);
    const instances = instancesFromCsv(csv, m.features, file.uri);
    const tag = `${EVALUATION_INFERENCE_PREFIX}${input.version}-d${i}`;
    const candidate = await scoreHoldout(deps, input.endpointName, instances, m.task, tag);
    const production =
      s.productionBasis?.basis === 'same-holdout'
        ? await scoreHoldout(deps, endpointName(input.model, 'production'), instances, m.task, `${tag}-production`)
        : undefined;
    out.push({ name: ds.name, csv, uri: file.uri, candidate, production });
  }
  return out;
}

/** The holdout through the staging endpoint (the candidate) and through production. */
async function scoreCandidateAndProduction(deps: EvaluateDeps, input: EvaluateInput, d: EvaluationData): Promise<HoldoutScores> {
  const m = d.record.manifest;
  const instances = instancesFromCsv(d.holdout, m.features, d.holdoutFile.uri);
  const candidate = await scoreHoldout(deps, input.endpointName, instances, m.task, `${EVALUATION_INFERENCE_PREFIX}${input.version}`);
  const production = await readProductionVersion(deps, input.model);
  const productionBasis = await productionOnSameHoldout(input, production, (endpoint, suffix) =>
    scoreHoldout(deps, endpoint, instances, m.task, `${EVALUATION_INFERENCE_PREFIX}${input.version}${suffix}`),
  );
  return { candidate, production, productionBasis };
}

async function qualityReport(
  deps: EvaluateDeps,
  input: EvaluateInput,
  run: { data: EvaluationData; scores: HoldoutScores; judged: Judgement },
): Promise<QualityReport> {
  const { record, train, trainFile, holdoutFile } = run.data;
  const { production } = run.scores;
  const trainingDrift = await driftAgainstProduction(deps, record, train, production?.record);
  return {
    model: input.model,
    version: input.version,
    task: record.manifest.task,
    generatedAt: deps.now().toISOString(),
    validation: run.judged.validation,
    evaluation: run.judged.evaluation,
    production: run.judged.production,
    lossSpread: run.judged.lossSpread,
    ab: abPlanOf(record.manifest, run.judged),
    gates: record.manifest.evaluation.metrics,
    trainingDrift,
    slices: run.judged.slices,
    lineage: {
      commit: record.commitId,
      imageDigest: record.build?.imageDigest ?? undefined,
      dataDigests: { 'data/train.csv': sha256Hex(trainFile.text), 'data/holdout.csv': sha256Hex(holdoutFile.text) },
      trigger: record.trigger,
      executionArn: input.executionId,
    },
  };
}

/** The A/B test's pre-registered plan, from the figures this report holds (lambdas/ml/abtest.ts planFromReport). */
function abPlanOf(m: ModelManifest, judged: Judgement): QualityReport['ab'] {
  const ab = m.experiment.ab;
  if (!ab) return undefined;
  const plan = planFromReport({
    settings: ab,
    report: { evaluation: judged.evaluation, production: judged.production, lossSpread: judged.lossSpread },
  });
  const common = { trafficPercent: ab.trafficPercent, maxDuration: ab.maxDuration, onTimeout: ab.onTimeout };
  return typeof plan === 'string' ? { ...common, plan: null, reason: plan } : { ...common, plan, reason: null };
}

async function writeReports(
  deps: EvaluateDeps,
  input: EvaluateInput,
  report: QualityReport,
  baseline: ReturnType<typeof computeBaseline>,
): Promise<void> {
  const key = (file: string) => reportKey(input, file);
  await putJson(deps.s3, deps.bucket, key('validation.json'), report.validation);
  await putJson(deps.s3, deps.bucket, key('quality-report.json'), report);
  await putBody(deps.s3, deps.bucket, key('quality-report.html'), renderQualityReportHtml(report), 'text/html; charset=utf-8');
  await putJson(deps.s3, deps.bucket, key('baseline/statistics.json'), baseline.statistics);
  await putJson(deps.s3, deps.bucket, key('baseline/constraints.json'), baseline.constraints);
}

function resultOf(deps: EvaluateDeps, input: EvaluateInput, report: QualityReport): EvaluateResult {
  return {
    validationOk: report.validation.validation_ok,
    metrics: report.evaluation.metrics,
    failures: report.validation.failures.map((f) => f.message),
    reportUri: s3Uri(deps.bucket, reportKey(input, 'quality-report.html')),
    validationUri: s3Uri(deps.bucket, reportKey(input, 'validation.json')),
  };
}

/** The registry's record of the version: evaluated, with its training data and where its reports are. */
async function recordEvaluation(deps: EvaluateDeps, input: EvaluateInput, d: EvaluationData, result: EvaluateResult): Promise<void> {
  await updateVersion(
    deps,
    input.model,
    input.version,
    (r) => ({
      ...r,
      status: 'evaluated',
      training: { dataUri: d.trainFile.uri, sha256: sha256Hex(d.trainFile.text), rows: d.train.rows.length },
      hyperparameters: d.params ?? null,
      evaluation: {
        validationOk: result.validationOk,
        metrics: result.metrics,
        failures: result.failures,
        reportUri: s3Uri(deps.bucket, reportKey(input, 'quality-report.json')),
        validationUri: result.validationUri,
        htmlUri: result.reportUri,
      },
    }),
    deps.now,
  );
}

/**
 * Score the bundle's holdout through the staging endpoint, compute the metrics (bootstrap
 * std, dummy baseline), gate them against the manifest and the production version, and
 * write validation.json, the quality report (JSON + HTML) and the training data's baseline
 * under `reports/<model>/<version>/`. The statistics are lambdas/ml's; this only moves data.
 */
export async function evaluate(deps: EvaluateDeps, input: EvaluateInput): Promise<EvaluateResult> {
  const data = await readEvaluationData(deps, input);
  const scores = await scoreCandidateAndProduction(deps, input, data);
  const judged = judge(
    data.record.manifest,
    { holdout: data.holdout, holdoutUri: data.holdoutFile.uri, train: data.train, trainUri: data.trainFile.uri },
    scores.candidate,
    scores.productionBasis,
    await scoreExtraDatasets(deps, input, data, scores),
  );
  const baseline = computeBaseline(csvRecords(data.train), data.record.manifest.features);
  const report = await qualityReport(deps, input, { data, scores, judged });
  await writeReports(deps, input, report, baseline);
  const result = resultOf(deps, input, report);
  await recordEvaluation(deps, input, data, result);
  return result;
}

/**
 * The holdout through one endpoint, in batches with bounded concurrency. Requests carry an
 * InferenceId under EVALUATION_INFERENCE_PREFIX so the drift check can tell evaluation
 * traffic from live traffic in the endpoint's data capture.
 */
async function scoreHoldout(deps: EvaluateDeps, endpoint: string, instances: Instance[], task: string, tag: string): Promise<Scored> {
  const batchSize = deps.batchSize ?? 50;
  const batches: { start: number; rows: Instance[] }[] = [];
  for (let i = 0; i < instances.length; i += batchSize) batches.push({ start: i, rows: instances.slice(i, i + batchSize) });
  const logTemplate = deps.endpointLogTemplate;
  const answered = (
    await mapConcurrent(batches, deps.concurrency ?? 4, (b) =>
      invokeBatch(deps.runtime, endpoint, b.rows, { inferenceId: `${tag}-${b.start}`, logTemplate }),
    )
  ).flat();
  return scoredOf(answered, task, endpoint, endpointLogLocation(endpoint, logTemplate));
}

/** Drift of this version's training data against production's; absent for the first version. */
async function driftAgainstProduction(
  deps: EvaluateDeps,
  record: VersionRecord,
  train: ReturnType<typeof parseCsv>,
  production: VersionRecord | undefined,
): Promise<DriftReport | undefined> {
  if (!production?.build?.artifactsUri) return undefined;
  let reference;
  try {
    reference = parseCsv((await readBundleFile(deps, production, 'data/train.csv')).text);
  } catch (err) {
    // Production's bundle may have been cleaned up; the comparison is informative only.
    if (err instanceof SourceNotFoundError) return undefined;
    throw err;
  }
  const m = record.manifest;
  return detectDataDrift({
    reference: toColumns(reference, m.features),
    current: toColumns(train, m.features),
    features: m.features,
    options: m.drift,
  });
}
