import * as z from 'zod';
import { createS3Client, createSageMakerRuntimeClient, withLazyClients } from '../shared/clients';
import { releaseKeys, releaseTaskEvent } from '../shared/contract';
import { getOptionalStringFromEnv, getStringFromEnv, TASK_ENV } from '../shared/env';
import { ENDPOINT_LOG_LOCATION_ENV } from '../shared/names';
import { emitMetric } from '../shared/metrics';
import { defineTask } from '../shared/task';
import { evaluate, type EvaluateDeps, type EvaluateResult } from './evaluate';

/**
 * EvaluateModel.
 *
 * Event: `{ model, version, executionId, executionName, endpointName }` (the staging endpoint).
 * Result: `{ validationOk, metrics: {name: value}, failures: [message], reportUri (quality-report.html), validationUri }`.
 * Writes `reports/<model>/<version>/` validation.json, quality-report.json/.html,
 * baseline/statistics.json and baseline/constraints.json.
 */
export const eventSchema = releaseTaskEvent.extend({ endpointName: z.string().min(1).max(63) });
export type EvaluateModelEvent = z.input<typeof eventSchema>;
export type { EvaluateResult as EvaluateModelResult };

export const makeHandler = (deps: EvaluateDeps) =>
  defineTask('EvaluateModel', eventSchema, releaseKeys, async (e) => {
    const result = await evaluate(deps, e);
    // The gated metrics and the verdict, per model (the dashboard's gate widgets).
    for (const [metric, value] of Object.entries(result.metrics)) emitMetric('gateMetric', { model: e.model, metric }, value);
    emitMetric('qualityGatePassed', { model: e.model }, result.validationOk ? 1 : 0);
    return result;
  });

export function fromEnv(): EvaluateDeps {
  return withLazyClients(
    {
      bucket: getStringFromEnv(TASK_ENV.artifactBucket),
      endpointLogTemplate: getOptionalStringFromEnv(ENDPOINT_LOG_LOCATION_ENV),
      now: () => new Date(),
    },
    { s3: createS3Client, runtime: createSageMakerRuntimeClient },
  );
}

export const handler = makeHandler(fromEnv());
