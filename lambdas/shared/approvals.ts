import type { S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod';
import { MODEL_NAME_PATTERN } from '../../lib/config/names';
import { getJson, listObjects } from './s3json';

/**
 * The one approvals module: the record and its schema, its keys, expiry, and reading and
 * listing requests. RequestApproval records with it, DecideApproval decides against it, and
 * the console and the CLI list and read through it; deciding is DecideApproval's alone
 * (lambdas/decide-approval/), as it holds the task tokens.
 *
 * The approval documents in the artifact bucket:
 *
 * - `approvals/<model>/<executionName>.json`, the request and its decision: written by
 *   RequestApproval and by the decision function, read by approvers (console, CLI). It never
 *   holds the task token.
 * - `approval-tokens/<model>/<executionName>.json`, the task token: written by
 *   RequestApproval, read only by the decision function. No approver grant reaches this
 *   prefix (lib/infra/constructs/approver-policy.ts); the local edge refuses it too
 *   (lib/local/core/access.ts). Whoever could read a token could answer the task directly,
 *   past the record and its checks.
 * - `audit/approvals/<model>/<executionName>/<at>-<id>.json`, one object per decision,
 *   repeat, refusal and delivery, each created with `If-None-Match: *`, so none is ever
 *   replaced: the append-only audit.
 */

/** Who made the change under approval (the commit's author), when the release knows it. */
export const authorSchema = z.object({ name: z.string(), email: z.string() });
export type Author = z.output<typeof authorSchema>;

export const approvalRecordSchema = z.object({
  id: z.string(),
  model: z.string(),
  version: z.string(),
  executionArn: z.string(),
  requestedAt: z.string(),
  expiresAt: z.string(),
  reportLinks: z.object({ html: z.string(), json: z.string(), validation: z.string(), loadTest: z.string() }),
  summary: z.object({ metrics: z.record(z.string(), z.number()), validationOk: z.boolean(), loadTestOk: z.boolean() }),
  /** The commit's author; null when the release does not know it (see the manifest's `approval.separationOfDuties`). */
  author: authorSchema.nullable().default(null),
  /** The manifest's `approval.separationOfDuties` when the request was made. */
  separationOfDuties: z.boolean().default(true),
  status: z.enum(['pending', 'approved', 'rejected', 'expired']),
  decision: z
    .object({
      by: z.string(),
      at: z.string(),
      comment: z.string().nullable(),
      /** Set when SendTaskSuccess/SendTaskFailure went through. */
      delivered: z.boolean().default(false),
      /**
       * When the current delivery attempt started; null when none runs. Only the writer of
       * this field delivers, so one decision is sent once; a stale attempt (its function
       * died) may be taken over after {@link DELIVERY_LEASE_MS}.
       */
      deliveringSince: z.string().nullable().default(null),
    })
    .optional(),
  /** Why the request ended without its decision reaching the execution (e.g. the task timed out first). */
  note: z.string().nullable().default(null),
});

export type ApprovalRecord = z.output<typeof approvalRecordSchema>;
export type ApprovalStatus = ApprovalRecord['status'];

/** The task token of a pending request; only RequestApproval writes it, only the decision function reads it. */
export const approvalTokenSchema = z.object({
  id: z.string(),
  executionArn: z.string(),
  taskToken: z.string().min(1),
  issuedAt: z.string(),
});
export type ApprovalToken = z.output<typeof approvalTokenSchema>;

/** `<model>/<executionName>`: both parts are names, so the id can never escape its prefix. */
export const approvalId = z
  .string()
  .regex(
    new RegExp(`${MODEL_NAME_PATTERN.source.slice(0, -1)}\\/(?!\\.+$)[A-Za-z0-9._-]{1,80}$`),
    'an approval id "<model>/<executionName>"',
  );

export const APPROVAL_PREFIX = 'approvals/';
export const APPROVAL_TOKEN_PREFIX = 'approval-tokens/';
export const APPROVAL_AUDIT_PREFIX = 'audit/approvals/';

export const approvalKey = (id: string): string => `${APPROVAL_PREFIX}${id}.json`;
export const approvalTokenKey = (id: string): string => `${APPROVAL_TOKEN_PREFIX}${id}.json`;
export const approvalAuditPrefix = (id: string): string => `${APPROVAL_AUDIT_PREFIX}${id}/`;

/**
 * How long a delivery attempt holds the right to deliver: twice the decision function's
 * timeout (lib/tasks.ts), so an attempt still running is never taken over.
 */
export const DELIVERY_LEASE_MS = 60_000;

/** When a request made at `requestedAt` with the workflow's TimeoutSeconds expires: the one place expiry is computed. */
export function expiryOf(requestedAt: Date, timeoutSeconds: number): string {
  return new Date(requestedAt.getTime() + timeoutSeconds * 1000).toISOString();
}

/**
 * The status a request has at `now`: the stored one, except that a pending request whose
 * `expiresAt` has passed is expired (Step Functions times the task out at that instant).
 * The one comparison of expiry (decision, listing, console, CLI).
 */
export function effectiveStatus(record: Pick<ApprovalRecord, 'status' | 'expiresAt'>, now: Date): ApprovalStatus {
  if (record.status !== 'pending') return record.status;
  const expires = Date.parse(record.expiresAt);
  return Number.isFinite(expires) && now.getTime() >= expires ? 'expired' : 'pending';
}

/** Where approval requests are read from. */
export interface ApprovalReadDeps {
  s3: S3Client;
  bucket: string;
  /** @default () => new Date() */
  now?: () => Date;
}

/** One request with its effective status, or undefined when there is none (or it is not a record). */
export async function readApproval(deps: ApprovalReadDeps, id: string): Promise<ApprovalRecord | undefined> {
  const doc = await getJson(deps.s3, deps.bucket, approvalKey(id), approvalRecordSchema);
  if (!doc) return undefined;
  return { ...doc.value, status: effectiveStatus(doc.value, (deps.now ?? (() => new Date()))()) };
}

/**
 * The approval requests, newest first, with their effective status (a pending request past
 * its `expiresAt` is listed as `expired`; the release's own timeout records it, this only
 * keeps the view honest).
 */
export async function listApprovals(
  deps: ApprovalReadDeps,
  filter: { status?: ApprovalStatus; model?: string } = {},
): Promise<ApprovalRecord[]> {
  const now = (deps.now ?? (() => new Date()))();
  const found: ApprovalRecord[] = [];
  const prefix = filter.model ? `${APPROVAL_PREFIX}${filter.model}/` : APPROVAL_PREFIX;
  for await (const obj of listObjects(deps.s3, deps.bucket, prefix)) {
    if (!obj.key.endsWith('.json')) continue;
    const doc = await getJson(deps.s3, deps.bucket, obj.key, approvalRecordSchema);
    if (!doc) continue;
    const record = { ...doc.value, status: effectiveStatus(doc.value, now) };
    if (!filter.status || record.status === filter.status) found.push(record);
  }
  return found.sort((a, b) => b.requestedAt.localeCompare(a.requestedAt));
}

/** What SendTaskSuccess hands the workflow (RequestApprovalResult). */
export interface ApprovalOutput {
  approved: true;
  by: string;
  at: string;
  comment: string | null;
}

/** One audit entry. */
export interface ApprovalAuditEntry {
  id: string;
  at: string;
  /** The identity that asked (IAM ARN on AWS, the asserted name locally). */
  by: string;
  decision: 'approve' | 'reject' | null;
  /**
   * `decided`: this request's decision was recorded; `repeated`: the same decision by the
   * same person again (answered with the recorded outcome); `refused`: not recorded (see
   * `reason`); `delivered` / `delivery-failed` / `expired`: what became of the recorded
   * decision at Step Functions.
   */
  event: 'decided' | 'repeated' | 'refused' | 'delivered' | 'delivery-failed' | 'expired';
  reason: string | null;
  comment: string | null;
  /** The request's status after this event. */
  status: ApprovalStatus | null;
}
