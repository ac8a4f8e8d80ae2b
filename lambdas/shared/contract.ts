// `import * as z` (not `import { z }`) everywhere in lambdas/: esbuild can then tree-shake
// zod, ~100 KiB in a bundle instead of ~450 KiB (bench/lambdas/cold-start.ts).
import * as z from 'zod';
import { MODEL_NAME_PATTERN, MODEL_NAME_RULE } from '../../lib/config/names';

/**
 * Zod pieces shared by the task events. Every release task after PrepareRelease receives
 * `{ model, version, executionId, executionName }` (the ASL passes `$$.Execution.Id` and
 * `$$.Execution.Name`) and reads the rest from the version record.
 */

export const modelName = z.string().regex(MODEL_NAME_PATTERN, `a model name (${MODEL_NAME_RULE})`);
/** `<commit7>-<4 hex>`, see PrepareRelease. */
export const versionId = z.string().regex(/^[0-9a-z]{7}-[0-9a-f]{4}$/, 'a version id such as 1a2b3c4-9f00');
export const executionId = z.string().min(1);
export const executionName = z.string().regex(/^[A-Za-z0-9._-]{1,80}$/, 'an execution name (letters, digits, ., - and _)');

export const releaseTaskEvent = z.object({
  model: modelName,
  version: versionId,
  executionId,
  executionName,
});
export type ReleaseTaskEvent = z.output<typeof releaseTaskEvent>;

export const stage = z.enum(['staging', 'production']);

/** Log keys of a release task event. */
export const releaseKeys = (e: ReleaseTaskEvent) => ({ model: e.model, version: e.version, executionId: e.executionId });
