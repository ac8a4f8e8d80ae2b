import { createS3Client, withLazyClients } from '../shared/clients';
import { releaseKeys, releaseTaskEvent } from '../shared/contract';
import { getOptionalStringFromEnv, getStringFromEnv, TASK_ENV } from '../shared/env';
import { defineTask } from '../shared/task';
import { prepareTraining, type PrepareTrainingDeps, type PrepareTrainingResult } from './prepare';

/**
 * PrepareTraining (after a successful build).
 *
 * Event: `{ model, version, executionId, executionName }`.
 * Result: `{ mode: "build" }`, or `{ mode: "sagemaker", request }` where `request` is the
 * CreateTrainingJob request (job `mlship-<model>-<version>`, the build's image, the
 * manifest's channels, hyperparameters, metric definitions, instances, max runtime and spot)
 * that the TrainModel state passes to `createTrainingJob.sync`.
 */
export const eventSchema = releaseTaskEvent;
export type { PrepareTrainingResult };

export const makeHandler = (deps: PrepareTrainingDeps) =>
  defineTask('PrepareTraining', eventSchema, releaseKeys, (e) => prepareTraining(deps, e));

export function fromEnv(): PrepareTrainingDeps {
  return withLazyClients(
    {
      bucket: getStringFromEnv(TASK_ENV.artifactBucket),
      sagemakerRoleArn: getStringFromEnv(TASK_ENV.sagemakerRoleArn),
      kmsKeyId: getOptionalStringFromEnv(TASK_ENV.kmsKeyId),
      now: () => new Date(),
    },
    { s3: createS3Client },
  );
}

export const handler = makeHandler(fromEnv());
