import type { S3Client } from '@aws-sdk/client-s3';
import { SendTaskFailureCommand, SendTaskSuccessCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { ApprovalAlreadyDecidedError, ApprovalExpiredError, ApprovalNotFoundError, InvalidEventError } from '../shared/errors';
import { getJson, listObjects, putJsonIf } from '../shared/s3json';
import { approvalId, approvalKey, approvalRecordSchema, type ApprovalOutput, type ApprovalRecord, type ApprovalStatus } from '../shared/approvals';

/**
 * Deciding an approval: the console and `mlship approve|reject` call this with the
 * approver's credentials; IAM (on AWS) or the console's access token (locally) decide who
 * may. A decision is recorded once, then delivered to the waiting execution.
 */

export interface DecideDeps {
  s3: S3Client;
  sfn: SFNClient;
  bucket: string;
  /** @default () => new Date() */
  now?: () => Date;
}

export interface DecideInput {
  /** `<model>/<executionName>` */
  id: string;
  decision: 'approve' | 'reject';
  /** Who decides (an IAM identity or the console user). */
  by: string;
  comment?: string;
}

/** Errors of SendTask* that mean the execution no longer waits for this token. */
const GONE = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);

/**
 * Record the decision on a pending approval and send it to the execution:
 * SendTaskSuccess with `{ approved, by, at, comment }`, or SendTaskFailure with error
 * `ApprovalRejectedError` (the release's Catch routes it to ApprovalRejected).
 *
 * The record is written with `If-Match` and read back, so of two concurrent decisions only
 * one is recorded, also on a store that ignores conditional writes. Repeating the
 * decision that is recorded but was not delivered (a crash in between) delivers it.
 *
 * @throws ApprovalNotFoundError, ApprovalAlreadyDecidedError, ApprovalExpiredError
 */
export async function decideApproval(deps: DecideDeps, input: DecideInput): Promise<ApprovalRecord> {
  const id = approvalId.safeParse(input.id);
  if (!id.success) throw new InvalidEventError(`approval id "${input.id}": ${id.error.issues[0]?.message}`);
  if (!input.by.trim()) throw new InvalidEventError('decision: "by" (the approver) is required');
  const key = approvalKey(input.id);
  const now = (deps.now ?? (() => new Date()))();
  const wanted: ApprovalStatus = input.decision === 'approve' ? 'approved' : 'rejected';

  const current = await getJson(deps.s3, deps.bucket, key, approvalRecordSchema);
  if (!current) throw new ApprovalNotFoundError(`no approval request ${input.id} (s3://${deps.bucket}/${key})`);
  let record = current.value;

  const redelivery = record.status === wanted && record.decision?.by === input.by && !record.decision.delivered;
  if (!redelivery) {
    if (record.status === 'expired') throw new ApprovalExpiredError(`approval ${input.id} expired at ${record.expiresAt}`);
    if (record.status !== 'pending') {
      throw new ApprovalAlreadyDecidedError(`approval ${input.id} was already ${record.status} by ${record.decision?.by ?? 'someone'} at ${record.decision?.at ?? '?'}`);
    }
    if (now.getTime() > Date.parse(record.expiresAt)) {
      await putJsonIf(deps.s3, deps.bucket, key, { ...record, status: 'expired' }, current.etag ? { ifMatch: current.etag } : {});
      throw new ApprovalExpiredError(`approval ${input.id} expired at ${record.expiresAt}`);
    }
    const decided: ApprovalRecord = { ...record, status: wanted, decision: { by: input.by, at: now.toISOString(), comment: input.comment ?? null, delivered: false } };
    const put = await putJsonIf(deps.s3, deps.bucket, key, decided, current.etag ? { ifMatch: current.etag } : {});
    const after = await getJson(deps.s3, deps.bucket, key, approvalRecordSchema);
    const won = put.written && after?.value.status === wanted && after.value.decision?.by === input.by && after.value.decision.at === decided.decision!.at;
    if (!won) {
      throw new ApprovalAlreadyDecidedError(`approval ${input.id} was decided concurrently: ${after?.value.status} by ${after?.value.decision?.by ?? 'someone'}`);
    }
    record = after.value;
  }

  const decision = record.decision!;
  try {
    if (wanted === 'approved') {
      const output: ApprovalOutput = { approved: true, by: decision.by, at: decision.at, comment: decision.comment };
      await deps.sfn.send(new SendTaskSuccessCommand({ taskToken: record.taskToken, output: JSON.stringify(output) }));
    } else {
      await deps.sfn.send(
        new SendTaskFailureCommand({
          taskToken: record.taskToken,
          error: 'ApprovalRejectedError',
          cause: `Rejected by ${decision.by}${decision.comment ? `: ${decision.comment}` : ''}`.slice(0, 32768),
        }),
      );
    }
  } catch (err) {
    if (!GONE.has((err as Error).name)) throw err;
    // The token is spent or timed out. If another decision got recorded meanwhile (a race a
    // store without conditional writes lets through), it is the one that was delivered.
    const latest = await getJson(deps.s3, deps.bucket, key, approvalRecordSchema);
    if (latest && (latest.value.decision?.by !== decision.by || latest.value.decision.at !== decision.at)) {
      throw new ApprovalAlreadyDecidedError(`approval ${input.id} was decided concurrently: ${latest.value.status} by ${latest.value.decision?.by ?? 'someone'}`, { cause: err });
    }
    await putJsonIf(deps.s3, deps.bucket, key, { ...record, status: 'expired' }, latest?.etag ? { ifMatch: latest.etag } : {});
    throw new ApprovalExpiredError(`approval ${input.id}: the release no longer waits for a decision (${(err as Error).name})`, { cause: err });
  }
  const delivered: ApprovalRecord = { ...record, decision: { ...decision, delivered: true } };
  await putJsonIf(deps.s3, deps.bucket, key, delivered, {});
  return delivered;
}

/**
 * The approval requests, newest first. A pending request past its `expiresAt` is listed as
 * `expired` (the release's own timeout records it; this only keeps the view honest).
 */
export async function listApprovals(
  deps: { s3: S3Client; bucket: string; now?: () => Date },
  filter: { status?: ApprovalStatus; model?: string } = {},
): Promise<ApprovalRecord[]> {
  const now = (deps.now ?? (() => new Date()))().getTime();
  const found: ApprovalRecord[] = [];
  const prefix = filter.model ? `approvals/${filter.model}/` : 'approvals/';
  for await (const obj of listObjects(deps.s3, deps.bucket, prefix)) {
    if (!obj.key.endsWith('.json')) continue;
    const doc = await getJson(deps.s3, deps.bucket, obj.key, approvalRecordSchema);
    if (!doc) continue;
    const record = doc.value.status === 'pending' && Date.parse(doc.value.expiresAt) < now ? { ...doc.value, status: 'expired' as const } : doc.value;
    if (!filter.status || record.status === filter.status) found.push(record);
  }
  return found.sort((a, b) => b.requestedAt.localeCompare(a.requestedAt));
}
