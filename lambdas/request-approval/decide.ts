import type { S3Client } from '@aws-sdk/client-s3';
import { listObjects, getJson } from '../shared/s3json';
import { approvalRecordSchema, effectiveStatus, type ApprovalRecord, type ApprovalStatus } from '../shared/approvals';

/**
 * Reading approval requests, for the console and `mlship approvals`. Deciding one is the
 * DecideApproval function's job alone (lambdas/decide-approval/): it holds the task tokens.
 */

/**
 * The approval requests, newest first. A pending request past its `expiresAt` is listed as
 * `expired` (the release's own timeout records it; this only keeps the view honest).
 */
export async function listApprovals(
  deps: { s3: S3Client; bucket: string; now?: () => Date },
  filter: { status?: ApprovalStatus; model?: string } = {},
): Promise<ApprovalRecord[]> {
  const now = (deps.now ?? (() => new Date()))();
  const found: ApprovalRecord[] = [];
  const prefix = filter.model ? `approvals/${filter.model}/` : 'approvals/';
  for await (const obj of listObjects(deps.s3, deps.bucket, prefix)) {
    if (!obj.key.endsWith('.json')) continue;
    const doc = await getJson(deps.s3, deps.bucket, obj.key, approvalRecordSchema);
    if (!doc) continue;
    const record = { ...doc.value, status: effectiveStatus(doc.value, now) };
    if (!filter.status || record.status === filter.status) found.push(record);
  }
  return found.sort((a, b) => b.requestedAt.localeCompare(a.requestedAt));
}
