/**
 * The console's and the CLI's view of approval requests, and the one way they decide one:
 * through the decide module the approval task owns (lambdas/request-approval/decide.ts), so
 * "a decision is recorded once" is enforced in one place for every client.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { decideApproval, listApprovals } from '../../lambdas/request-approval/decide';
import { approvalId } from '../../lambdas/shared/approvals';
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
  decision?: { by?: string; at?: string; comment?: string };
}

export interface ApprovalDeps {
  s3: S3Client;
  sfn: SFNClient;
  bucket: string;
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
  const stored = String(clean.status ?? 'pending') as ApprovalStatus;
  const expiresAt = typeof clean.expiresAt === 'string' ? clean.expiresAt : undefined;
  const expired = stored === 'pending' && expiresAt !== undefined && Date.parse(expiresAt) <= now.getTime();
  return {
    id: String(clean.id ?? `${clean.model}/${String(clean.executionArn ?? '').split(':').at(-1)}`),
    model: String(clean.model ?? ''),
    version: String(clean.version ?? ''),
    executionArn: typeof clean.executionArn === 'string' ? clean.executionArn : undefined,
    requestedAt: typeof clean.requestedAt === 'string' ? clean.requestedAt : undefined,
    expiresAt,
    status: expired ? 'expired' : stored,
    reportLinks: (clean.reportLinks ?? {}) as PublicApproval['reportLinks'],
    summary: (clean.summary ?? {}) as PublicApproval['summary'],
    decision: clean.decision as PublicApproval['decision'],
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
  | { ok: true; approval: PublicApproval | undefined }
  | { ok: false; kind: 'refused' | 'not-found' | 'invalid'; message: string };

/**
 * Decide through the decide module. Refusals (already decided, expired) and a missing
 * request come back as outcomes, not exceptions; anything else (network, IAM) throws.
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
  try {
    const result = (await decideApproval(deps, { ...input, comment })) as unknown;
    const record = result && typeof result === 'object' && 'model' in result ? (result as Record<string, unknown>) : undefined;
    return { ok: true, approval: record ? toPublic(record, guard) : undefined };
  } catch (err) {
    const name = (err as Error)?.name ?? '';
    const message = (err as Error)?.message ?? String(err);
    if (/AlreadyDecided|Expired|TaskTimedOut|InvalidToken|TaskDoesNotExist/.test(name)) return { ok: false, kind: 'refused', message };
    if (/NotFound|NoSuchKey/.test(name)) return { ok: false, kind: 'not-found', message };
    if (/Invalid|Validation|ZodError/.test(name)) return { ok: false, kind: 'invalid', message };
    throw err;
  }
}
