import type { CloudFormationCustomResourceEvent, Context } from 'aws-lambda';
import * as z from 'zod';
import { createSageMakerClient, createSfnClient } from '../../../lambdas/shared/clients';
import { logger } from '../../../lambdas/shared/logger';
import { tearDown, type TeardownDeps } from './teardown';

/**
 * The resource's properties (see constructs/sagemaker-teardown.ts). The prefix must be a
 * non-empty name part ending in `-`: an empty one would match every endpoint in the account.
 */
export const propertiesSchema = z.object({
  SageMakerPrefix: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9-]*-$/, 'a SageMaker name prefix ending in "-", e.g. mlship-'),
  ReleaseStateMachineArn: z.string().regex(/^arn:[\w-]+:states:[\w-]+:\d{12}:stateMachine:[\w-]+$/, 'a state machine ARN'),
});
export type TeardownProperties = z.output<typeof propertiesSchema>;

/** Time kept back from the Lambda timeout to delete configs and models and answer CloudFormation. */
const ANSWER_MARGIN_MS = 90_000;

/**
 * onEvent of the SageMaker teardown resource (cr.Provider). Create and Update do nothing
 * and keep the physical id, so no update ever turns into a Delete of the old resource;
 * Delete removes what the release tasks created, within the invocation's own time.
 */
export function makeHandler(deps: TeardownDeps) {
  return async (event: CloudFormationCustomResourceEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>) => {
    const parsed = propertiesSchema.safeParse(event.ResourceProperties);
    if (event.RequestType === 'Delete' && !parsed.success) {
      // Never block a stack deletion, and never guess what to delete.
      logger.error('SageMaker teardown skipped: invalid resource properties', { issues: parsed.error.issues });
      return { PhysicalResourceId: event.PhysicalResourceId };
    }
    if (!parsed.success)
      throw new Error(
        `SageMaker teardown: invalid properties: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );
    const props = parsed.data;
    const PhysicalResourceId = event.RequestType === 'Create' ? `${props.SageMakerPrefix}sagemaker-teardown` : event.PhysicalResourceId;
    if (event.RequestType !== 'Delete') return { PhysicalResourceId };
    const deadline = deps.now() + Math.max(0, (context?.getRemainingTimeInMillis() ?? 0) - ANSWER_MARGIN_MS);
    const result = await tearDown(deps, { prefix: props.SageMakerPrefix, releaseStateMachineArn: props.ReleaseStateMachineArn, deadline });
    if (result.failures.length || result.remainingEndpoints.length)
      logger.warn('SageMaker resources left after the stack deletion', { ...result });
    else logger.info('SageMaker teardown', { ...result });
    return { PhysicalResourceId };
  };
}

export const handler = makeHandler({
  sagemaker: createSageMakerClient(),
  sfn: createSfnClient(),
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
});
