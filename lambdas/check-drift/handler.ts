import * as z from 'zod';
import { createS3Client, withLazyClients } from '../shared/clients';
import { executionId, executionName, modelName } from '../shared/contract';
import { getStringFromEnv, TASK_ENV } from '../shared/env';
import { emitMetric } from '../shared/metrics';
import { defineTask } from '../shared/task';
import { checkDrift, type CheckDriftDeps, type CheckDriftResult } from './drift';

/**
 * CheckDrift — the first state of the drift workflow.
 *
 * Event: `{ input: { model, window? (seconds, default the manifest's drift.window), since? (ISO time: the window's
 * start instead) }, executionId, executionName }`.
 * Result: `{ verdict: "drift"|"no-drift"|"insufficient-data"|"data-quality", retrain, reason, run, reportUri,
 * version, window: {from, to, seconds}, dataDrift: {...}|null, conceptDrift: {...}|null,
 * dataQuality: {skippedLines, skippedValues, alerts, ...}|null }`. Unreadable capture lines and
 * non-finite values are skipped and counted; above `drift.dataQuality` limits the verdict is `data-quality`.
 * Writes `monitoring/<model>/<run>/` statistics.json, constraint_violations.json,
 * drift-report.json and drift-report.html (run = the execution name).
 */
export const eventSchema = z.object({
  input: z.object({ model: modelName, window: z.number().int().positive().optional(), since: z.iso.datetime().optional() }),
  executionId,
  executionName,
});
export type CheckDriftEvent = z.input<typeof eventSchema>;
export type { CheckDriftResult };

export const makeHandler = (deps: CheckDriftDeps) =>
  defineTask(
    'CheckDrift',
    eventSchema,
    (e) => ({ model: e.input.model, executionId: e.executionId }),
    async (e) => {
      const result = await checkDrift(deps, { ...e.input, executionId: e.executionId, executionName: e.executionName });
      // No share without a verdict (too few rows): nothing to plot.
      if (result.dataDrift) emitMetric('driftShare', { model: e.input.model }, result.dataDrift.driftShare);
      return result;
    },
  );

export function fromEnv(): CheckDriftDeps {
  return withLazyClients({ bucket: getStringFromEnv(TASK_ENV.artifactBucket), now: () => new Date() }, { s3: createS3Client });
}

export const handler = makeHandler(fromEnv());
