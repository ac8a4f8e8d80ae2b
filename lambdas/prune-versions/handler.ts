import * as z from 'zod';
import { createS3Client, createSageMakerClient, withLazyClients } from '../shared/clients';
import { releaseKeys, releaseTaskEvent } from '../shared/contract';
import { getStringFromEnv, TASK_ENV } from '../shared/env';
import { defineTask } from '../shared/task';
import { pruneVersions, type PruneDeps, type PruneResult } from './prune';

/**
 * PruneVersions (states PruneVersions after PromoteVersion, PruneRolledBackVersion after a
 * rollback).
 *
 * Event: `{ model, version, executionId, executionName, outcome: "promoted"|"rolled-back" }`.
 * Result: `{ keptVersions, inUse, deletedConfigs, deletedModels, failures: [{ name, error }] }`.
 *
 * Deletes the model's SageMaker models and endpoint configs that neither an endpoint nor a
 * rollback needs (see prune.ts for what is kept); never fails the release.
 */
export const eventSchema = releaseTaskEvent.extend({ outcome: z.enum(['promoted', 'rolled-back']) });
export type PruneVersionsEvent = z.input<typeof eventSchema>;
export type { PruneResult as PruneVersionsResult };

export const makeHandler = (deps: PruneDeps) => defineTask('PruneVersions', eventSchema, releaseKeys, (e) => pruneVersions(deps, e));

export function fromEnv(): PruneDeps {
  return withLazyClients(
    { bucket: getStringFromEnv(TASK_ENV.artifactBucket), now: () => new Date() },
    { s3: createS3Client, sagemaker: createSageMakerClient },
  );
}

export const handler = makeHandler(fromEnv());
