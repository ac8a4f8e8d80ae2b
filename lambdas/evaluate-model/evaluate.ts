import type { S3Client } from '@aws-sdk/client-s3';
import type { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import {
  computeBaseline,
  csvRecords,
  detectDataDrift,
  evaluateModel,
  evaluateSlices,
  parseCsv,
  renderQualityReportHtml,
  runGate,
  toColumns,
  type DriftReport,
  type QualityReport,
  type SliceEvaluation,
} from '../ml';
import { readBundleFile, sha256Hex } from '../shared/bundle';
import { InvalidDataError, ModelAnswerError, SourceNotFoundError } from '../shared/errors';
import { excerptOf, instancesFromCsv, invokeBatch, type Instance, type Prediction } from '../shared/inference';
import { endpointLogLocation, endpointName, EVALUATION_INFERENCE_PREFIX, keys, s3Uri } from '../shared/names';
import { mapConcurrent } from '../shared/pool';
import { readProductionVersion, readVersion, updateVersion, type VersionRecord } from '../shared/registry';
import { putBody, putJson } from '../shared/s3json';

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

function labelsOf(csv: { header: string[]; rows: string[][] }, label: string, task: string, source: string): (number | string)[] {
  const k = csv.header.indexOf(label);
  if (k < 0)
    throw new InvalidDataError(
      `the label column "${label}" of the manifest is missing from ${source} (its columns: ${csv.header.join(', ')})`,
    );
  return csv.rows.map((row, r) => {
    if (task === 'classification') return row[k]!;
    const y = Number(row[k]);
    if (row[k]!.trim() === '' || !Number.isFinite(y))
      throw new InvalidDataError(`${source}: row ${r + 2}, label "${label}": "${row[k]}" is not a number`);
    return y;
  });
}

function predictionOf(p: Prediction, task: string, i: number, endpoint: string, log: string): number | string {
  const bad = (what: string) => {
    const excerpt = excerptOf(JSON.stringify(p) ?? String(p));
    return new ModelAnswerError(
      `the model behind ${endpoint} answered prediction ${i} without ${what}: ${excerpt}; model log: ${log}`,
      excerpt,
    );
  };
  if (task === 'regression') {
    // NaN reaches here as null (JSON.stringify(NaN)) or as the string "NaN".
    if (typeof p?.value !== 'number' || !Number.isFinite(p.value)) throw bad('a finite numeric "value"');
    return p.value;
  }
  if (typeof p?.label !== 'string') throw bad('a "label"');
  return p.label;
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
  scoreOn: (endpoint: string, inferenceIdSuffix: string) => Promise<{ metrics: Record<string, number>; outputs: Scored }>,
): Promise<{ metrics: Record<string, number>; outputs?: Scored; basis: 'same-holdout' | 'recorded' } | undefined> {
  const recorded = production?.record.evaluation?.metrics;
  if (!production) return recorded ? { metrics: recorded, basis: 'recorded' } : undefined;
  try {
    return { ...(await scoreOn(endpointName(input.model, 'production'), '-production')), basis: 'same-holdout' };
  } catch (err) {
    if (!recorded) throw err;
    return { metrics: recorded, basis: 'recorded' };
  }
}

/** The version under evaluation and its bundle's data. */
interface EvaluationData {
  record: VersionRecord;
  holdoutFile: { text: string; uri: string };
  trainFile: { text: string; uri: string };
  holdout: ReturnType<typeof parseCsv>;
  train: ReturnType<typeof parseCsv>;
}

/** The candidate's metrics on its holdout, and production's to compare with. */
interface HoldoutScores {
  evaluation: QualityReport['evaluation'];
  /** Rows of the holdout scored. */
  rows: number;
  production: Awaited<ReturnType<typeof readProductionVersion>>;
  productionMetrics: Awaited<ReturnType<typeof productionOnSameHoldout>>;
  /** Row-aligned labels and the candidate's outputs, for the slices. */
  labels: (number | string)[];
  candidate: Scored;
}

const reportKey = (input: EvaluateInput, file: string) => keys.report(input.model, input.version, file);

async function readEvaluationData(deps: EvaluateDeps, input: EvaluateInput): Promise<EvaluationData> {
  const { value: record } = await readVersion(deps, input.model, input.version);
  const holdoutFile = await readBundleFile(deps, record, 'data/holdout.csv');
  const trainFile = await readBundleFile(deps, record, 'data/train.csv');
  const holdout = parseCsv(holdoutFile.text, holdoutFile.uri);
  const train = parseCsv(trainFile.text, trainFile.uri);
  if (holdout.rows.length === 0) throw new InvalidDataError(`${holdoutFile.uri} has no rows`);
  return { record, holdoutFile, trainFile, holdout, train };
}

/** The holdout through the staging endpoint (the candidate) and through production, each evaluated against its labels. */
async function scoreCandidateAndProduction(deps: EvaluateDeps, input: EvaluateInput, d: EvaluationData): Promise<HoldoutScores> {
  const m = d.record.manifest;
  const labels = labelsOf(d.holdout, m.label, m.task, d.holdoutFile.uri);
  const instances = instancesFromCsv(d.holdout, m.features, d.holdoutFile.uri);
  const candidate = await scoreHoldout(deps, input.endpointName, instances, m.task, `${EVALUATION_INFERENCE_PREFIX}${input.version}`);
  const dummyLabels = labelsOf(d.train, m.label, m.task, d.trainFile.uri);
  const evaluate = (scored: Scored) =>
    evaluateModel({
      task: m.task,
      labels,
      predictions: scored.predictions,
      scores: scored.scores,
      bootstrap: m.evaluation.bootstrap,
      seed: 42,
      dummyLabels,
    });
  const evaluation = evaluate(candidate);

  const production = await readProductionVersion(deps, input.model);
  const productionMetrics = await productionOnSameHoldout(input, production, (endpoint, suffix) =>
    scoreHoldout(deps, endpoint, instances, m.task, `${EVALUATION_INFERENCE_PREFIX}${input.version}${suffix}`).then((outputs) => ({
      metrics: evaluate(outputs).metrics,
      outputs,
    })),
  );
  return { evaluation, rows: instances.length, production, productionMetrics, labels, candidate };
}

/**
 * The manifest's slices, candidate against production on the same rows (issue 21); undefined when
 * the manifest declares none. Production's recorded metrics cannot be sliced, so without its
 * outputs on this holdout the slices are reported and not gated (evaluateSlices says so).
 */
function sliceEvaluation(d: EvaluationData, s: HoldoutScores): SliceEvaluation | undefined {
  const m = d.record.manifest;
  if (m.evaluation.slices.length === 0) return undefined;
  const columns: Record<string, string[]> = {};
  for (const spec of m.evaluation.slices) {
    const k = d.holdout.header.indexOf(spec.feature);
    if (k < 0) throw new InvalidDataError(`the sliced feature "${spec.feature}" (evaluation.slices) is missing from ${d.holdoutFile.uri}`);
    columns[spec.feature] = d.holdout.rows.map((r) => r[k]!);
  }
  return evaluateSlices({
    task: m.task,
    specs: m.evaluation.slices,
    columns,
    labels: s.labels,
    candidate: s.candidate,
    production: s.productionMetrics?.outputs,
    gates: m.evaluation.metrics,
    gate: m.evaluation.sliceGate,
    bootstrap: m.evaluation.bootstrap,
    seed: 42,
  });
}

/** A failing slice fails the validation, with its cause among the failures and one check per gated slice metric. */
function addSlicesToValidation(validation: QualityReport['validation'], slices: SliceEvaluation | undefined): void {
  if (!slices) return;
  for (const s of slices.slices.filter((x) => x.gated)) {
    for (const [metric, sm] of Object.entries(s.metrics)) {
      if (sm.adjustedP === undefined) continue;
      const failure = slices.failures.find((f) => f.metric === metric && f.message.includes(` on ${s.name}, `));
      validation.checks.push({
        metric,
        kind: 'slice',
        ok: sm.ok,
        value: sm.value,
        bound: null,
        baseline: sm.production ?? null,
        message: failure?.message ?? `${metric} on ${s.name} (n=${s.n}): no significant regression beyond the tolerance`,
      });
    }
  }
  validation.failures.push(...slices.failures);
  validation.notes.push(...slices.notes);
  validation.validation_ok = validation.failures.length === 0;
}

/** The manifest's gates over the candidate's metrics, with a note on which production figures they were compared with. */
function gate(d: EvaluationData, s: HoldoutScores): QualityReport['validation'] {
  const { production, productionMetrics } = s;
  const validation = runGate(d.record.manifest.evaluation.metrics, s.evaluation.metrics, productionMetrics?.metrics);
  if (productionMetrics?.basis === 'recorded') {
    validation.notes.push(
      `production ${production!.pointer.version} could not be scored on this holdout; compared with the metrics it recorded at its own evaluation`,
    );
  } else if (productionMetrics?.basis === 'same-holdout') {
    validation.notes.push(`production ${production!.pointer.version} was scored on this version's holdout (${s.rows} rows)`);
  }
  return validation;
}

async function qualityReport(
  deps: EvaluateDeps,
  input: EvaluateInput,
  run: { data: EvaluationData; scores: HoldoutScores; validation: QualityReport['validation'] },
): Promise<QualityReport> {
  const { record, train, trainFile, holdoutFile } = run.data;
  const { evaluation, production, productionMetrics } = run.scores;
  const trainingDrift = await driftAgainstProduction(deps, record, train, production?.record);
  return {
    model: input.model,
    version: input.version,
    task: record.manifest.task,
    generatedAt: deps.now().toISOString(),
    validation: run.validation,
    evaluation,
    production: production && productionMetrics ? { version: production.pointer.version, metrics: productionMetrics.metrics } : undefined,
    gates: record.manifest.evaluation.metrics,
    trainingDrift,
    lineage: {
      commit: record.commitId,
      imageDigest: record.build?.imageDigest ?? undefined,
      dataDigests: { 'data/train.csv': sha256Hex(trainFile.text), 'data/holdout.csv': sha256Hex(holdoutFile.text) },
      trigger: record.trigger,
      executionArn: input.executionId,
    },
  };
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
  const validation = gate(data, scores);
  const slices = sliceEvaluation(data, scores);
  addSlicesToValidation(validation, slices);
  const baseline = computeBaseline(csvRecords(data.train), data.record.manifest.features);
  const report = { ...(await qualityReport(deps, input, { data, scores, validation })), slices };
  await writeReports(deps, input, report, baseline);
  const result = resultOf(deps, input, report);
  await recordEvaluation(deps, input, data, result);
  return result;
}

interface Scored {
  predictions: (number | string)[];
  scores?: Record<string, number>[];
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
  const log = endpointLogLocation(endpoint, logTemplate);
  const predictions = answered.map((p, i) => predictionOf(p, task, i, endpoint, log));
  const scores = task === 'classification' && answered.every((p) => p.scores) ? answered.map((p) => p.scores!) : undefined;
  return { predictions, scores };
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
