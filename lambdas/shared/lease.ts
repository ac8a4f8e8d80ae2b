import type { S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod';
import { TransientError } from './errors';
import { keys } from './names';
import { CorruptObjectError, getJson, putJsonIf, type Stored } from './s3json';

/**
 * The model lease, `registry/<model>/lease.json`: which release execution may use the
 * model's staging and production endpoints. One release per model at a time, on AWS and on
 * the local cloud alike, because the rule lives in the workflow (ModelLease and
 * RecordOutcome), not in the trigger.
 *
 * Every change is a conditional write (`If-None-Match: *` to create, `If-Match: <etag>` to
 * replace), so two releases deciding at once cannot both win: the loser re-reads and decides
 * again. The holder's own status is never trusted from the document: a taker asks Step
 * Functions (DescribeExecution), so a holder that crashed, was stopped or failed without
 * reaching RecordOutcome does not block the model.
 *
 * `phase` is the fence between a release that may still be superseded (`candidate`: building
 * up to awaiting approval) and one that may not (`production`: approved, deploying). The
 * holder moves it to `production` with `If-Match` after its approval, so a superseding write
 * and the move to production cannot both succeed.
 */

export const leaseHolderSchema = z.object({
  executionArn: z.string(),
  executionName: z.string(),
  version: z.string(),
  commitId: z.string(),
  trigger: z.string(),
  phase: z.enum(['candidate', 'production']),
  /** When the holder took the lease or entered its current phase. */
  since: z.string(),
});
export type LeaseHolder = z.output<typeof leaseHolderSchema>;

export const leaseSchema = z.object({
  model: z.string(),
  holder: leaseHolderSchema.nullable(),
  /** The previous holder and how it let go, for people reading the bucket and the console. */
  last: z
    .object({
      executionArn: z.string(),
      version: z.string(),
      how: z.enum(['released', 'superseded', 'taken-over']),
      at: z.string(),
      detail: z.string().nullable(),
    })
    .nullable(),
  updatedAt: z.string(),
});
export type Lease = z.output<typeof leaseSchema>;

export interface LeaseDeps {
  s3: S3Client;
  bucket: string;
}

/**
 * Read the lease. S3 never returns part of an object, but the local S3 server can while an
 * overwrite is in flight (it renames an object's metadata and its bytes into place one after
 * the other), and the lease is the one document several releases write at once: a body that
 * is not JSON is read again before it counts as corrupt.
 */
export async function readLease(deps: LeaseDeps, model: string): Promise<Stored<Lease> | undefined> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await getJson(deps.s3, deps.bucket, keys.lease(model), leaseSchema);
    } catch (err) {
      const torn = err instanceof CorruptObjectError && err.cause instanceof SyntaxError;
      if (!torn) throw err;
      if (attempt >= 3)
        throw new TransientError(`s3://${deps.bucket}/${keys.lease(model)} is not JSON after ${attempt + 1} reads`, { cause: err });
      await new Promise((r) => setTimeout(r, 25 * (attempt + 1)));
    }
  }
}

/**
 * Replace the lease only if it is still what `current` read (or, with no `current`, only if
 * there is none yet).
 * @returns whether this write won
 */
export async function writeLease(deps: LeaseDeps, current: Stored<Lease> | undefined, next: Lease): Promise<boolean> {
  const condition = current ? (current.etag ? { ifMatch: current.etag } : {}) : { ifNoneMatch: '*' as const };
  const put = await putJsonIf(deps.s3, deps.bucket, keys.lease(next.model), next, condition);
  return put.written;
}

/**
 * Give the lease up in a release's terminal path: a no-op unless `executionArn` still holds
 * it (a superseded release no longer does).
 * @returns whether this execution held the lease and released it
 */
export async function releaseLease(deps: LeaseDeps, model: string, executionArn: string, at: string): Promise<boolean> {
  for (let attempt = 0; attempt < 4; attempt++) {
    const current = await readLease(deps, model);
    const holder = current?.value.holder;
    if (!current || holder?.executionArn !== executionArn) return false;
    const next: Lease = {
      model,
      holder: null,
      last: { executionArn, version: holder.version, how: 'released', at, detail: null },
      updatedAt: at,
    };
    if (await writeLease(deps, current, next)) return true;
  }
  throw new TransientError(`s3://${deps.bucket}/${keys.lease(model)} kept changing while ${executionArn} released it`);
}
