import * as z from 'zod';
import { createCodeBuildClient, createS3Client, withLazyClients } from '../shared/clients';
import { releaseKeys, releaseTaskEvent } from '../shared/contract';
import { getOptionalStringFromEnv, getStringFromEnv, TASK_ENV } from '../shared/env';
import { defineTask } from '../shared/task';
import { startBuild, type StartBuildDeps } from './build';

/**
 * StartBuild (state BuildImage).
 *
 * Event: `{ model, version, executionId, executionName, projectName }`.
 * Result: `{ buildId }`.
 *
 * CodeBuild runs `models/<model>/<buildspec>` of the source archive with MODEL_NAME,
 * MODEL_VERSION, IMAGE_TAG_PREFIX (= commit; the buildspec tags the image
 * `$IMAGE_TAG_PREFIX-$CODEBUILD_BUILD_NUMBER`, unique per build, as the immutable ECR
 * repositories need), MODEL_DIR and, when IMAGE_REPOSITORY_PREFIX is set,
 * IMAGE_REPOSITORY; its artifacts go to `s3://<bucket>/builds/<model>/<version>/`.
 */
export const eventSchema = releaseTaskEvent.extend({ projectName: z.string().min(2).max(255) });
export type StartBuildEvent = z.input<typeof eventSchema>;
export interface StartBuildResult {
  buildId: string;
}

export const makeHandler = (deps: StartBuildDeps) =>
  defineTask('StartBuild', eventSchema, releaseKeys, (e): Promise<StartBuildResult> => startBuild(deps, e));

export function fromEnv(): StartBuildDeps {
  return withLazyClients(
    {
      bucket: getStringFromEnv(TASK_ENV.artifactBucket),
      imageRepositoryPrefix: getOptionalStringFromEnv(TASK_ENV.imageRepositoryPrefix),
      now: () => new Date(),
    },
    { s3: createS3Client, codebuild: createCodeBuildClient },
  );
}

export const handler = makeHandler(fromEnv());
