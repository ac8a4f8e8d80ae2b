/**
 * The check of a change before it is merged (issue 21): the model's buildspec (tests, lint,
 * smoke run, training), then the offline evaluation of the candidate against production on the
 * candidate's holdout, both scored by model servers started from their build outputs on the
 * SageMaker contract, through lambdas/evaluate-model/judge.ts, the code the release's
 * EvaluateModel runs. Nothing is deployed: no endpoint, no release, no registry version. The
 * record and the quality report go under `checks/<model>/`.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { ModelManifest } from '../config';
import { judge, scoredOf, type Judgement, type ProductionBasis, type Scored } from '../../lambdas/evaluate-model/judge';
import { parseCsv, renderQualityReportHtml, type QualityReport } from '../../lambdas/ml';
import { instancesFromCsv, type Instance } from '../../lambdas/shared/inference';
import { s3Uri } from '../../lambdas/shared/names';
import { readProductionVersion } from '../../lambdas/shared/registry';
import { putBody, putJson } from '../../lambdas/shared/s3json';
import { CheckError, download, type BuiltCandidate, type CheckBuilder, type CheckInput } from './builder';
import { ModelServer } from './model-server';
import { checkKeys, type CheckRecord } from './records';

export interface CheckDeps {
  s3: S3Client;
  bucket: string;
  /** Where build outputs are unpacked and model-server logs written. */
  workDir: string;
  now: () => Date;
  /** Builds the candidate: codeBuildBuilder (local cloud) or inPlaceBuilder (inside the AWS pull-request build). */
  builder: CheckBuilder;
  /** Progress lines for the person waiting. */
  progress?: (line: string) => void;
}

export type { CheckInput };

const compactTime = (d: Date) =>
  d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');

/** Each instance set through one model server started from `dir` (one start for the holdout and the extra datasets). */
async function scoreWith(dir: string, m: ModelManifest, label: string, logFile: string, sets: Instance[][]): Promise<Scored[]> {
  const server = await ModelServer.start({ dir, command: m.serve.command, logFile, label });
  try {
    const out: Scored[] = [];
    for (const instances of sets) out.push(scoredOf(await server.score(instances), m.task, label, logFile));
    return out;
  } finally {
    server.stop();
  }
}

/**
 * Production's answers on the candidate's holdout (and extra datasets) from its own build output;
 * its recorded metrics when that cannot run.
 */
async function productionBasis(
  deps: CheckDeps,
  model: string,
  workDir: string,
  sets: Instance[][],
): Promise<{ basis?: ProductionBasis; extra?: Scored[] }> {
  const production = await readProductionVersion(deps, model);
  if (!production) return {};
  const version = production.pointer.version;
  const recorded = production.record.evaluation?.metrics;
  try {
    const artifacts = production.record.build?.artifactsUri;
    if (!artifacts) throw new CheckError(`production ${version} has no build artifacts to run`);
    const dir = join(workDir, 'production');
    await download(deps.s3, artifacts, dir);
    const label = `production ${version}'s model server`;
    const [outputs, ...extra] = await scoreWith(dir, production.record.manifest, label, join(workDir, 'production.log'), sets);
    return { basis: { version, basis: 'same-holdout', outputs: outputs! }, extra };
  } catch (err) {
    if (!recorded) throw err;
    return { basis: { version, basis: 'recorded', metrics: recorded } };
  }
}

/** Build, then judge the candidate against production. @throws CheckError when no verdict can be reached */
async function buildAndJudge(
  deps: CheckDeps,
  input: CheckInput,
  checkId: string,
  workDir: string,
): Promise<{ judged: Judgement; built: BuiltCandidate }> {
  const m = input.manifest;
  deps.progress?.(`building ${m.name} (tests, smoke run, training)`);
  const built = await deps.builder.build(input, checkId, workDir);
  const read = (file: string, field: string) => {
    const path = join(built.dir, file);
    if (!existsSync(path))
      throw new CheckError(`${field}: the build output has no ${file} (the bundle must contain it)`, built.buildId, built.buildLog);
    return { csv: parseCsv(readFileSync(path, 'utf8'), file), uri: `${m.name} check ${checkId}: ${file}` };
  };
  const holdout = read('data/holdout.csv', 'the holdout');
  const train = read('data/train.csv', 'the training data');
  const datasets = m.evaluation.datasets.map((d) => ({ name: d.name, ...read(d.path, `evaluation.datasets "${d.name}"`) }));
  const sets = [holdout, ...datasets].map((f) => instancesFromCsv(f.csv, m.features, f.uri));
  deps.progress?.(`scoring the ${sets[0]!.length}-row holdout with the candidate and production (model servers, no endpoint)`);
  const [candidate, ...candidateExtra] = await scoreWith(
    built.dir,
    m,
    "the candidate's model server",
    join(workDir, 'candidate.log'),
    sets,
  );
  const production = await productionBasis(deps, m.name, workDir, sets);
  const extra = datasets.map((d, i) => ({ ...d, candidate: candidateExtra[i]!, production: production.extra?.[i] }));
  const data = { holdout: holdout.csv, holdoutUri: holdout.uri, train: train.csv, trainUri: train.uri };
  return { judged: judge(m, data, candidate!, production.basis, extra), built };
}

async function writeReport(
  deps: CheckDeps,
  input: CheckInput,
  checkId: string,
  judged: Judgement,
): Promise<{ reportUri: string; htmlUri: string }> {
  const m = input.manifest;
  const report: QualityReport = {
    model: m.name,
    version: checkId,
    task: m.task,
    generatedAt: deps.now().toISOString(),
    validation: judged.validation,
    evaluation: judged.evaluation,
    production: judged.production,
    gates: m.evaluation.metrics,
    slices: judged.slices,
    lineage: { commit: input.commit, trigger: `check of ${input.ref}${input.dirty ? ' (uncommitted changes)' : ''}` },
  };
  const key = (file: string) => checkKeys.file(m.name, checkId, file);
  await putJson(deps.s3, deps.bucket, key('validation.json'), report.validation);
  await putJson(deps.s3, deps.bucket, key('quality-report.json'), report);
  await putBody(deps.s3, deps.bucket, key('quality-report.html'), renderQualityReportHtml(report), 'text/html; charset=utf-8');
  return { reportUri: s3Uri(deps.bucket, key('quality-report.json')), htmlUri: s3Uri(deps.bucket, key('quality-report.html')) };
}

/**
 * Run the check and record it under `checks/<model>/<checkId>.json`.
 * A failed build or a model server that breaks ends in status `error` with the reason; the
 * gate's verdict is `passed` or `failed` with the release's failure messages.
 */
/**
 * Run the check and record it under `checks/<model>/<checkId>.json`.
 * A failed build or a model server that breaks ends in status `error` with the reason; the
 * gate's verdict is `passed` or `failed` with the release's failure messages.
 */
export async function runCheck(deps: CheckDeps, input: CheckInput): Promise<CheckRecord> {
  const startedAt = deps.now();
  const checkId = `${compactTime(startedAt)}-${input.commit.slice(0, 12)}`;
  const workDir = join(deps.workDir, input.manifest.name, checkId);
  mkdirSync(workDir, { recursive: true });
  const base = {
    model: input.manifest.name,
    checkId,
    commit: input.commit,
    ref: input.ref,
    dirty: input.dirty,
    startedAt: startedAt.toISOString(),
  };
  let record: CheckRecord;
  try {
    const { judged, built } = await buildAndJudge(deps, input, checkId, workDir);
    const uris = await writeReport(deps, input, checkId, judged);
    const v = judged.validation;
    record = {
      ...base,
      status: v.validation_ok ? 'passed' : 'failed',
      failures: v.failures.map((f) => f.message),
      notes: v.notes,
      metrics: judged.evaluation.metrics,
      production: judged.production,
      buildId: built.buildId,
      buildLog: built.buildLog,
      ...uris,
      finishedAt: deps.now().toISOString(),
    };
  } catch (err) {
    const failed = err instanceof CheckError ? err : undefined;
    record = {
      ...base,
      status: 'error',
      failures: [(err as Error).message],
      notes: [],
      buildId: failed?.buildId,
      buildLog: failed?.buildLog,
      finishedAt: deps.now().toISOString(),
    };
  }
  await putJson(deps.s3, deps.bucket, checkKeys.record(input.manifest.name, checkId), record);
  return record;
}
