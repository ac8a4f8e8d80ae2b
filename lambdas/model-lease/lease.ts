import type { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { DescribeExecutionCommand, StopExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { S3Client } from '@aws-sdk/client-s3';
import { recordReleaseOutcome } from '../record-outcome/record';
import { LeaseWaitTimeoutError, TransientError } from '../shared/errors';
import { readLease, writeLease, type Lease, type LeaseHolder } from '../shared/lease';
import { findVersion, updateVersion, type Trigger } from '../shared/registry';
import type { Stored } from '../shared/s3json';

/**
 * The rule "one release per model at a time" (README, "How a release decides"):
 *
 * - The lease is free, or its holder is no longer RUNNING (crashed, stopped, failed before
 *   RecordOutcome): take it.
 * - The holder started after this release: this release is superseded (it ends honestly in
 *   ReleaseSuperseded; the newer one goes on).
 * - This is a retraining release (`trigger: drift`): it never replaces a running release and
 *   never waits for one. It ends superseded ("skipped"), because it retrains the commit that
 *   was in production when drift was found: run after another release, it would undo that
 *   release's change. The next drift check decides again.
 * - The holder is approved and deploying to production (`phase: production`): wait, polling
 *   in the workflow, at most {@link LEASE_MAX_WAIT_SECONDS} from this execution's start.
 * - Otherwise (the holder is older and has not been approved: building, staging, evaluating,
 *   load-testing or awaiting approval): take the lease from it, stop it
 *   (`StopExecution`, error `ReleaseSuperseded`) and record its outcome as superseded.
 */

/** How long a release may wait behind a production deployment of its model. */
export const LEASE_MAX_WAIT_SECONDS = 24 * 3600;
/** The error a superseded execution is stopped with; also the Fail state's error. */
export const SUPERSEDED_ERROR = 'ReleaseSuperseded';

export interface LeaseTaskDeps {
  s3: S3Client;
  sfn: SFNClient;
  sns: SNSClient;
  /** The superseded release's outcome is mirrored to SageMaker Model Registry (as RecordOutcome does). @default no mirror */
  sagemaker?: SageMakerClient;
  bucket: string;
  topicArn: string;
  now: () => Date;
  /** @default LEASE_MAX_WAIT_SECONDS */
  maxWaitSeconds?: number;
}

export interface LeaseTaskInput {
  model: string;
  version: string;
  commitId: string;
  trigger: Trigger;
  executionId: string;
  executionName: string;
}

/** What the state machine's Choice reads (`$.AcquireLeaseResult`, `$.ClaimProductionResult`). */
export interface LeaseResult {
  status: 'acquired' | 'waiting' | 'superseded' | 'held';
  /** The other release this outcome is about (the holder waited for or superseded by, or the one superseded). */
  holder: string | null;
  /** One line for people: "waiting for …", "superseded by …". */
  detail: string;
}

/** Conditional writes lost in a row before giving the decision back to the state machine's retry. */
const ROUNDS = 6;

function holderOf(input: LeaseTaskInput, at: string): LeaseHolder {
  return {
    executionArn: input.executionId,
    executionName: input.executionName,
    version: input.version,
    commitId: input.commitId,
    trigger: input.trigger,
    phase: 'candidate',
    since: at,
  };
}

/** Status and start of an execution; a deleted or unknown one counts as not running. */
async function describe(deps: LeaseTaskDeps, executionArn: string): Promise<{ status: string; startDate: Date | undefined }> {
  try {
    const d = await deps.sfn.send(new DescribeExecutionCommand({ executionArn }));
    return { status: d.status ?? 'UNKNOWN', startDate: d.startDate };
  } catch (err) {
    if ((err as Error).name === 'ExecutionDoesNotExist') return { status: 'DOES_NOT_EXIST', startDate: undefined };
    throw err;
  }
}

/**
 * AcquireLease: decide by the rule above. Safe to retry: a retry finds the lease its first
 * attempt took, and finishes stopping and recording the release it superseded.
 *
 * @throws LeaseWaitTimeoutError when the wait for a production deployment exceeds the bound
 */
export async function acquireLease(deps: LeaseTaskDeps, input: LeaseTaskInput): Promise<LeaseResult> {
  const self = await describe(deps, input.executionId);
  for (let round = 0; round < ROUNDS; round++) {
    const current = await readLease(deps, input.model);
    const holder = current?.value.holder ?? null;
    const at = deps.now().toISOString();

    if (holder?.executionArn === input.executionId) {
      await settleSuperseded(deps, input, current!.value);
      return { status: 'acquired', holder: null, detail: 'holds the lease' };
    }
    if (!holder) {
      if (await take(deps, input, current, at, null)) return { status: 'acquired', holder: null, detail: 'took the free lease' };
      continue;
    }
    const other = await describe(deps, holder.executionArn);
    if (other.status !== 'RUNNING') {
      const detail = `${holder.executionName} ended ${other.status} without releasing the lease`;
      if (
        await take(deps, input, current, at, { executionArn: holder.executionArn, version: holder.version, how: 'taken-over', at, detail })
      ) {
        return { status: 'acquired', holder: holder.executionName, detail: `took over the lease: ${detail}` };
      }
      continue;
    }
    // Start time decides which is newer; two started in the same millisecond are ordered by
    // ARN, so both sides of a race agree on it.
    const newer =
      other.startDate && self.startDate
        ? other.startDate.getTime() > self.startDate.getTime() ||
          (other.startDate.getTime() === self.startDate.getTime() && holder.executionArn > input.executionId)
        : false;
    if (newer) {
      return {
        status: 'superseded',
        holder: holder.executionName,
        detail: `superseded by ${holder.executionName} (${holder.version}), a newer release of ${input.model}`,
      };
    }
    if (input.trigger === 'drift') {
      return {
        status: 'superseded',
        holder: holder.executionName,
        detail: `skipped: ${holder.executionName} (a ${holder.trigger} release of ${input.model}) is running, and a retraining release never replaces or waits for one`,
      };
    }
    if (holder.phase === 'production') {
      const waited = (deps.now().getTime() - (self.startDate ?? deps.now()).getTime()) / 1000;
      const bound = deps.maxWaitSeconds ?? LEASE_MAX_WAIT_SECONDS;
      if (waited > bound) {
        throw new LeaseWaitTimeoutError(
          `waited ${Math.round(waited)} s (bound ${bound} s) for ${holder.executionName}, which is still deploying ${holder.version} to production`,
        );
      }
      const detail = `waiting for ${holder.executionName}, which is deploying ${holder.version} to production`;
      await noteWaiting(deps, input, holder, detail);
      return { status: 'waiting', holder: holder.executionName, detail };
    }
    const detail = `superseded by ${input.executionName} (${input.version}), a newer release of ${input.model}`;
    if (
      await take(deps, input, current, at, { executionArn: holder.executionArn, version: holder.version, how: 'superseded', at, detail })
    ) {
      const next = (await readLease(deps, input.model))?.value;
      if (next) await settleSuperseded(deps, input, next);
      return {
        status: 'acquired',
        holder: holder.executionName,
        detail: `superseded ${holder.executionName} (${holder.version}), which had not been approved`,
      };
    }
  }
  throw new TransientError(`the lease of ${input.model} kept changing while ${input.executionName} tried to take it`);
}

/**
 * ClaimProduction: after the approval, move this release's lease to `production`, so no newer
 * push can supersede it mid-deployment. Superseded when another release took the lease first.
 */
export async function claimProduction(deps: LeaseTaskDeps, input: LeaseTaskInput): Promise<LeaseResult> {
  for (let round = 0; round < ROUNDS; round++) {
    const current = await readLease(deps, input.model);
    const holder = current?.value.holder ?? null;
    if (!current || holder?.executionArn !== input.executionId) {
      const by = holder?.executionName ?? null;
      return {
        status: 'superseded',
        holder: by,
        detail: by
          ? `superseded by ${by} (${holder!.version}) before deploying to production`
          : `lost the lease of ${input.model} before deploying to production`,
      };
    }
    if (holder.phase === 'production') return { status: 'held', holder: null, detail: 'deploying to production' };
    const at = deps.now().toISOString();
    if (await writeLease(deps, current, { ...current.value, holder: { ...holder, phase: 'production', since: at }, updatedAt: at })) {
      return { status: 'held', holder: null, detail: 'deploying to production' };
    }
  }
  throw new TransientError(`the lease of ${input.model} kept changing while ${input.executionName} claimed production`);
}

async function take(
  deps: LeaseTaskDeps,
  input: LeaseTaskInput,
  current: Stored<Lease> | undefined,
  at: string,
  last: Lease['last'],
): Promise<boolean> {
  const won = await writeLease(deps, current, {
    model: input.model,
    holder: holderOf(input, at),
    last: last ?? current?.value.last ?? null,
    updatedAt: at,
  });
  if (won && (await findVersion(deps, input.model, input.version))?.value.waitingFor) {
    await updateVersion(deps, input.model, input.version, (r) => ({ ...r, waitingFor: null }), deps.now);
  }
  return won;
}

/**
 * Stop the release this one superseded and record its outcome, unless it already ended on
 * its own (then its own RecordOutcome told the story). Idempotent, for retries.
 */
async function settleSuperseded(deps: LeaseTaskDeps, input: LeaseTaskInput, lease: Lease): Promise<void> {
  const last = lease.last;
  if (!last || last.how !== 'superseded' || lease.holder?.executionArn !== input.executionId) return;
  const cause = last.detail ?? `superseded by ${input.executionName}`;
  const other = await describe(deps, last.executionArn);
  if (other.status === 'RUNNING') {
    await deps.sfn.send(new StopExecutionCommand({ executionArn: last.executionArn, error: SUPERSEDED_ERROR, cause }));
  } else if (other.status !== 'ABORTED') {
    return;
  }
  const record = await findVersion(deps, input.model, last.version);
  if (!record || record.value.outcome) return;
  await recordReleaseOutcome(deps, {
    outcome: 'superseded',
    state: {
      model: input.model,
      commitId: record.value.commitId,
      trigger: record.value.trigger,
      PrepareReleaseResult: { version: last.version },
      error: { Error: SUPERSEDED_ERROR, Cause: cause },
    },
    executionId: last.executionArn,
    executionName: record.value.execution.name,
  });
}

/** Record on this release's version what it waits for, and notify once per holder. */
async function noteWaiting(deps: LeaseTaskDeps, input: LeaseTaskInput, holder: LeaseHolder, detail: string): Promise<void> {
  const before = await findVersion(deps, input.model, input.version);
  if (before?.value.waitingFor?.executionArn === holder.executionArn) return;
  await updateVersion(
    deps,
    input.model,
    input.version,
    (r, at) => ({ ...r, waitingFor: { executionArn: holder.executionArn, executionName: holder.executionName, since: at } }),
    deps.now,
  );
  await deps.sns.send(
    new PublishCommand({
      TopicArn: deps.topicArn,
      Subject: `mlship: ${input.model} ${input.version} waiting`.slice(0, 100),
      Message: [
        `Release of ${input.model} ${input.version}: ${detail}. It goes on when that release ends.`,
        `Execution: ${input.executionId}`,
      ].join('\n'),
      MessageAttributes: {
        event: { DataType: 'String', StringValue: 'release-waiting' },
        model: { DataType: 'String', StringValue: input.model },
      },
    }),
  );
}
