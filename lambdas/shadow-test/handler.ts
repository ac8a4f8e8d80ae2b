import * as z from 'zod';
import { createCloudWatchClient, createS3Client, createSageMakerClient, withLazyClients } from '../shared/clients';
import { releaseKeys, releaseTaskEvent } from '../shared/contract';
import { getStringFromEnv, TASK_ENV } from '../shared/env';
import { defineTask } from '../shared/task';
import { checkShadowTest, clearLeftoverExperiment, startShadowTest, stopShadowTest, type ShadowTestDeps } from './shadow';

/**
 * ShadowTest (states StartShadowTest, CheckShadowTest and StopShadowTest): the candidate as a
 * shadow variant of the production endpoint, compared with production on live requests.
 *
 * Event: `{ model, version, executionId, executionName, action: "start", pollSeconds }` ->
 * `{ status: running|skipped, reason, placement, startedAt, pollSeconds }` (the release's pollSeconds, at least 15:
 * each check reads every capture file of the window);
 * `{ ..., action: "check", placement, startedAt }` ->
 * `{ status: collecting|done, verdict: pass|fail|insufficient-data|null, proceed, requests, reason, reportUri }`
 * (done: `reports/<model>/<version>/shadow.json` written, with latency and error rate per variant
 * from CloudWatch GetMetricData or why they are not available, the verdict on the version record,
 * the shadow variant being removed);
 * `{ ..., action: "stop" }` -> `{ action: removed|absent, detail }` (RemoveShadowVariant, on every ending);
 * `{ ..., action: "clear" }` -> `{ action: removed|absent, detail }` (ClearLeftoverExperiment, once the release holds the
 * model's lease: the shadow or A/B candidate a stopped release left on production).
 */
const placement = z.object({
  endpointName: z.string().min(1).max(63),
  productionConfigName: z.string().min(1).max(63),
  shadowConfigName: z.string().min(1).max(63),
  productionVariant: z.string().min(1).max(63),
});
export const eventSchema = z.discriminatedUnion('action', [
  releaseTaskEvent.extend({ action: z.literal('start'), pollSeconds: z.number().int().min(0).max(3600).default(0) }),
  releaseTaskEvent.extend({ action: z.literal('check'), placement, startedAt: z.iso.datetime() }),
  releaseTaskEvent.extend({ action: z.literal('stop') }),
  releaseTaskEvent.extend({ action: z.literal('clear') }),
]);
export type ShadowTestEvent = z.input<typeof eventSchema>;

export const makeHandler = (deps: ShadowTestDeps) =>
  defineTask('ShadowTest', eventSchema, releaseKeys, async (e) => {
    if (e.action === 'start') return startShadowTest(deps, e);
    if (e.action === 'check') return checkShadowTest(deps, e);
    if (e.action === 'clear') return clearLeftoverExperiment(deps, e);
    return stopShadowTest(deps, e);
  });

export function fromEnv(): ShadowTestDeps {
  return withLazyClients(
    { bucket: getStringFromEnv(TASK_ENV.artifactBucket), now: () => new Date() },
    { s3: createS3Client, sagemaker: createSageMakerClient, cloudwatch: createCloudWatchClient },
  );
}

export const handler = makeHandler(fromEnv());
