import * as z from 'zod';
import { createS3Client, createSageMakerClient, createSnsClient, withLazyClients } from '../shared/clients';
import { releaseKeys, releaseTaskEvent } from '../shared/contract';
import { getStringFromEnv, TASK_ENV } from '../shared/env';
import { defineTask } from '../shared/task';
import { requestApproval, type RequestApprovalDeps } from './request';

/**
 * RequestApproval (`lambda:invoke.waitForTaskToken`).
 *
 * Event: `{ model, version, executionId, executionName, taskToken, timeoutSeconds,
 * evaluation: EvaluateModelResult, loadTest: LoadTestResult }`.
 * Result (ignored by the workflow, which waits for the token): `{ approvalId, expiresAt }`.
 * The workflow resumes with `{ approved: true, by, at, comment }` (SendTaskSuccess from
 * the DecideApproval function, lambdas/decide-approval/) or fails with `ApprovalRejectedError`; `States.Timeout` after `timeoutSeconds`.
 */
export const eventSchema = releaseTaskEvent.extend({
  taskToken: z.string().min(1),
  timeoutSeconds: z.number().int().positive(),
  evaluation: z.looseObject({ validationOk: z.boolean(), metrics: z.record(z.string(), z.number()), reportUri: z.string().optional() }),
  loadTest: z.looseObject({ ok: z.boolean(), reportUri: z.string().optional() }),
});
export type RequestApprovalEvent = z.input<typeof eventSchema>;
export interface RequestApprovalResult {
  approvalId: string;
  expiresAt: string;
}

export const makeHandler = (deps: RequestApprovalDeps) =>
  defineTask('RequestApproval', eventSchema, releaseKeys, (e): Promise<RequestApprovalResult> => requestApproval(deps, e));

export function fromEnv(): RequestApprovalDeps {
  return withLazyClients(
    {
      bucket: getStringFromEnv(TASK_ENV.artifactBucket),
      topicArn: getStringFromEnv(TASK_ENV.notificationTopicArn),
      now: () => new Date(),
    },
    { s3: createS3Client, sns: createSnsClient, sagemaker: createSageMakerClient },
  );
}

export const handler = makeHandler(fromEnv());
