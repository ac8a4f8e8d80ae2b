import * as z from 'zod';
import { createS3Client, createSageMakerClient, withLazyClients } from '../shared/clients';
import { releaseKeys, releaseTaskEvent, stage } from '../shared/contract';
import { getStringFromEnv, TASK_ENV } from '../shared/env';
import { defineTask } from '../shared/task';
import { checkEndpoint, type CheckEndpointDeps, type CheckEndpointResult } from './check';

/**
 * CheckEndpoint (states CheckStaging and CheckProduction).
 *
 * Event: `{ model, version, executionId, executionName, stage, endpointName }`.
 * Result: `{ status: "InService"|"Updating"|"Failed"|"RolledBack", failureReason }`.
 * Creating/Updating/SystemUpdating/RollingBack are `Updating`; InService on another
 * version's config is `RolledBack`.
 */
export const eventSchema = releaseTaskEvent.extend({ stage, endpointName: z.string().min(1).max(63) });
export type CheckEndpointEvent = z.input<typeof eventSchema>;
export type { CheckEndpointResult };

export const makeHandler = (deps: CheckEndpointDeps) =>
  defineTask('CheckEndpoint', eventSchema, releaseKeys, (e) => checkEndpoint(deps, e));

export function fromEnv(): CheckEndpointDeps {
  return withLazyClients(
    { bucket: getStringFromEnv(TASK_ENV.artifactBucket), now: () => new Date() },
    { s3: createS3Client, sagemaker: createSageMakerClient },
  );
}

export const handler = makeHandler(fromEnv());
