import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { createS3Client, createSfnClient } from '../../../lambdas/shared/clients';
import { getStringFromEnv, TASK_ENV } from '../../../lambdas/shared/env';
import { logger } from '../../../lambdas/shared/logger';
import { startRelease, type StartReleaseDeps } from './start-release';

/** Lambda entry of the pipelines' release stage (see start-release.ts). */
export function makeHandler(deps: StartReleaseDeps) {
  return async (event: { 'CodePipeline.job'?: unknown }) => {
    const result = await startRelease(deps, event['CodePipeline.job']);
    if (result && 'skipped' in result)
      logger.info('no release: the pipeline execution was not started by a push or a manual release', { ...result });
    else if (result) logger.info('push handled', { ...result });
    else logger.warn('release stage failed; reported to CodePipeline');
    return result ?? null;
  };
}

function fromEnv(): StartReleaseDeps {
  return {
    s3: createS3Client(),
    sfn: createSfnClient(),
    codepipeline: new CodePipelineClient({}),
    artifactBucket: getStringFromEnv(TASK_ENV.artifactBucket),
    releaseStateMachineArn: getStringFromEnv(TASK_ENV.releaseStateMachineArn),
  };
}

export const handler = makeHandler(fromEnv());
