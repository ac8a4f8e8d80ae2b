import * as z from 'zod';
import { createS3Client, withLazyClients } from '../shared/clients';
import { releaseKeys, releaseTaskEvent } from '../shared/contract';
import { getStringFromEnv, TASK_ENV } from '../shared/env';
import { defineTask } from '../shared/task';
import { promoteVersion, type PromoteDeps, type PromoteResult } from './promote';

/**
 * PromoteVersion.
 *
 * Event: `{ model, version, executionId, executionName, endpointName, approval: { approved, by, at, comment } }`.
 * Result: `{ production: <version>, previous: <version>|null }`.
 */
export const eventSchema = releaseTaskEvent.extend({
  endpointName: z.string().min(1),
  approval: z
    .looseObject({ by: z.string().optional(), at: z.string().optional(), comment: z.string().nullable().optional() })
    .nullable()
    .default(null),
});
export type PromoteVersionEvent = z.input<typeof eventSchema>;
export type { PromoteResult as PromoteVersionResult };

export const makeHandler = (deps: PromoteDeps) => defineTask('PromoteVersion', eventSchema, releaseKeys, (e) => promoteVersion(deps, e));

export function fromEnv(): PromoteDeps {
  return withLazyClients({ bucket: getStringFromEnv(TASK_ENV.artifactBucket), now: () => new Date() }, { s3: createS3Client });
}

export const handler = makeHandler(fromEnv());
