import * as z from 'zod';
import { createS3Client, withLazyClients } from '../shared/clients';
import { executionId, executionName, modelName } from '../shared/contract';
import { getStringFromEnv, TASK_ENV } from '../shared/env';
import { emitMetric } from '../shared/metrics';
import { defineTask } from '../shared/task';
import { checkDrift, mergeBatchesPhase, scanBatchPhase, type CheckDriftDeps, type CheckDriftResult } from './drift';

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
 *
 * A window of more than `batchBytes` of capture (default 1 GiB) is split (split.ts): the result is
 * then `{ verdict: "split", split: { pass: 1, batches: [0..n-1] } }` and the workflow invokes this
 * function per batch with `{ input: { model, phase: "scan", pass, batch, run } }` and then once with
 * `{ input: { model, phase: "merge", pass, run } }`, which answers the verdict (or `refine`: pass 2).
 */
const pass = z.union([z.literal(1), z.literal(2)]);
const run = z.string().min(1).max(80);
export const eventSchema = z.object({
  input: z.union([
    z.object({ model: modelName, phase: z.literal('scan'), pass, batch: z.number().int().nonnegative(), run }),
    z.object({ model: modelName, phase: z.literal('merge'), pass, run }),
    z.object({
      model: modelName,
      // A batch or merge event with a field missing must fail here, not pass as a whole-window check.
      phase: z.never().optional(),
      window: z.number().int().positive().optional(),
      since: z.iso.datetime().optional(),
      batchBytes: z.number().int().positive().optional(),
    }),
  ]),
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
    async (e): Promise<CheckDriftResult | { batch: number; pass: 1 | 2 }> => {
      const input = e.input;
      if (input.phase === 'scan') return scanBatchPhase(deps, input);
      let result: CheckDriftResult;
      if (input.phase === 'merge') result = await mergeBatchesPhase(deps, input);
      else {
        const { phase: _none, ...check } = input;
        result = await checkDrift(deps, { ...check, executionId: e.executionId, executionName: e.executionName });
      }
      // No share without a verdict (too few rows, or a split window's plan): nothing to plot.
      if (result.dataDrift) emitMetric('driftShare', { model: input.model }, result.dataDrift.driftShare);
      return result;
    },
  );

export function fromEnv(): CheckDriftDeps {
  return withLazyClients({ bucket: getStringFromEnv(TASK_ENV.artifactBucket), now: () => new Date() }, { s3: createS3Client });
}

export const handler = makeHandler(fromEnv());
