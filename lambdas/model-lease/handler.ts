import * as z from 'zod';
import { createS3Client, createSageMakerClient, createSfnClient, createSnsClient, withLazyClients } from '../shared/clients';
import { releaseKeys, releaseTaskEvent } from '../shared/contract';
import { getStringFromEnv, TASK_ENV } from '../shared/env';
import { defineTask } from '../shared/task';
import { acquireLease, claimProduction, type LeaseResult, type LeaseTaskDeps } from './lease';

/**
 * ModelLease — one release per model at a time (`registry/<model>/lease.json`; the rule is
 * in `lease.ts`). Two states of the release call it:
 *
 * - AcquireLease (`action: "acquire"`, right after PrepareRelease): take the lease, supersede
 *   an older release that has not been approved, or wait behind one that is deploying to
 *   production.
 * - ClaimProduction (`action: "enter-production"`, after the approval): move the lease to the
 *   production phase, or learn that a newer release superseded this one.
 *
 * Event: `{ action, model, version, commitId, trigger, executionId, executionName }`.
 * Result: `{ status: acquired|waiting|superseded|held, holder, detail }`.
 * Errors: `LeaseWaitTimeoutError` after waiting too long; `TransientError` when the lease
 * kept changing under it, or for throttling and 5xx.
 */
export const eventSchema = releaseTaskEvent.extend({
  action: z.enum(['acquire', 'enter-production']),
  commitId: z.string().min(1),
  trigger: z.enum(['push', 'drift', 'manual']),
});
export type ModelLeaseEvent = z.input<typeof eventSchema>;
export type ModelLeaseResult = LeaseResult;

export const makeHandler = (deps: LeaseTaskDeps) =>
  defineTask('ModelLease', eventSchema, releaseKeys, (e) => (e.action === 'acquire' ? acquireLease(deps, e) : claimProduction(deps, e)));

export function fromEnv(): LeaseTaskDeps {
  return withLazyClients(
    {
      bucket: getStringFromEnv(TASK_ENV.artifactBucket),
      topicArn: getStringFromEnv(TASK_ENV.notificationTopicArn),
      now: () => new Date(),
    },
    { s3: createS3Client, sfn: createSfnClient, sns: createSnsClient, sagemaker: createSageMakerClient },
  );
}

export const handler = makeHandler(fromEnv());
