import type { CloudFormationCustomResourceEvent, Context } from 'aws-lambda';
import { createSageMakerClient, createSfnClient } from '../../../lambdas/shared/clients';
import { logger } from '../../../lambdas/shared/logger';
import { tearDown, type TeardownDeps } from './teardown';

/** The resource's properties (see constructs/sagemaker-teardown.ts). */
export interface TeardownProperties {
  SageMakerPrefix: string;
  ReleaseStateMachineArn: string;
}

/** Time kept back from the Lambda timeout to delete configs and models and answer CloudFormation. */
const ANSWER_MARGIN_MS = 90_000;

/**
 * onEvent of the SageMaker teardown resource (cr.Provider). Create and Update do nothing
 * and keep the physical id, so no update ever turns into a Delete of the old resource;
 * Delete removes what the release tasks created, within the invocation's own time.
 */
export function makeHandler(deps: TeardownDeps) {
  return async (event: CloudFormationCustomResourceEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>) => {
    const props = event.ResourceProperties as unknown as TeardownProperties;
    const PhysicalResourceId = event.RequestType === 'Create' ? `${props.SageMakerPrefix}sagemaker-teardown` : event.PhysicalResourceId;
    if (event.RequestType !== 'Delete') return { PhysicalResourceId };
    const deadline = deps.now() + Math.max(0, (context?.getRemainingTimeInMillis() ?? 0) - ANSWER_MARGIN_MS);
    const result = await tearDown(deps, { prefix: props.SageMakerPrefix, releaseStateMachineArn: props.ReleaseStateMachineArn, deadline });
    if (result.failures.length || result.remainingEndpoints.length) logger.warn('SageMaker resources left after the stack deletion', { ...result });
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
