import * as z from 'zod';
import { createS3Client, createSageMakerClient, withLazyClients } from '../shared/clients';
import { releaseKeys, releaseTaskEvent } from '../shared/contract';
import { getStringFromEnv, TASK_ENV } from '../shared/env';
import { defineTask } from '../shared/task';
import { checkAbTest, startAbTest, stopAbTest, type AbTestDeps } from './ab';

/**
 * AbTest (states StartAbTest, CheckAbTest and RemoveAbVariant): after the approval, the candidate
 * takes a weighted share of production's traffic as a second production variant, and a
 * pre-registered fixed-horizon test on the ground-truth metric decides (lambdas/ml/abtest.ts).
 *
 * Event: `{ model, version, executionId, executionName, action: "start", pollSeconds }` ->
 * `{ status: running|skipped, reason, placement, startedAt, pollSeconds }` (running: the plan, with
 * the sample size per arm, is on the version record before the traffic split);
 * `{ ..., action: "check", placement, startedAt }` ->
 * `{ status: collecting|done, verdict: pass|fail|insufficient-data|null, proceed, labelled, reason, reportUri }`
 * (done: `reports/<model>/<version>/ab.json` written, the verdict on the version record, the candidate variant removed);
 * `{ ..., action: "stop" }` -> `{ action: removed|absent, detail }` (RemoveAbVariant, on every ending after the approval).
 */
const placement = z.object({
  endpointName: z.string().min(1).max(63),
  productionConfigName: z.string().min(1).max(63),
  abConfigName: z.string().min(1).max(63),
  productionVariant: z.string().min(1).max(63),
});
export const eventSchema = z.discriminatedUnion('action', [
  releaseTaskEvent.extend({ action: z.literal('start'), pollSeconds: z.number().int().min(0).max(3600).default(0) }),
  releaseTaskEvent.extend({ action: z.literal('check'), placement, startedAt: z.iso.datetime() }),
  releaseTaskEvent.extend({ action: z.literal('stop') }),
]);
export type AbTestEvent = z.input<typeof eventSchema>;

export const makeHandler = (deps: AbTestDeps) =>
  defineTask('AbTest', eventSchema, releaseKeys, async (e) => {
    if (e.action === 'start') return startAbTest(deps, e);
    if (e.action === 'check') return checkAbTest(deps, e);
    return stopAbTest(deps, e);
  });

export function fromEnv(): AbTestDeps {
  return withLazyClients(
    { bucket: getStringFromEnv(TASK_ENV.artifactBucket), now: () => new Date() },
    { s3: createS3Client, sagemaker: createSageMakerClient },
  );
}

export const handler = makeHandler(fromEnv());
