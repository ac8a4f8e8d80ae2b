import { randomUUID } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import {
  approvalAuditPrefix,
  approvalId,
  approvalKey,
  approvalRecordSchema,
  approvalTokenKey,
  approvalTokenSchema,
  DELIVERY_LEASE_MS,
  effectiveStatus,
  type ApprovalAuditEntry,
  type ApprovalOutput,
  type ApprovalRecord,
  type ApprovalStatus,
  type Author,
} from '../shared/approvals';
import {
  ApprovalAlreadyDecidedError,
  ApprovalExpiredError,
  ApprovalNotFoundError,
  InvalidEventError,
  SeparationOfDutiesError,
  TransientError,
} from '../shared/errors';
import { getJson, putJsonIf, type Stored } from '../shared/s3json';

/**
 * The decision on an approval request, as the DecideApproval function makes it. Approvers
 * reach it only through that function (console, `mlship approve|reject`), which is the only
 * holder of the task token and of `states:SendTask*`.
 *
 * Order of work, so that the record always says what the execution received:
 * 1. the decision is recorded with a conditional write (`If-Match` on the pending record),
 *    which also claims the right to deliver it (`deliveringSince`); of concurrent decisions
 *    exactly one write succeeds;
 * 2. only then is it sent (SendTaskSuccess / SendTaskFailure with the token from
 *    `approval-tokens/`), and the record marked delivered;
 * 3. a decision that finds the request decided gets the recorded outcome: the same decision
 *    by the same person is a repeat (answered as a success, and it finishes a delivery whose
 *    attempt died), anything else is refused. If the execution stopped waiting (the task
 *    timed out), the record says expired.
 * Every decision, repeat, refusal and delivery is appended to the audit.
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
  /** Who decides: the caller's IAM identity on AWS, the asserted name locally. Never taken from the request body on AWS. */
  by: string;
  comment?: string;
}

export interface DecideResult {
  record: ApprovalRecord;
  /** true when the same person had already made the same decision (nothing new was recorded). */
  repeated: boolean;
}

/** Errors of SendTask* that mean the token is no longer waiting for an answer. */
const GONE = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);
/** How many times a lost conditional write is re-read before giving up (transient). */
const MAX_ROUNDS = 6;

/**
 * Whether an approver identity names the commit's author. The identity is an IAM ARN on
 * AWS (`arn:aws:sts::<account>:assumed-role/<role>/<session>`, `arn:aws:iam::<account>:user/<name>`)
 * or a name locally; its last segment is compared, case-insensitively, with the author's
 * email, the email's local part and the author's name.
 */
export function isAuthor(by: string, author: Author): boolean {
  const norm = (s: string) => s.trim().toLowerCase();
  const last = by.split(/[/:]/).at(-1) ?? by;
  const who = new Set([norm(by), norm(last)].filter(Boolean));
  const email = norm(author.email);
  const names = [email, email.split('@')[0] ?? '', norm(author.name)].filter(Boolean);
  return names.some((n) => who.has(n));
}

/**
 * Decide a request. See the module comment for the order of work.
 * @throws InvalidEventError (bad id, no approver), ApprovalNotFoundError,
 *   ApprovalAlreadyDecidedError (decided otherwise or by someone else), ApprovalExpiredError,
 *   SeparationOfDutiesError; a transient failure as the SDK's error or TransientError
 */
export async function decideApproval(deps: DecideDeps, input: DecideInput): Promise<DecideResult> {
  const id = approvalId.safeParse(input.id);
  if (!id.success) throw new InvalidEventError(`approval id "${input.id}": ${id.error.issues[0]?.message}`);
  const by = input.by.trim();
  if (!by) throw new InvalidEventError('decision: the approver identity is required');
  const now = () => (deps.now ?? (() => new Date()))();
  const wanted: ApprovalStatus = input.decision === 'approve' ? 'approved' : 'rejected';
  const comment = input.comment?.trim() || null;
  const key = approvalKey(input.id);
  const audit = (event: ApprovalAuditEntry['event'], status: ApprovalStatus | null, reason: string | null = null) =>
    appendAudit(deps, { id: input.id, at: now().toISOString(), by, decision: input.decision, event, reason, comment, status });

  for (let round = 0; round < MAX_ROUNDS; round++) {
    const current = await getJson(deps.s3, deps.bucket, key, approvalRecordSchema);
    if (!current) {
      await audit('refused', null, 'no such request');
      throw new ApprovalNotFoundError(`no approval request ${input.id} (s3://${deps.bucket}/${key})`);
    }
    const record = current.value;
    if (record.decision && (record.status === 'approved' || record.status === 'rejected')) {
      if (record.status === wanted && record.decision.by === by) {
        await audit('repeated', record.status, `already ${record.status} by this approver at ${record.decision.at}`);
        return { record: await finishDelivery(deps, current, audit), repeated: true };
      }
      const reason = `already ${record.status} by ${record.decision.by} at ${record.decision.at}`;
      await audit('refused', record.status, reason);
      throw new ApprovalAlreadyDecidedError(`approval ${input.id} was ${reason}; a request is decided once`);
    }
    const status = effectiveStatus(record, now());
    if (status !== 'pending') {
      const reason = status === 'expired' ? `expired at ${record.expiresAt}` : `is ${status}`;
      await audit('refused', status, reason);
      throw new ApprovalExpiredError(`approval ${input.id} ${reason}; it can no longer be decided`);
    }
    if (record.separationOfDuties && record.author && isAuthor(by, record.author)) {
      const reason = `${by} is the author of the change (${record.author.name} <${record.author.email}>); separationOfDuties is on`;
      await audit('refused', status, reason);
      throw new SeparationOfDutiesError(`approval ${input.id}: ${reason}, so another person must decide`);
    }
    const at = now().toISOString();
    const decided: ApprovalRecord = { ...record, status: wanted, decision: { by, at, comment, delivered: false, deliveringSince: at } };
    // The record names the decision before anything reaches the execution: if this write
    // loses, another decision was recorded first, and the next round answers with it.
    const put = await putJsonIf(deps.s3, deps.bucket, key, decided, current.etag ? { ifMatch: current.etag } : { ifNoneMatch: '*' });
    if (!put.written) continue;
    await audit('decided', wanted);
    return { record: await deliver(deps, { value: decided, etag: put.etag }, audit), repeated: false };
  }
  throw new TransientError(`approval ${input.id} kept changing while being decided; try again`);
}

type Audit = (event: ApprovalAuditEntry['event'], status: ApprovalStatus | null, reason?: string | null) => Promise<void>;

/**
 * A repeat found the decision recorded: deliver it if no live attempt does (the attempt that
 * recorded it died, or failed and let go); otherwise answer with the record as it is.
 */
async function finishDelivery(deps: DecideDeps, current: Stored<ApprovalRecord>, audit: Audit): Promise<ApprovalRecord> {
  const decision = current.value.decision!;
  if (decision.delivered) return current.value;
  const now = (deps.now ?? (() => new Date()))();
  const since = decision.deliveringSince ? Date.parse(decision.deliveringSince) : Number.NaN;
  if (Number.isFinite(since) && now.getTime() - since < DELIVERY_LEASE_MS) return current.value;
  const claimed: ApprovalRecord = { ...current.value, decision: { ...decision, deliveringSince: now.toISOString() } };
  const put = await putJsonIf(deps.s3, deps.bucket, approvalKey(current.value.id), claimed, { ifMatch: current.etag ?? '*' });
  if (!put.written)
    return (await getJson(deps.s3, deps.bucket, approvalKey(current.value.id), approvalRecordSchema))?.value ?? current.value;
  return deliver(deps, { value: claimed, etag: put.etag }, audit);
}

/** Send the recorded decision; the caller holds the delivery claim (`deliveringSince`). */
async function deliver(deps: DecideDeps, held: Stored<ApprovalRecord>, audit: Audit): Promise<ApprovalRecord> {
  const record = held.value;
  const decision = record.decision!;
  let sentWith: string | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    const token = await getJson(deps.s3, deps.bucket, approvalTokenKey(record.id), approvalTokenSchema);
    if (!token) return settle(deps, held, { note: 'the request has no task token, so the decision cannot reach the release' }, audit);
    // A retry of RequestApproval renews the token; a send that found the old one gone tries the new one.
    if (token.value.taskToken === sentWith) break;
    sentWith = token.value.taskToken;
    try {
      await send(deps.sfn, token.value.taskToken, record.status, decision);
      return settle(deps, held, { delivered: true }, audit);
    } catch (err) {
      if (!GONE.has((err as Error).name)) {
        // Let go of the claim so that a repeat can deliver at once, and keep the error's name for the caller.
        await settle(deps, held, { released: true }, audit, `${(err as Error).name}: ${(err as Error).message}`).catch(() => undefined);
        throw err;
      }
      if ((err as Error).name === 'TaskTimedOut') {
        return settle(deps, held, { note: 'the approval timed out before the decision reached the release' }, audit);
      }
    }
  }
  // The token is spent and was not renewed: an earlier attempt of this very decision may have
  // answered it and died before saying so. The release's history says what it received.
  if (await releaseReceived(deps.sfn, record.executionArn, record.status, decision)) return settle(deps, held, { delivered: true }, audit);
  return settle(deps, held, { note: 'the release ended before the decision reached it' }, audit);
}

async function send(
  sfn: SFNClient,
  taskToken: string,
  status: ApprovalStatus,
  decision: NonNullable<ApprovalRecord['decision']>,
): Promise<void> {
  if (status === 'approved') {
    const output: ApprovalOutput = { approved: true, by: decision.by, at: decision.at, comment: decision.comment };
    await sfn.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) }));
  } else {
    await sfn.send(
      new SendTaskFailureCommand({
        taskToken,
        error: 'ApprovalRejectedError',
        cause: `Rejected by ${decision.by}${decision.comment ? `: ${decision.comment}` : ''}`.slice(0, 32768),
      }),
    );
  }
}

/**
 * Whether the release received this decision. Only recorded decisions are ever sent, and the
 * token is readable by nothing else, so a release that still runs past a spent token got it;
 * one that ended got it if its history has the task answered with it.
 */
async function releaseReceived(
  sfn: SFNClient,
  executionArn: string,
  status: ApprovalStatus,
  decision: NonNullable<ApprovalRecord['decision']>,
): Promise<boolean> {
  if ((await sfn.send(new DescribeExecutionCommand({ executionArn }))).status === 'RUNNING') return true;
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 1000, nextToken }));
    for (const e of page.events ?? []) {
      if (status === 'approved' && e.type === 'TaskSucceeded') {
        try {
          const out = JSON.parse(e.taskSucceededEventDetails?.output ?? '') as Partial<ApprovalOutput>;
          if (out.approved === true && out.by === decision.by && out.at === decision.at) return true;
        } catch {
          // another task's output
        }
      }
      if (
        status === 'rejected' &&
        e.type === 'TaskFailed' &&
        e.taskFailedEventDetails?.error === 'ApprovalRejectedError' &&
        e.taskFailedEventDetails.cause?.startsWith(`Rejected by ${decision.by}`)
      )
        return true;
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return false;
}

/**
 * Write what became of the delivery. Only the claim holder writes here, but RecordOutcome may
 * mark the request expired meanwhile (the timeout won), so the write is conditional and re-read.
 */
async function settle(
  deps: DecideDeps,
  held: Stored<ApprovalRecord>,
  outcome: { delivered?: true; released?: true; note?: string },
  audit: Audit,
  failure?: string,
): Promise<ApprovalRecord> {
  const key = approvalKey(held.value.id);
  let current: Stored<ApprovalRecord> | undefined = held;
  for (let round = 0; round < MAX_ROUNDS && current; round++) {
    const base = current.value;
    const decision = base.decision!;
    const next: ApprovalRecord = outcome.delivered
      ? { ...base, decision: { ...decision, delivered: true, deliveringSince: null } }
      : outcome.released
        ? { ...base, decision: { ...decision, deliveringSince: null } }
        : { ...base, status: 'expired', decision: { ...decision, delivered: false, deliveringSince: null }, note: outcome.note ?? null };
    const put = await putJsonIf(deps.s3, deps.bucket, key, next, current.etag ? { ifMatch: current.etag } : {});
    if (put.written) {
      await audit(
        outcome.delivered ? 'delivered' : outcome.released ? 'delivery-failed' : 'expired',
        next.status,
        failure ?? outcome.note ?? null,
      );
      if (outcome.note) throw new ApprovalExpiredError(`approval ${base.id}: ${outcome.note}`);
      return next;
    }
    current = await getJson(deps.s3, deps.bucket, key, approvalRecordSchema);
  }
  throw new TransientError(`s3://${deps.bucket}/${key} kept changing while the delivery was recorded`);
}

/** Append one audit entry: a new object per entry, created only if absent, so none is ever replaced. */
export async function appendAudit(deps: { s3: S3Client; bucket: string }, entry: ApprovalAuditEntry): Promise<void> {
  const key = `${approvalAuditPrefix(entry.id)}${entry.at.replace(/[:.]/g, '-')}-${randomUUID()}.json`;
  const put = await putJsonIf(deps.s3, deps.bucket, key, entry, { ifNoneMatch: '*' });
  if (!put.written) throw new TransientError(`audit entry s3://${deps.bucket}/${key} already exists`);
}
