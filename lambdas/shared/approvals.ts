import * as z from 'zod';

/**
 * The approval record, `approvals/<model>/<executionName>.json`: written by RequestApproval,
 * decided by `decide.ts` (console and CLI), read by the console.
 */
export const approvalRecordSchema = z.object({
  id: z.string(),
  model: z.string(),
  version: z.string(),
  executionArn: z.string(),
  taskToken: z.string(),
  requestedAt: z.string(),
  expiresAt: z.string(),
  reportLinks: z.object({ html: z.string(), json: z.string(), validation: z.string(), loadTest: z.string() }),
  summary: z.object({ metrics: z.record(z.string(), z.number()), validationOk: z.boolean(), loadTestOk: z.boolean() }),
  status: z.enum(['pending', 'approved', 'rejected', 'expired']),
  decision: z
    .object({
      by: z.string(),
      at: z.string(),
      comment: z.string().nullable(),
      /** Set when SendTaskSuccess/SendTaskFailure went through. */
      delivered: z.boolean().default(false),
    })
    .optional(),
});

export type ApprovalRecord = z.output<typeof approvalRecordSchema>;
export type ApprovalStatus = ApprovalRecord['status'];

/** `<model>/<executionName>`: both parts are names, so the id can never escape `approvals/`. */
export const approvalId = z.string().regex(/^[a-z][a-z0-9-]{1,38}[a-z0-9]\/(?!\.+$)[A-Za-z0-9._-]{1,80}$/, 'an approval id "<model>/<executionName>"');

export const approvalKey = (id: string): string => `approvals/${id}.json`;

/** What SendTaskSuccess hands the workflow (RequestApprovalResult). */
export interface ApprovalOutput {
  approved: true;
  by: string;
  at: string;
  comment: string | null;
}
