import type { S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod';
import type { ModelManifest } from '../../lib/config';
import type { AbPlan } from '../ml/abtest';
import { ConcurrentUpdateError, RegistryRecordNotFoundError, TransientError } from './errors';
import { keys, type Stage } from './names';
import { getJson, putJson, putJsonIf, type Stored } from './s3json';

/**
 * The model registry in the artifact bucket: one record per version
 * (`registry/<model>/versions/<version>.json`) and one production pointer
 * (`registry/<model>/production.json`). The pointer is the truth about what is in
 * production; a version record's `status` follows it and may lag after a crash.
 */

export type Trigger = 'push' | 'drift' | 'manual';

/** Where a version is in its release. Failure outcomes are also final statuses. */
export type VersionStatus =
  'building' | 'built' | 'evaluated' | 'awaiting-approval' | 'approved' | 'production' | 'archived' | ReleaseFailure;

/** The outcomes of a release (RecordOutcome). */
export const RELEASE_OUTCOMES = [
  'succeeded',
  'build-failed',
  'training-failed',
  'gate-failed',
  'load-test-failed',
  // The candidate, as a shadow of production on live traffic, went beyond experiment.shadow's bounds.
  'shadow-test-failed',
  // After the approval, the online A/B test (experiment.ab) found the candidate significantly worse
  // on the ground-truth metric, or ran out of time with onTimeout rollback: production is unchanged.
  'ab-test-failed',
  'rejected',
  'approval-timed-out',
  'rolled-back',
  'failed',
  // A newer release of the model took its place (or, for a retraining release, another
  // release of the model was running): see lambdas/shared/lease.ts.
  'superseded',
] as const;
export type ReleaseOutcome = (typeof RELEASE_OUTCOMES)[number];
export type ReleaseFailure = Exclude<ReleaseOutcome, 'succeeded'>;

export interface BuildInfo {
  projectName: string;
  buildId: string;
  status: string;
  imageUri: string | null;
  imageDigest: string | null;
  /** `s3://<bucket>/builds/<model>/<version>/` — the model bundle. */
  artifactsUri: string | null;
  logLink: string | null;
  failedPhase: string | null;
  startedAt: string;
  finishedAt: string | null;
}

export interface DeploymentEntry {
  stage: Stage;
  endpointName: string;
  endpointConfigName: string;
  action: 'created' | 'updated' | 'unchanged';
  strategy: 'all-at-once' | 'canary' | 'linear';
  at: string;
  /** Filled in by CheckEndpoint when the deployment settles. */
  result: 'in-service' | 'rolled-back' | 'failed' | null;
  failureReason: string | null;
}

/** A version's SageMaker training job, as RecordTraining writes it (lineage: the visibility pages read it). */
export interface TrainingJobInfo {
  name: string;
  startedAt: string;
  status: string;
  arn?: string;
  /** `s3://.../<job>/output/model.tar.gz` */
  artifactUri?: string;
  /** `sha256:<hex>` of model.tar.gz */
  artifactDigest?: string;
  hyperparameters?: Record<string, string>;
  /** FinalMetricDataList: the last value of each metric definition. */
  metrics?: Record<string, number>;
  billableSeconds?: number | null;
  trainingSeconds?: number | null;
  instanceType?: string;
  instanceCount?: number;
  spot?: boolean;
  finishedAt?: string;
}

export interface ApprovalInfo {
  decision: 'approved' | 'rejected' | 'expired';
  by: string | null;
  at: string;
  comment: string | null;
}

export interface VersionRecord {
  model: string;
  version: string;
  status: VersionStatus;
  createdAt: string;
  updatedAt: string;
  commitId: string;
  /** The commit's author, when the release input names it (the local push trigger does); separation of duties checks it. */
  author?: { name: string; email: string } | null;
  trigger: Trigger;
  reason: string | null;
  execution: { arn: string; name: string };
  source: { uri: string; sha256: string };
  /** The manifest of the commit with every default filled in. */
  manifest: ModelManifest;
  manifestUri: string;
  build: BuildInfo | null;
  /** Digest of the training data the bundle was trained on. */
  training: { dataUri: string; sha256: string; rows: number } | null;
  /**
   * The build's params.json (hyperparameters) and where it is, recorded by EvaluateModel so the
   * lineage reads it without builds/ (the approver policy does not open it); null without one.
   */
  hyperparameters?: { values: Record<string, unknown>; uri: string } | null;
  /** The SageMaker training job of a `training.mode: sagemaker` version (absent otherwise): its artifact is what the endpoints serve. */
  trainingJob?: TrainingJobInfo | null;
  evaluation: {
    validationOk: boolean;
    metrics: Record<string, number>;
    failures: string[];
    reportUri: string;
    validationUri: string;
    htmlUri: string;
  } | null;
  loadTest: { ok: boolean; p50Ms: number; p95Ms: number; p99Ms: number; errorRate: number; achievedRps: number; reportUri: string } | null;
  approval: ApprovalInfo | null;
  /** The shadow stage's verdict and where its report is (lambdas/shadow-test); absent without one. */
  shadow?: {
    verdict: 'pass' | 'fail' | 'insufficient-data' | 'skipped';
    reasons: string[];
    requests: number;
    reportUri: string | null;
  } | null;
  /**
   * The online A/B test after the approval (lambdas/ab-test): its pre-registered plan, written
   * before traffic flows, then the verdict and where its report is; absent without one.
   */
  ab?: {
    verdict: 'running' | 'pass' | 'fail' | 'insufficient-data' | 'skipped';
    reasons: string[];
    plan: AbPlan | null;
    startedAt: string | null;
    reportUri: string | null;
  } | null;
  deployments: DeploymentEntry[];
  lineage: { previousProduction: string | null };
  /** How the release ended; `cause` is the one line its Fail state carries (absent on records from before it existed). */
  outcome: { state: ReleaseOutcome; at: string; error: { Error: string; Cause: string } | null; cause?: string } | null;
  /**
   * What became of the staging endpoint when the release ended (DeleteStagingEndpoint):
   * deleted, absent, kept, skipped, or failed with the error (the endpoint may still bill).
   * Absent on records from before the cleanup existed.
   */
  stagingCleanup?: { action: 'deleted' | 'absent' | 'kept' | 'skipped' | 'failed'; detail: string } | null;
  /** Set while the release waits for another release of the model to leave production (lambdas/shared/lease.ts). */
  waitingFor?: { executionArn: string; executionName: string; since: string } | null;
  promotedAt: string | null;
  archivedAt: string | null;
  /** Its mirror in SageMaker Model Registry (lambdas/shared/model-registry.ts); absent before the version reaches a decision. */
  modelRegistry?: ModelRegistryMirror | null;
}

/** What a version record keeps of its SageMaker Model Registry package. */
export interface ModelRegistryMirror {
  groupName: string;
  modelPackageArn: string | null;
  approvalStatus: 'PendingManualApproval' | 'Approved' | 'Rejected' | null;
  /** The last mirror call's failure (`<ErrorName>: <message>`), null when it agrees. */
  error: string | null;
}

/** The pointer to the version production serves. */
export interface ProductionPointer {
  model: string;
  version: string;
  since: string;
  executionArn: string;
  endpointName: string;
  previous: string | null;
}

// Registry documents are read back by other releases, the drift check and the console: the
// core fields are checked on every read so a corrupt document is an error naming its key.
const versionSchema = z.looseObject({
  model: z.string(),
  version: z.string(),
  status: z.string(),
  commitId: z.string(),
  manifest: z.looseObject({ name: z.string(), task: z.string() }),
  deployments: z.array(z.unknown()),
}) as unknown as z.ZodType<VersionRecord>;

const productionSchema = z.looseObject({
  model: z.string(),
  version: z.string(),
  since: z.string(),
}) as unknown as z.ZodType<ProductionPointer>;

export interface RegistryDeps {
  s3: S3Client;
  bucket: string;
}

export async function findVersion(deps: RegistryDeps, model: string, version: string): Promise<Stored<VersionRecord> | undefined> {
  return getJson(deps.s3, deps.bucket, keys.version(model, version), versionSchema);
}

/** @throws RegistryRecordNotFoundError when the version has no record */
export async function readVersion(deps: RegistryDeps, model: string, version: string): Promise<Stored<VersionRecord>> {
  const found = await findVersion(deps, model, version);
  if (!found) throw new RegistryRecordNotFoundError(`no registry record s3://${deps.bucket}/${keys.version(model, version)}`);
  return found;
}

/**
 * Create a version record once. A retry of the same execution finds its own record and
 * returns it; a record of another execution under the same version is a conflict.
 */
export async function createVersion(deps: RegistryDeps, record: VersionRecord): Promise<VersionRecord> {
  const key = keys.version(record.model, record.version);
  const put = await putJsonIf(deps.s3, deps.bucket, key, record, { ifNoneMatch: '*' });
  if (put.written) return record;
  const existing = await readVersion(deps, record.model, record.version);
  if (existing.value.execution?.arn === record.execution.arn) return existing.value;
  throw new ConcurrentUpdateError(`s3://${deps.bucket}/${key} already belongs to execution ${existing.value.execution?.arn}`);
}

/**
 * Read-modify-write of a version record under `If-Match`, retried a few times when another
 * writer got in between. Tasks of one release run one after another, so a lost race means
 * a retried or concurrent invocation; the state machine retries the `TransientError`.
 */
export async function updateVersion(
  deps: RegistryDeps,
  model: string,
  version: string,
  change: (record: VersionRecord, now: string) => VersionRecord,
  now: () => Date = () => new Date(),
): Promise<VersionRecord> {
  const key = keys.version(model, version);
  for (let attempt = 0; attempt < 4; attempt++) {
    const current = await readVersion(deps, model, version);
    const at = now().toISOString();
    const next = { ...change(structuredClone(current.value), at), updatedAt: at };
    const put = await putJsonIf(deps.s3, deps.bucket, key, next, current.etag ? { ifMatch: current.etag } : {});
    if (put.written) return next;
  }
  throw new TransientError(`s3://${deps.bucket}/${key} kept changing while being updated`);
}

export async function readProduction(deps: RegistryDeps, model: string): Promise<Stored<ProductionPointer> | undefined> {
  return getJson(deps.s3, deps.bucket, keys.production(model), productionSchema);
}

/** The version production serves, with its record; `undefined` before the first release. */
export async function readProductionVersion(
  deps: RegistryDeps,
  model: string,
): Promise<{ pointer: ProductionPointer; record: VersionRecord } | undefined> {
  const pointer = await readProduction(deps, model);
  if (!pointer) return undefined;
  const record = await readVersion(deps, model, pointer.value.version);
  return { pointer: pointer.value, record: record.value };
}

/** Append one deployment history entry: a new object per event, so appends never contend. */
export async function appendHistory(
  deps: RegistryDeps,
  model: string,
  at: string,
  version: string,
  entry: Record<string, unknown>,
): Promise<void> {
  await putJson(deps.s3, deps.bucket, keys.deployment(model, at, version), { model, version, at, ...entry });
}
