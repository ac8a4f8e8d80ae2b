import * as z from 'zod';
import { createS3Client, withLazyClients } from '../shared/clients';
import { executionId, executionName, modelName } from '../shared/contract';
import { getOptionalStringFromEnv, getStringFromEnv, TASK_ENV } from '../shared/env';
import { OPTIONAL_TASK_ENV } from '../../lib/tasks';
import { defineTask } from '../shared/task';
import { prepareRelease, type PrepareDeps, type PrepareResult } from './prepare';

/**
 * PrepareRelease — the first state of the release.
 *
 * Event: `{ input: <the execution input>, executionId, executionName }` where the execution
 * input is `{ model, commitId, sourceUri: "s3://<bucket>/source/<model>/<commit>.zip",
 * trigger: "push"|"drift"|"manual", reason?, pollSeconds? (default 30) }`.
 *
 * Result: {@link PrepareResult} — `{ version, stagingEndpoint, productionEndpoint,
 * buildProject, pollSeconds, approvalTimeoutSeconds }`, what the workflow keeps (its
 * ResultSelector); the rest (manifest, buildspec, gates, lineage) is in the version record.
 *
 * Errors: `SourceNotFoundError`, `InvalidManifestError` (names file and field),
 * `InvalidEventError`; `TransientError` for throttling and 5xx.
 */
export const releaseInput = z.object({
  model: modelName,
  commitId: z.string().regex(/^[0-9a-fA-F]{7,40}$/, 'a git commit hash (7-40 hex digits)'),
  sourceUri: z.string().regex(/^s3:\/\/[^/]+\/.+\.zip$/, 'an s3://<bucket>/<key>.zip URI'),
  trigger: z.enum(['push', 'drift', 'manual']),
  reason: z.string().max(1000).optional(),
  /** The commit's author, for separation of duties at approval (the local push trigger sets it). */
  author: z.object({ name: z.string().max(200), email: z.string().max(320) }).optional(),
  /** Seconds between two status checks; tests and the local cloud poll faster. @default 30 */
  pollSeconds: z.number().int().min(0).max(3600).default(30),
});

export const eventSchema = z.object({ input: releaseInput, executionId, executionName });
export type PrepareReleaseEvent = z.input<typeof eventSchema>;
export type { PrepareResult as PrepareReleaseResult };

export const makeHandler = (deps: PrepareDeps) =>
  defineTask(
    'PrepareRelease',
    eventSchema,
    (e) => ({ model: e.input.model, executionId: e.executionId }),
    (e) => prepareRelease(deps, { ...e.input, executionId: e.executionId, executionName: e.executionName }),
  );

export function fromEnv(): PrepareDeps {
  return withLazyClients(
    {
      bucket: getStringFromEnv(TASK_ENV.artifactBucket),
      buildProjectPrefix: getStringFromEnv(TASK_ENV.buildProjectPrefix),
      buildProjectName: getOptionalStringFromEnv(OPTIONAL_TASK_ENV.buildProject),
      now: () => new Date(),
    },
    { s3: createS3Client },
  );
}

export const handler = makeHandler(fromEnv());
