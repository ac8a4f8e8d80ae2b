import * as z from 'zod';
import { createS3Client, createSageMakerClient, createSnsClient, withLazyClients } from '../shared/clients';
import { executionId, executionName } from '../shared/contract';
import { getOptionalStringFromEnv, getStringFromEnv, TASK_ENV } from '../shared/env';
import { ENDPOINT_LOG_LOCATION_ENV } from '../shared/names';
import { RELEASE_OUTCOMES } from '../shared/registry';
import { emitMetric } from '../shared/metrics';
import { defineTask } from '../shared/task';
import {
  recordDriftOutcome,
  recordReleaseOutcome,
  type DriftState,
  type OutcomeResult,
  type RecordOutcomeDeps,
  type ReleaseState,
} from './record';

/**
 * RecordOutcome — the last task of every path of both workflows.
 *
 * Event: `{ workflow: "release", outcome: succeeded|build-failed|gate-failed|load-test-failed|
 * shadow-test-failed|ab-test-failed|rejected|approval-timed-out|rolled-back|failed|superseded, state: <the whole workflow state>,
 * executionId, executionName }` or `{ workflow: "drift", outcome: "checked"|"failed", state, ... }`.
 * The state is passed whole (`"state.$": "$"`) because what exists in it depends on where
 * the workflow stopped, and JSONPath cannot select a field that may be missing.
 *
 * Result: `{ outcome, notified, cause }` — for the drift workflow `outcome` is the verdict
 * (drift / no-drift / insufficient-data / data-quality) or `failed`; `cause` is the one-line reason the
 * release's Fail states carry as their Cause.
 */
const state = z.record(z.string(), z.unknown());
export const eventSchema = z.discriminatedUnion('workflow', [
  z.object({ workflow: z.literal('release'), outcome: z.enum(RELEASE_OUTCOMES), state, executionId, executionName }),
  z.object({ workflow: z.literal('drift'), outcome: z.enum(['checked', 'failed']), state, executionId, executionName }),
]);
export type RecordOutcomeEvent = z.input<typeof eventSchema>;
export type RecordOutcomeResult = OutcomeResult;

export const makeHandler = (deps: RecordOutcomeDeps) =>
  defineTask(
    'RecordOutcome',
    eventSchema,
    (e) => ({
      model: typeof e.state.model === 'string' ? e.state.model : undefined,
      version: (e.state.PrepareReleaseResult as { version?: string } | undefined)?.version,
      executionId: e.executionId,
    }),
    async (e) => {
      if (e.workflow === 'drift') return recordDriftOutcome(deps, { ...e, state: e.state as DriftState });
      const result = await recordReleaseOutcome(deps, { ...e, state: e.state as ReleaseState });
      // Release outcomes by end state, per model (the dashboard's first widgets).
      if (typeof e.state.model === 'string') emitMetric('releaseOutcome', { model: e.state.model, outcome: e.outcome }, 1);
      return result;
    },
  );

export function fromEnv(): RecordOutcomeDeps {
  return withLazyClients(
    {
      bucket: getStringFromEnv(TASK_ENV.artifactBucket),
      topicArn: getStringFromEnv(TASK_ENV.notificationTopicArn),
      endpointLogTemplate: getOptionalStringFromEnv(ENDPOINT_LOG_LOCATION_ENV),
      now: () => new Date(),
    },
    { s3: createS3Client, sns: createSnsClient, sagemaker: createSageMakerClient },
  );
}

export const handler = makeHandler(fromEnv());
