import * as z from 'zod';
import { createS3Client, createSfnClient, withLazyClients } from '../shared/clients';
import { executionId, executionName, modelName } from '../shared/contract';
import { getStringFromEnv, TASK_ENV } from '../shared/env';
import { defineTask } from '../shared/task';
import { triggerRetraining, type TriggerDeps, type TriggerResult } from './trigger';

/**
 * TriggerRetraining (drift workflow).
 *
 * Event: `{ model, reason, run, executionId, executionName }`.
 * Result: `{ started, executionArn, skippedReason }` — skipped (started false) when the
 * model has no production version, retraining is off, the cooldown has not passed or a
 * release of the model is running.
 */
export const eventSchema = z.object({ model: modelName, reason: z.string(), run: z.string().min(1), executionId, executionName });
export type TriggerRetrainingEvent = z.input<typeof eventSchema>;
export type { TriggerResult as TriggerRetrainingResult };

export const makeHandler = (deps: TriggerDeps) =>
  defineTask(
    'TriggerRetraining',
    eventSchema,
    (e) => ({ model: e.model, executionId: e.executionId }),
    (e) => triggerRetraining(deps, e),
  );

export function fromEnv(): TriggerDeps {
  return withLazyClients(
    {
      bucket: getStringFromEnv(TASK_ENV.artifactBucket),
      releaseStateMachineArn: getStringFromEnv(TASK_ENV.releaseStateMachineArn),
      now: () => new Date(),
    },
    { s3: createS3Client, sfn: createSfnClient },
  );
}

export const handler = makeHandler(fromEnv());
