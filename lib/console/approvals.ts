/**
 * The console's and the CLI's view of approval requests, and the one way they decide one:
 * by asking the DecideApproval function (lambdas/decide-approval/), so "a decision is
 * recorded once, then delivered" is enforced in one place for every client, and no client
 * ever holds a task token or `states:SendTask*`.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { SFNClient } from '@aws-sdk/client-sfn';
import {
  approvalId,
  approvalRecordSchema,
  listApprovals,
  readApproval,
  type ApprovalRecord,
  type ApprovalStatus,
} from '../../lambdas/shared/approvals';
import type { Decider, DecisionResponse } from './decision-client';

export type { ApprovalStatus };

/**
 * An approval request as the console shows it: the stored record, which never holds the task
 * token (that lives under approval-tokens/, which approvers cannot read), with its effective status.
 */
export type PublicApproval = ApprovalRecord;

export interface ApprovalDeps {
  s3: S3Client;
  sfn: SFNClient;
  bucket: string;
  /** The decision function (target.ts). */
  decider: Decider;
}

/** The decision function failed (not a refusal): its error name and message. */
export class DecisionFailedError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name || 'DecisionFailedError';
  }
}

/** An approval id that cannot be one (bad characters, missing part). */
export class InvalidApprovalIdError extends Error {
  constructor(readonly id: string) {
    super(`"${id}" is not an approval id: expected <model>/<executionName>, e.g. delivery-time/release-abc123`);
    this.name = 'InvalidApprovalIdError';
  }
}

export function parseApprovalId(id: string): { model: string; execution: string } {
  // The record module's own id schema: the id can never escape approvals/.
  if (!approvalId.safeParse(id).success) throw new InvalidApprovalIdError(id);
  const [model, execution] = id.split('/') as [string, string];
  return { model, execution };
}

/** Every approval request (newest first, as the approvals module lists them), optionally of one status. */
export function listPublicApprovals(deps: ApprovalDeps, status?: ApprovalStatus): Promise<PublicApproval[]> {
  return listApprovals(deps, { status });
}

/** One approval request, or undefined when there is none. */
export function readPublicApproval(deps: ApprovalDeps, id: string): Promise<PublicApproval | undefined> {
  parseApprovalId(id);
  return readApproval(deps, id);
}

/**
 * How a decision ended, in terms a page, an API and an exit code can all use. A refusal
 * says why in `reason`: `decided` (decided otherwise or by someone else, or expired),
 * `own-change` (the approver authored the change and the model requires another person),
 * `comment-required` (a rejection without a reason).
 */
export type DecisionOutcome =
  | { ok: true; approval: PublicApproval | undefined; repeated: boolean }
  | { ok: false; kind: 'refused' | 'not-found' | 'invalid'; reason?: RefusalReason; message: string };

export type RefusalReason = 'decided' | 'own-change' | 'comment-required';
type Refusal = Pick<Extract<DecisionOutcome, { ok: false }>, 'kind' | 'reason'>;

/**
 * The decision function's refusals by the error class it names (lambdas/shared/errors.ts);
 * the HTTP status alone cannot tell an expired request from the author deciding.
 */
const REFUSAL_OF_ERROR: Readonly<Record<string, Refusal>> = {
  ApprovalAlreadyDecidedError: { kind: 'refused', reason: 'decided' },
  ApprovalExpiredError: { kind: 'refused', reason: 'decided' },
  SeparationOfDutiesError: { kind: 'refused', reason: 'own-change' },
  ApprovalNotFoundError: { kind: 'not-found' },
  InvalidEventError: { kind: 'invalid' },
};

/**
 * Decide through the decision function. Refusals (decided otherwise, expired, the author
 * deciding) and a missing request come back as outcomes, not exceptions; anything else
 * (network, IAM, a failure of the function) throws. The same decision by the same person
 * again is a success (`repeated`), with the recorded outcome.
 */
export async function decide(
  deps: ApprovalDeps,
  input: { id: string; decision: 'approve' | 'reject'; by: string; comment?: string },
): Promise<DecisionOutcome> {
  try {
    parseApprovalId(input.id);
  } catch (err) {
    return { ok: false, kind: 'invalid', message: (err as InvalidApprovalIdError).message };
  }
  const comment = input.comment?.trim() || undefined;
  if (input.decision === 'reject' && !comment) {
    return { ok: false, kind: 'invalid', reason: 'comment-required', message: 'a rejection needs a comment that says why' };
  }
  const res = await deps.decider({ id: input.id, decision: input.decision, by: input.by, comment });
  if (res.ok) {
    const record = approvalRecordSchema.safeParse(res.approval);
    return { ok: true, approval: record.success ? record.data : undefined, repeated: res.repeated === true };
  }
  const refusal = refusalOf(res);
  if (refusal) return { ok: false, ...refusal, message: res.message ?? `${res.error ?? 'error'} (HTTP ${res.status})` };
  throw new DecisionFailedError(res.error ?? `HTTP${res.status}`, res.message ?? `${res.error ?? 'error'} (HTTP ${res.status})`);
}

function refusalOf(res: DecisionResponse): Refusal | undefined {
  const named = res.error ? REFUSAL_OF_ERROR[res.error] : undefined;
  if (named) return named;
  // A function URL's own refusal carries no error class of ours: only its status speaks.
  if (res.status === 409) return { kind: 'refused', reason: 'decided' };
  if (res.status === 404) return { kind: 'not-found' };
  if (res.status === 400) return { kind: 'invalid' };
  return undefined;
}
