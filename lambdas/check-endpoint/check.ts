import type { S3Client } from '@aws-sdk/client-s3';
import { DescribeEndpointCommand, type SageMakerClient } from '@aws-sdk/client-sagemaker';
import { isSageMakerNotFound } from '../shared/errors';
import { endpointConfigName, type Stage } from '../shared/names';
import { updateVersion, type DeploymentEntry } from '../shared/registry';

export interface CheckEndpointDeps {
  s3: S3Client;
  sagemaker: SageMakerClient;
  bucket: string;
  now: () => Date;
}

export type EndpointState = 'InService' | 'Updating' | 'Failed' | 'RolledBack';

export interface CheckEndpointResult {
  status: EndpointState;
  failureReason: string | null;
}

const SETTLING = new Set(['Creating', 'Updating', 'SystemUpdating', 'RollingBack']);

/**
 * Map DescribeEndpoint to the four states the workflow's Choice reads.
 *
 * A blue/green update that an alarm rolled back ends `InService` on the *old* config, so
 * InService only counts when the endpoint serves this version's config; otherwise the
 * deployment was rolled back. Every settled state is recorded on the version's last
 * deployment of the stage.
 */
export async function checkEndpoint(
  deps: CheckEndpointDeps,
  input: { model: string; version: string; stage: Stage; endpointName: string },
): Promise<CheckEndpointResult> {
  let described;
  try {
    described = await deps.sagemaker.send(new DescribeEndpointCommand({ EndpointName: input.endpointName }));
  } catch (err) {
    if (!isSageMakerNotFound(err)) throw err;
    return settle(deps, input, { status: 'Failed', failureReason: `endpoint ${input.endpointName} does not exist` });
  }
  const status = described.EndpointStatus ?? 'Creating';
  const expected = endpointConfigName(input.model, input.version, input.stage);
  if (SETTLING.has(status)) return { status: 'Updating', failureReason: null };
  if (status === 'InService') {
    if (described.EndpointConfigName === expected) return settle(deps, input, { status: 'InService', failureReason: null });
    return settle(deps, input, {
      status: 'RolledBack',
      failureReason:
        described.FailureReason ??
        `the update ended InService on ${described.EndpointConfigName ?? 'another config'} instead of ${expected}`,
    });
  }
  // Failed, UpdateRollbackFailed, OutOfService, Deleting: nothing this release can wait for.
  return settle(deps, input, { status: 'Failed', failureReason: described.FailureReason ?? `endpoint ${input.endpointName} is ${status}` });
}

const RESULT: Record<Exclude<EndpointState, 'Updating'>, DeploymentEntry['result']> = {
  InService: 'in-service',
  RolledBack: 'rolled-back',
  Failed: 'failed',
};

async function settle(
  deps: CheckEndpointDeps,
  input: { model: string; version: string; stage: Stage },
  result: CheckEndpointResult & { status: Exclude<EndpointState, 'Updating'> },
): Promise<CheckEndpointResult> {
  await updateVersion(
    deps,
    input.model,
    input.version,
    (r) => {
      const i = r.deployments.findLastIndex((d) => d.stage === input.stage);
      if (i < 0) return r;
      const deployments = [...r.deployments];
      deployments[i] = { ...deployments[i]!, result: RESULT[result.status], failureReason: result.failureReason };
      return { ...r, deployments };
    },
    deps.now,
  );
  return result;
}
