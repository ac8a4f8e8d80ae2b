import * as z from 'zod';
import { createCodeBuildClient, createS3Client, withLazyClients } from '../shared/clients';
import { releaseKeys, releaseTaskEvent } from '../shared/contract';
import { getStringFromEnv, TASK_ENV } from '../shared/env';
import { defineTask } from '../shared/task';
import { checkBuild, type CheckBuildDeps, type CheckBuildResult } from './check';

/**
 * CheckBuild.
 *
 * Event: `{ model, version, executionId, executionName, buildId }`.
 * Result: `{ status: IN_PROGRESS|SUCCEEDED|FAILED|FAULT|STOPPED|TIMED_OUT, failedPhase, logLink, imageUri }`
 * (nulls, never missing keys). On a finished build the version record gets the build's
 * status, IMAGE_URI / IMAGE_DIGEST (exported by the buildspec) and the bundle location.
 */
export const eventSchema = releaseTaskEvent.extend({ buildId: z.string().min(1) });
export type CheckBuildEvent = z.input<typeof eventSchema>;
export type { CheckBuildResult };

export const makeHandler = (deps: CheckBuildDeps) => defineTask('CheckBuild', eventSchema, releaseKeys, (e) => checkBuild(deps, e));

export function fromEnv(): CheckBuildDeps {
  return withLazyClients(
    { bucket: getStringFromEnv(TASK_ENV.artifactBucket), now: () => new Date() },
    { s3: createS3Client, codebuild: createCodeBuildClient },
  );
}

export const handler = makeHandler(fromEnv());
