import { DeleteEndpointCommand, DeleteEndpointConfigCommand, DeleteModelCommand, type SageMakerClient } from '@aws-sdk/client-sagemaker';
import { DescribeStateMachineCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { isSageMakerNotFound } from '../../../lambdas/shared/errors';
import { listEndpointConfigNames, listEndpointNames, listModelNames } from '../../../lambdas/shared/sagemaker-inventory';

export interface TeardownDeps {
  sagemaker: SageMakerClient;
  sfn: SFNClient;
  /** Milliseconds since the epoch. */
  now: () => number;
  sleep: (ms: number) => Promise<void>;
}

export interface TeardownInput {
  /** Every SageMaker resource the release tasks create starts with it (lambdas/shared/names.ts). */
  prefix: string;
  /** The release state machine, deleted before this resource when the stack is deleted. */
  releaseStateMachineArn: string;
  /** When to stop waiting for endpoints to go (ms since the epoch): the delete must end. */
  deadline: number;
  /** @default 15 s */
  pollMs?: number;
}

export interface TeardownResult {
  /** Why nothing was deleted, or null. */
  skipped: string | null;
  deletedEndpoints: string[];
  deletedConfigs: string[];
  deletedModels: string[];
  /** Endpoints still deleting when the deadline came. */
  remainingEndpoints: string[];
  failures: { name: string; error: string }[];
}

const describeError = (err: unknown) => `${(err as Error).name}: ${(err as Error).message}`;

/**
 * Whether the stack is being deleted, rather than rolled back or cleaned up after an update
 * (CloudFormation sends a custom resource Delete in all three). The stack makes the release
 * state machine depend on this resource, so a stack deletion removes the machine first; in
 * a rollback or cleanup it is still active, and the endpoints serving traffic must stay.
 */
async function stackIsBeingDeleted(deps: TeardownDeps, releaseStateMachineArn: string): Promise<boolean> {
  try {
    const machine = await deps.sfn.send(new DescribeStateMachineCommand({ stateMachineArn: releaseStateMachineArn }));
    return machine.status === 'DELETING';
  } catch (err) {
    if ((err as Error).name === 'StateMachineDoesNotExist') return true;
    throw err;
  }
}

async function deleteEach(names: string[], remove: (name: string) => Promise<unknown>, result: TeardownResult): Promise<string[]> {
  const deleted: string[] = [];
  for (const name of names) {
    try {
      await remove(name);
      deleted.push(name);
    } catch (err) {
      if (isSageMakerNotFound(err)) deleted.push(name);
      else result.failures.push({ name, error: describeError(err) });
    }
  }
  return deleted;
}

/**
 * Delete the SageMaker endpoints, endpoint configs and models the release tasks created
 * (CloudFormation does not know them), when the stack is being deleted.
 *
 * Endpoints first, then wait until they are gone (they bill until then), then configs and
 * models. The wait ends at `deadline` whatever is left, and no failure is thrown: a stack
 * delete must not hang or fail on them; what is left is in the result and the log, and
 * README-INFRA.md says how to find it.
 */
export async function tearDown(deps: TeardownDeps, input: TeardownInput): Promise<TeardownResult> {
  const result: TeardownResult = {
    skipped: null,
    deletedEndpoints: [],
    deletedConfigs: [],
    deletedModels: [],
    remainingEndpoints: [],
    failures: [],
  };
  try {
    if (!(await stackIsBeingDeleted(deps, input.releaseStateMachineArn))) {
      result.skipped = `the release state machine ${input.releaseStateMachineArn} is still active: a rollback or an update's cleanup, not a stack deletion`;
      return result;
    }
    const endpoints = await listEndpointNames(deps.sagemaker, input.prefix);
    result.deletedEndpoints = await deleteEach(
      endpoints,
      (name) => deps.sagemaker.send(new DeleteEndpointCommand({ EndpointName: name })),
      result,
    );
    let remaining = await listEndpointNames(deps.sagemaker, input.prefix);
    while (remaining.length && deps.now() + (input.pollMs ?? 15_000) < input.deadline) {
      await deps.sleep(input.pollMs ?? 15_000);
      remaining = await listEndpointNames(deps.sagemaker, input.prefix);
    }
    result.remainingEndpoints = remaining;
    const configs = await listEndpointConfigNames(deps.sagemaker, input.prefix);
    result.deletedConfigs = await deleteEach(
      configs,
      (name) => deps.sagemaker.send(new DeleteEndpointConfigCommand({ EndpointConfigName: name })),
      result,
    );
    const models = await listModelNames(deps.sagemaker, input.prefix);
    result.deletedModels = await deleteEach(models, (name) => deps.sagemaker.send(new DeleteModelCommand({ ModelName: name })), result);
  } catch (err) {
    result.failures.push({ name: 'inventory', error: describeError(err) });
  }
  return result;
}
