import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import * as z from 'zod';
import { createS3Client, createSageMakerRuntimeClient, withLazyClients } from '../shared/clients';
import { releaseKeys, releaseTaskEvent } from '../shared/contract';
import { getStringFromEnv, TASK_ENV } from '../shared/env';
import { emitMetric } from '../shared/metrics';
import { defineTask } from '../shared/task';
import { loadTest, type LoadTestDeps, type LoadTestResult } from './load';

/**
 * LoadTest.
 *
 * Event: `{ model, version, executionId, executionName, endpointName }` (the staging endpoint).
 * Result: `{ ok, requests, errors, errorRate, p50Ms, p95Ms, p99Ms, maxMs, achievedRps, failures: [message], reportUri }`.
 * Writes `reports/<model>/<version>/load-test.json`.
 */
export const eventSchema = releaseTaskEvent.extend({ endpointName: z.string().min(1).max(63) });
export type LoadTestEvent = z.input<typeof eventSchema>;
export type { LoadTestResult };

export const makeHandler = (deps: LoadTestDeps) =>
  defineTask('LoadTest', eventSchema, releaseKeys, async (e) => {
    const result = await loadTest(deps, e);
    emitMetric('loadTestP99', { model: e.model }, result.p99Ms);
    emitMetric('loadTestErrorRate', { model: e.model }, result.errorRate);
    return result;
  });

export function fromEnv(): LoadTestDeps {
  return withLazyClients(
    {
      bucket: getStringFromEnv(TASK_ENV.artifactBucket),
      clock: () => performance.now(),
      sleep: (ms: number) => sleep(ms),
      now: () => new Date(),
    },
    {
      s3: createS3Client,
      // No retries (a retry hides an error and flatters latency) and enough sockets that an
      // open-loop send never queues behind the SDK's default pool of 50.
      runtime: () =>
        createSageMakerRuntimeClient({
          maxAttempts: 1,
          requestHandler: {
            httpAgent: new HttpAgent({ keepAlive: true, maxSockets: 1024 }),
            httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: 1024 }),
          },
        }),
    },
  );
}

export const handler = makeHandler(fromEnv());
