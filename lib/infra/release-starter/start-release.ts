import { CopyObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ExecutionAlreadyExists, StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import {
  GetPipelineExecutionCommand,
  PutJobFailureResultCommand,
  PutJobSuccessResultCommand,
  type CodePipelineClient,
} from '@aws-sdk/client-codepipeline';
import { z } from 'zod';
import { isNotFound } from '../../../lambdas/shared/errors';
import { keys, s3Uri } from '../../../lambdas/shared/names';
import { changedPaths, planPush, readTree, type TreeIndex } from './changes';

/**
 * The release stage of the delivery pipeline (one pipeline for every model): find the models
 * the push touches (see changes.ts), copy the commit's source zip to
 * `source/<model>/<commit>.zip` for each and START its release execution.
 *
 * It returns as soon as the executions have started. CodePipeline V2 bills every minute an
 * action runs, and its Step Functions action waits for the execution to end; a release
 * waits up to days for an approval, so the pipeline must not wait with it.
 *
 * An execution that the pipeline's creation started (trigger `CreatePipeline`: CodePipeline
 * runs every new pipeline once, so `cdk deploy` would release every model at once) records
 * the branch's tree and starts nothing, saying so in the action's summary. Updates start
 * no execution (`restartExecutionOnUpdate: false`); a push and a "Release change" start
 * releases as before.
 *
 * A retried action is idempotent: the copies land on the same keys, the executions have the
 * same names (ExecutionAlreadyExists counts as started), and the branch's tree is recorded
 * only after every release started, so a failed run compares against the same tree again.
 */

/** Trigger types of pipeline executions that must not start a release (ExecutionTrigger.triggerType). */
export const NO_RELEASE_TRIGGERS: ReadonlySet<string> = new Set(['CreatePipeline']);

/** The pipeline's user parameters (LambdaInvokeAction `userParameters`, variables resolved). */
export const userParametersSchema = z.strictObject({
  commitId: z.string().regex(/^[0-9a-f]{7,64}$/i, 'a commit id (hex)'),
  branch: z.string().min(1, 'a branch name').max(255),
  pipelineExecutionId: z.string().min(8),
  pipelineName: z.string().regex(/^[A-Za-z0-9.@_-]{1,100}$/, 'a pipeline name'),
});
export type UserParameters = z.output<typeof userParametersSchema>;

/** The part of a CodePipeline job event this action reads. */
export const jobSchema = z.object({
  id: z.string().min(1),
  data: z.object({
    actionConfiguration: z.object({ configuration: z.object({ UserParameters: z.string() }) }),
    inputArtifacts: z
      .array(z.object({ location: z.object({ s3Location: z.object({ bucketName: z.string().min(1), objectKey: z.string().min(1) }) }) }))
      .min(1, 'the source artifact is missing: the action needs the Source output as its input'),
  }),
});

/** A job event that cannot be handled; reported to CodePipeline as the failure message. */
export class InvalidJobError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InvalidJobError';
  }
}

export interface StartReleaseDeps {
  s3: S3Client;
  sfn: SFNClient;
  codepipeline: CodePipelineClient;
  artifactBucket: string;
  releaseStateMachineArn: string;
}

/** One model's release started by the stage. */
export interface StartedRelease {
  model: string;
  executionName: string;
  sourceUri: string;
  /** false when the execution already existed (the action was retried). */
  started: boolean;
}

export type StartReleaseResult =
  | {
      releases: StartedRelease[];
      /** Manifests that started nothing, and why. */
      skippedModels: string[];
      manifestsChanged: boolean;
    }
  | {
      /** The pipeline execution's trigger type, one of {@link NO_RELEASE_TRIGGERS}. */
      skipped: string;
    };

/** `<model>-<commit12>-<pipelineExecution8>`: at most 62 characters, the same on a retried job. */
export function executionNameOf(p: { model: string; commitId: string; pipelineExecutionId: string }): string {
  return `${p.model}-${p.commitId.slice(0, 12)}-${p.pipelineExecutionId.slice(0, 8)}`;
}

/** Where the release stage keeps the last tree it handled on a branch. */
export const treeIndexKey = (branch: string): string => `pipeline/trees/${encodeURIComponent(branch)}.json`;

/** Releases started at once: enough to start 300 within the function's timeout, few enough not to be throttled. */
const CONCURRENCY = 8;

function describe(err: unknown): string {
  if (err instanceof z.ZodError) return err.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/** Parse the job; the error names what is wrong with it. */
export function parseJob(job: unknown): { jobId: string; params: UserParameters; source: { bucket: string; key: string } } {
  const parsed = jobSchema.safeParse(job);
  if (!parsed.success) throw new InvalidJobError(`invalid CodePipeline job: ${describe(parsed.error)}`, { cause: parsed.error });
  let raw: unknown;
  try {
    raw = JSON.parse(parsed.data.data.actionConfiguration.configuration.UserParameters);
  } catch (err) {
    throw new InvalidJobError('UserParameters: not JSON', { cause: err });
  }
  const params = userParametersSchema.safeParse(raw);
  if (!params.success) throw new InvalidJobError(`UserParameters: ${describe(params.error)}`, { cause: params.error });
  const loc = parsed.data.data.inputArtifacts[0]!.location.s3Location;
  return { jobId: parsed.data.id, params: params.data, source: { bucket: loc.bucketName, key: loc.objectKey } };
}

async function readObject(s3: S3Client, bucket: string, key: string): Promise<Buffer | undefined> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return Buffer.from(await out.Body!.transformToByteArray());
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** Copy the source zip for one model and start its release; an existing execution of the same name counts as started. */
async function startOne(
  deps: StartReleaseDeps,
  params: UserParameters,
  source: { bucket: string; key: string },
  model: string,
): Promise<StartedRelease> {
  const key = keys.source(model, params.commitId);
  await deps.s3.send(
    new CopyObjectCommand({
      Bucket: deps.artifactBucket,
      Key: key,
      CopySource: `${source.bucket}/${source.key.split('/').map(encodeURIComponent).join('/')}`,
      MetadataDirective: 'REPLACE',
      ContentType: 'application/zip',
      Metadata: { model, commit: params.commitId },
    }),
  );
  const sourceUri = s3Uri(deps.artifactBucket, key);
  const executionName = executionNameOf({ ...params, model });
  try {
    await deps.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: deps.releaseStateMachineArn,
        name: executionName,
        input: JSON.stringify({ model, commitId: params.commitId, sourceUri, trigger: 'push' }),
      }),
    );
    return { model, executionName, sourceUri, started: true };
  } catch (err) {
    // A retried action finds its own execution: that is success, not a second release.
    if (!(err instanceof ExecutionAlreadyExists)) throw err;
    return { model, executionName, sourceUri, started: false };
  }
}

async function recordTree(deps: StartReleaseDeps, params: UserParameters, files: Record<string, string>): Promise<void> {
  const index: TreeIndex = { commitId: params.commitId, files };
  await deps.s3.send(
    new PutObjectCommand({
      Bucket: deps.artifactBucket,
      Key: treeIndexKey(params.branch),
      Body: JSON.stringify(index),
      ContentType: 'application/json',
    }),
  );
}

/** Plan the push and start its releases; throws on the first failure (the job is then reported failed, and a retry is safe). */
async function releasePush(deps: StartReleaseDeps, params: UserParameters, source: { bucket: string; key: string }, skipTrigger?: string) {
  const zip = await readObject(deps.s3, source.bucket, source.key);
  if (!zip) throw new InvalidJobError(`the source artifact s3://${source.bucket}/${source.key} does not exist`);
  const tree = await readTree(zip);
  if (skipTrigger) {
    await recordTree(deps, params, tree.files);
    return undefined;
  }
  const previous = await readObject(deps.s3, deps.artifactBucket, treeIndexKey(params.branch));
  const changed = changedPaths(previous ? (JSON.parse(previous.toString('utf8')) as TreeIndex).files : undefined, tree.files);
  const plan = planPush(tree, changed, params.branch);
  const releases: StartedRelease[] = [];
  for (let i = 0; i < plan.release.length; i += CONCURRENCY) {
    const batch = plan.release.slice(i, i + CONCURRENCY);
    releases.push(...(await Promise.all(batch.map((m) => startOne(deps, params, source, m.manifest.name)))));
  }
  await recordTree(deps, params, tree.files);
  return { releases, skippedModels: plan.errors, manifestsChanged: plan.manifestsChanged };
}

/**
 * Run the action for one job and report the outcome to CodePipeline. Never throws for a
 * job it could parse: an unreported job would hang the pipeline until the action times out.
 */
export async function startRelease(deps: StartReleaseDeps, job: unknown): Promise<StartReleaseResult | undefined> {
  const jobId = z.object({ id: z.string().min(1) }).safeParse(job);
  if (!jobId.success) throw new InvalidJobError('invalid CodePipeline job: id is missing');
  try {
    const { params, source } = parseJob(job);
    const execution = await deps.codepipeline.send(
      new GetPipelineExecutionCommand({ pipelineName: params.pipelineName, pipelineExecutionId: params.pipelineExecutionId }),
    );
    const trigger = execution.pipelineExecution?.trigger?.triggerType;
    if (trigger && NO_RELEASE_TRIGGERS.has(trigger)) {
      await releasePush(deps, params, source, trigger);
      const summary = `No release: this execution was started by ${trigger} (the pipeline's creation), not by a push or a "Release change".`;
      await deps.codepipeline.send(
        new PutJobSuccessResultCommand({ jobId: jobId.data.id, executionDetails: { summary }, outputVariables: { skipped: trigger } }),
      );
      return { skipped: trigger };
    }
    const result = (await releasePush(deps, params, source))!;
    const names = result.releases.map((r) => r.model);
    const summary = names.length
      ? `Started ${names.length} release(s): ${names.join(', ')}`.slice(0, 2048)
      : `No model's paths match the changed files; nothing to release`;
    await deps.codepipeline.send(
      new PutJobSuccessResultCommand({
        jobId: jobId.data.id,
        executionDetails: { summary: [summary, ...result.skippedModels].join('; ').slice(0, 2048) },
        outputVariables: { releases: String(names.length), manifestsChanged: String(result.manifestsChanged) },
      }),
    );
    return result;
  } catch (err) {
    await deps.codepipeline.send(
      new PutJobFailureResultCommand({
        jobId: jobId.data.id,
        failureDetails: { type: 'JobFailed', message: describe(err).slice(0, 5000) },
      }),
    );
    return undefined;
  }
}
