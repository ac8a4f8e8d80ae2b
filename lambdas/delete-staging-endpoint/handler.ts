import * as z from 'zod';
import { createS3Client, createSageMakerClient, withLazyClients } from '../shared/clients';
import { executionId, executionName } from '../shared/contract';
import { getStringFromEnv, TASK_ENV } from '../shared/env';
import { defineTask } from '../shared/task';
import { deleteStagingEndpoint, type DeleteStagingDeps, type DeleteStagingResult } from './delete';

/**
 * DeleteStagingEndpoint — reached from every end of a release, before RecordOutcome
 * releases the lease.
 *
 * Event: `{ state: <the whole workflow state>, executionId, executionName }`. The state is
 * passed whole, as to RecordOutcome, because a release can end before PrepareRelease made a
 * version, and JSONPath cannot select a field that may be missing.
 *
 * Result: `{ endpointName, action: deleted|absent|kept|skipped, detail }`. A failure is
 * caught by the state machine, recorded at `$.DeleteStagingEndpointResult`, and the release
 * ends as it would have.
 */
export const eventSchema = z.object({
  state: z.looseObject({
    model: z.string().optional(),
    PrepareReleaseResult: z.looseObject({ version: z.string().optional() }).optional(),
  }),
  executionId,
  executionName,
});
export type DeleteStagingEndpointEvent = z.input<typeof eventSchema>;
export type { DeleteStagingResult as DeleteStagingEndpointResult };

export const makeHandler = (deps: DeleteStagingDeps) =>
  defineTask(
    'DeleteStagingEndpoint',
    eventSchema,
    (e) => ({ model: e.state.model, version: e.state.PrepareReleaseResult?.version, executionId: e.executionId }),
    (e) =>
      deleteStagingEndpoint(deps, { model: e.state.model, version: e.state.PrepareReleaseResult?.version, executionId: e.executionId }),
  );

export function fromEnv(): DeleteStagingDeps {
  return withLazyClients({ bucket: getStringFromEnv(TASK_ENV.artifactBucket) }, { s3: createS3Client, sagemaker: createSageMakerClient });
}

export const handler = makeHandler(fromEnv());
