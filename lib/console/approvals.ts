/**
 * The console's and the CLI's view of approval requests, and the one way they decide one:
 * by asking the DecideApproval function (lambdas/decide-approval/), so "a decision is
 * recorded once, then delivered" is enforced in one place for every client, and no client
 * ever holds a task token or `states:SendTask*`.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { listApprovals } from '../../lambdas/request-approval/decide';
import { approvalId, effectiveStatus, type ApprovalStatus as StoredStatus } from '../../lambdas/shared/approvals';
import type { Decider } from './decision-client';
import { redactTokens, type TokenGuard } from './redact';

export type ApprovalStatus = 'pending' | 'approved' | 'rejected' | 'expired';

/** An approval request as the console shows it: the record without its task token. */
export interface PublicApproval {
  id: string;
  model: string;
  version: string;
  executionArn?: string;
  requestedAt?: string;
  expiresAt?: string;
  /** The stored status, except that a pending request past its expiry shows as expired. */
  status: ApprovalStatus;
  reportLinks: { html?: string; json?: string; validation?: string; loadTest?: string };
  summary: { metrics?: Record<string, unknown>; validationOk?: boolean; loadTestOk?: boolean } & Record<string, unknown>;
  decision?: { by?: string; at?: string; comment?: string; delivered?: boolean };
  /** The commit's author, when the release knows it. */
  author?: { name?: string; email?: string } | null;
  /** Why the request ended without its decision reaching the release, if it did. */
  note?: string | null;
}

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

/** Strip the task token (remembering it in the guard) and normalise the status. */
export function toPublic(record: Record<string, unknown>, guard?: TokenGuard, now = new Date()): PublicApproval {
  guard?.remember(record.taskToken);
  const clean = redactTokens(record, guard?.known) as Record<string, unknown>;
  delete clean.taskToken;
  const stored = String(clean.status ?? 'pending') as StoredStatus;
  const expiresAt = typeof clean.expiresAt === 'string' ? clean.expiresAt : undefined;
  const status = expiresAt === undefined ? stored : effectiveStatus({ status: stored, expiresAt }, now);
  return {
    id: String(clean.id ?? `${clean.model}/${String(clean.executionArn ?? '').split(':').at(-1)}`),
    model: String(clean.model ?? ''),
    version: String(clean.version ?? ''),
    executionArn: typeof clean.executionArn === 'string' ? clean.executionArn : undefined,
    requestedAt: typeof clean.requestedAt === 'string' ? clean.requestedAt : undefined,
    expiresAt,
    status,
    reportLinks: (clean.reportLinks ?? {}) as PublicApproval['reportLinks'],
    summary: (clean.summary ?? {}) as PublicApproval['summary'],
    decision: clean.decision as PublicApproval['decision'],
    author: (clean.author ?? null) as PublicApproval['author'],
    note: typeof clean.note === 'string' ? clean.note : null,
  };
}

/** Every approval request (newest first), optionally of one status, without task tokens. */
export async function listPublicApprovals(deps: ApprovalDeps, guard?: TokenGuard, status?: ApprovalStatus): Promise<PublicApproval[]> {
  const records = (await listApprovals(deps, {})) as unknown as Record<string, unknown>[];
  const all = records.map((r) => toPublic(r, guard));
  return all
    .filter((a) => !status || a.status === status)
    .sort((a, b) => String(b.requestedAt ?? '').localeCompare(String(a.requestedAt ?? '')));
}

/** How a decision ended, in terms a page, an API and an exit code can all use. */
export type DecisionOutcome =
  | { ok: true; approval: PublicApproval | undefined; repeated?: boolean }
  | { ok: false; kind: 'refused' | 'not-found' | 'invalid'; message: string };

/**
 * Decide through the decision function. Refusals (decided otherwise, expired, the author
 * deciding) and a missing request come back as outcomes, not exceptions; anything else
 * (network, IAM, a failure of the function) throws. The same decision by the same person
 * again is a success (`repeated`), with the recorded outcome.
 */
export async function decide(
  deps: ApprovalDeps,
  input: { id: string; decision: 'approve' | 'reject'; by: string; comment?: string },
  guard?: TokenGuard,
): Promise<DecisionOutcome> {
  try {
    parseApprovalId(input.id);
  } catch (err) {
    return { ok: false, kind: 'invalid', message: (err as Error).message };
  }
  const comment = input.comment?.trim() || undefined;
  if (input.decision === 'reject' && !comment) {
    return { ok: false, kind: 'invalid', message: 'a rejection needs a comment that says why' };
  }
  const res = await deps.decider({ id: input.id, decision: input.decision, by: input.by, comment });
  if (res.ok) {
    const record = res.approval && typeof res.approval === 'object' && 'model' in res.approval ? res.approval : undefined;
    return { ok: true, approval: record ? toPublic(record, guard) : undefined, repeated: res.repeated === true };
  }
  const message = res.message ?? `${res.error ?? 'error'} (HTTP ${res.status})`;
  if (res.status === 409 || res.error === 'SeparationOfDutiesError') return { ok: false, kind: 'refused', message };
  if (res.status === 404) return { ok: false, kind: 'not-found', message };
  if (res.status === 400) return { ok: false, kind: 'invalid', message };
  throw new DecisionFailedError(res.error ?? `HTTP${res.status}`, message);
}
