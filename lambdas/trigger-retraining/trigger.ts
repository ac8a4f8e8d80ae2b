import type { S3Client } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, ListExecutionsCommand, StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { sha256Hex } from '../shared/bundle';
import { keys } from '../shared/names';
import { readProductionVersion } from '../shared/registry';
import { getJson, putJson } from '../shared/s3json';

export interface TriggerDeps {
  s3: S3Client;
  sfn: SFNClient;
  bucket: string;
  releaseStateMachineArn: string;
  now: () => Date;
}

export interface TriggerInput {
  model: string;
  reason: string;
  run: string;
  executionId: string;
}

export interface TriggerResult {
  started: boolean;
  executionArn: string | null;
  skippedReason: string | null;
}

/** `registry/<model>/retraining.json`: the last drift-triggered release, for the cooldown. */
interface RetrainingMarker {
  lastStartedAt: string;
  executionArn: string;
  reason: string;
  run: string;
}

const skip = (skippedReason: string): TriggerResult => ({ started: false, executionArn: null, skippedReason });

/** The release execution of a model that is running, if any. */
async function runningRelease(deps: TriggerDeps, model: string): Promise<string | undefined> {
  let nextToken: string | undefined;
  do {
    const page = await deps.sfn.send(
      new ListExecutionsCommand({ stateMachineArn: deps.releaseStateMachineArn, statusFilter: 'RUNNING', nextToken }),
    );
    for (const execution of page.executions ?? []) {
      if (!execution.executionArn) continue;
      // ListExecutions does not return inputs, and pipeline-started executions are not
      // named after the model: the input is the only reliable place.
      const described = await deps.sfn.send(new DescribeExecutionCommand({ executionArn: execution.executionArn }));
      try {
        if ((JSON.parse(described.input ?? '{}') as { model?: string }).model === model) return execution.executionArn;
      } catch {
        // an execution with a non-JSON input is not a release of this model
      }
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return undefined;
}

/**
 * Start a release of the production commit with `trigger: drift`, unless retraining is
 * off, the cooldown since the last drift-triggered release has not passed, or a release
 * of the model is running. The execution name derives from the drift execution, so a
 * retried invocation finds the release the first attempt started.
 */
export async function triggerRetraining(deps: TriggerDeps, input: TriggerInput): Promise<TriggerResult> {
  const production = await readProductionVersion(deps, input.model);
  if (!production) return skip('the model has no production version to retrain');
  const { retraining } = production.record.manifest.drift;
  if (!retraining.enabled) return skip('retraining is disabled in the manifest (drift.retraining.enabled: false)');

  const name = `${input.model}-drift-${sha256Hex(input.executionId).slice(0, 16)}`;
  const executionArn = `${deps.releaseStateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
  const marker = await getJson<RetrainingMarker>(deps.s3, deps.bucket, keys.retraining(input.model));
  if (marker?.value.executionArn === executionArn) return { started: true, executionArn, skippedReason: null };

  const now = deps.now();
  if (marker) {
    const readyAt = Date.parse(marker.value.lastStartedAt) + retraining.cooldown * 1000;
    if (now.getTime() < readyAt) {
      return skip(
        `cooldown: the last drift-triggered release started at ${marker.value.lastStartedAt}; the next may start after ${new Date(readyAt).toISOString()}`,
      );
    }
  }
  const running = await runningRelease(deps, input.model);
  if (running && running !== executionArn) return skip(`a release of ${input.model} is running: ${running}`);

  let arn = executionArn;
  try {
    const out = await deps.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: deps.releaseStateMachineArn,
        name,
        input: JSON.stringify({
          model: input.model,
          commitId: production.record.commitId,
          sourceUri: production.record.source.uri,
          trigger: 'drift',
          reason: input.reason.slice(0, 1000),
        }),
      }),
    );
    arn = out.executionArn ?? executionArn;
  } catch (err) {
    // The first attempt started it and failed before answering: same name, same release.
    if ((err as Error).name !== 'ExecutionAlreadyExists') throw err;
  }
  await putJson(deps.s3, deps.bucket, keys.retraining(input.model), {
    lastStartedAt: now.toISOString(),
    executionArn: arn,
    reason: input.reason,
    run: input.run,
  } satisfies RetrainingMarker);
  return { started: true, executionArn: arn, skippedReason: null };
}
