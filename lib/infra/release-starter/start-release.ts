import { CopyObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ExecutionAlreadyExists, StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import {
  GetPipelineExecutionCommand,
  PutJobFailureResultCommand,
  PutJobSuccessResultCommand,
  type CodePipelineClient,
} from '@aws-sdk/client-codepipeline';
import { z } from 'zod';
import { keys, s3Uri } from '../../../lambdas/shared/names';
import { MODEL_NAME_PATTERN } from '../../config/names';

/**
 * The release stage of a model's pipeline: copy the commit's source zip to
 * `source/<model>/<commit>.zip` in the artifact bucket and START the release execution.
 *
 * It returns as soon as the execution has started. CodePipeline V2 bills every minute an
 * action runs, and its Step Functions action waits for the execution to end; a release
 * waits up to days for an approval, so the pipeline must not wait with it.
 *
 * An execution that the pipeline's creation started (trigger `CreatePipeline`: CodePipeline
 * runs every new pipeline once, so `cdk deploy` would release every model at once) ends
 * here as a success that starts nothing, saying so in the action's summary. Updates start
 * no execution (`restartExecutionOnUpdate: false`); a push and a "Release change" start
 * releases as before.
 */

/** Trigger types of pipeline executions that must not start a release (ExecutionTrigger.triggerType). */
export const NO_RELEASE_TRIGGERS: ReadonlySet<string> = new Set(['CreatePipeline']);

/** The pipeline's user parameters (LambdaInvokeAction `userParameters`, variables resolved). */
export const userParametersSchema = z.strictObject({
  model: z.string().regex(MODEL_NAME_PATTERN, 'a model name'),
  commitId: z.string().regex(/^[0-9a-f]{7,64}$/i, 'a commit id (hex)'),
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

export type StartReleaseResult =
  | {
      executionName: string;
      sourceUri: string;
      /** false when the execution already existed (the action was retried). */
      started: boolean;
    }
  | {
      /** The pipeline execution's trigger type, one of {@link NO_RELEASE_TRIGGERS}. */
      skipped: string;
      started: false;
    };

/** `<model>-<commit12>-<pipelineExecution8>`: at most 62 characters, the same on a retried job. */
export function executionNameOf(p: Pick<UserParameters, 'model' | 'commitId' | 'pipelineExecutionId'>): string {
  return `${p.model}-${p.commitId.slice(0, 12)}-${p.pipelineExecutionId.slice(0, 8)}`;
}

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
      const summary = `No release: this execution was started by ${trigger} (the pipeline's creation), not by a push or a "Release change".`;
      await deps.codepipeline.send(
        new PutJobSuccessResultCommand({ jobId: jobId.data.id, executionDetails: { summary }, outputVariables: { skipped: trigger } }),
      );
      return { skipped: trigger, started: false };
    }
    const key = keys.source(params.model, params.commitId);
    await deps.s3.send(
      new CopyObjectCommand({
        Bucket: deps.artifactBucket,
        Key: key,
        CopySource: `${source.bucket}/${source.key.split('/').map(encodeURIComponent).join('/')}`,
        MetadataDirective: 'REPLACE',
        ContentType: 'application/zip',
        Metadata: { model: params.model, commit: params.commitId },
      }),
    );
    const sourceUri = s3Uri(deps.artifactBucket, key);
    const executionName = executionNameOf(params);
    let started = true;
    try {
      await deps.sfn.send(
        new StartExecutionCommand({
          stateMachineArn: deps.releaseStateMachineArn,
          name: executionName,
          input: JSON.stringify({ model: params.model, commitId: params.commitId, sourceUri, trigger: 'push' }),
        }),
      );
    } catch (err) {
      // A retried action finds its own execution: that is success, not a second release.
      if (!(err instanceof ExecutionAlreadyExists)) throw err;
      started = false;
    }
    await deps.codepipeline.send(new PutJobSuccessResultCommand({ jobId: jobId.data.id, outputVariables: { executionName, sourceUri } }));
    return { executionName, sourceUri, started };
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
