import * as z from 'zod';
import { createS3Client, createSageMakerClient, withLazyClients } from '../shared/clients';
import { releaseKeys, releaseTaskEvent, stage } from '../shared/contract';
import { getOptionalStringFromEnv, getStringFromEnv, TASK_ENV } from '../shared/env';
import { defineTask } from '../shared/task';
import { deployEndpoint, type DeployDeps, type DeployResult } from './deploy';

/**
 * DeployEndpoint (states DeployStaging and DeployProduction).
 *
 * Event: `{ model, version, executionId, executionName, stage: "staging"|"production", endpointName }`.
 * Result: `{ endpointName, endpointConfigName, action: "created"|"updated"|"unchanged" }`.
 *
 * SageMaker model `mlship-<model>-<version>` (image = the build's IMAGE_URI), config
 * `mlship-<model>-<version>-s|p` with one variant `AllTraffic` and data capture to
 * `s3://<bucket>/capture/<model>`; production updates are blue/green with the rollback
 * alarms `${ROLLBACK_ALARM_PREFIX}<model>-5xx` and `-p99-latency`.
 */
export const eventSchema = releaseTaskEvent.extend({
  stage,
  endpointName: z.string().regex(/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/, 'a SageMaker endpoint name'),
});
export type DeployEndpointEvent = z.input<typeof eventSchema>;
export type { DeployResult as DeployEndpointResult };

export const makeHandler = (deps: DeployDeps) => defineTask('DeployEndpoint', eventSchema, releaseKeys, (e) => deployEndpoint(deps, e));

export function fromEnv(): DeployDeps {
  return withLazyClients(
    {
      bucket: getStringFromEnv(TASK_ENV.artifactBucket),
      sagemakerRoleArn: getStringFromEnv(TASK_ENV.sagemakerRoleArn),
      kmsKeyId: getOptionalStringFromEnv(TASK_ENV.kmsKeyId),
      rollbackAlarmPrefix: getStringFromEnv(TASK_ENV.rollbackAlarmPrefix),
      now: () => new Date(),
    },
    { s3: createS3Client, sagemaker: createSageMakerClient },
  );
}

export const handler = makeHandler(fromEnv());
