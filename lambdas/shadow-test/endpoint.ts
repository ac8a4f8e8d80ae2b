import {
  CreateEndpointConfigCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  UpdateEndpointCommand,
  type DeploymentConfig,
  type DescribeEndpointCommandOutput,
  type ProductionVariant,
  type SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { EndpointBusyError, isSageMakerAlreadyExists, isSageMakerNotFound } from '../shared/errors';

/**
 * The shadow variant on the production endpoint. SageMaker runs a shadow as part of an endpoint
 * config (`ShadowProductionVariants`), so adding one is an update to a config that copies the
 * production config's variants and data capture and adds the candidate; removing it is an update
 * back to the production config. The local cloud's endpoint host does the same
 * (lib/local/services/sagemaker/runtime.ts).
 */

/**
 * Both swaps (to the shadow config and back) move all traffic at once, then keep the old fleet
 * for a while before terminating it, so requests in flight on it finish instead of failing: a
 * failure there would count against production's 5xx rollback alarm, whose window the production
 * deployment after the approval reads.
 */
const DRAINED_SWAP: DeploymentConfig = {
  BlueGreenUpdatePolicy: { TrafficRoutingConfiguration: { Type: 'ALL_AT_ONCE', WaitIntervalInSeconds: 0 }, TerminationWaitInSeconds: 30 },
};

/** The shadow variant's name; the capture of its answers is under `capture/<model>/<endpoint>/Shadow/`. */
export const SHADOW_VARIANT = 'Shadow';

export interface ShadowEndpointDeps {
  sagemaker: SageMakerClient;
}

/** What the stage put on the endpoint, handed from StartShadowTest to the later states. */
export interface ShadowPlacement {
  endpointName: string;
  productionConfigName: string;
  shadowConfigName: string;
  productionVariant: string;
}

export async function describeEndpoint(deps: ShadowEndpointDeps, name: string): Promise<DescribeEndpointCommandOutput | undefined> {
  try {
    return await deps.sagemaker.send(new DescribeEndpointCommand({ EndpointName: name }));
  } catch (err) {
    if (isSageMakerNotFound(err)) return undefined;
    throw err;
  }
}

/** The fields of a described variant that CreateEndpointConfig takes back. */
function asInput(v: ProductionVariant): ProductionVariant {
  return {
    VariantName: v.VariantName,
    ModelName: v.ModelName,
    InstanceType: v.InstanceType,
    InitialInstanceCount: v.InitialInstanceCount,
    InitialVariantWeight: v.InitialVariantWeight,
  };
}

/**
 * Create the shadow config (once: "already exists" is success) and update the endpoint to it.
 * The sampling is the shadow's weight over the production variant's, which is how SageMaker
 * reads ShadowProductionVariants' weights.
 */
export async function addShadow(
  deps: ShadowEndpointDeps,
  input: {
    endpointName: string;
    currentConfigName: string;
    shadowConfigName: string;
    modelName: string;
    instanceType: string;
    samplingPercent: number;
  },
): Promise<ShadowPlacement> {
  const current = await deps.sagemaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName: input.currentConfigName }));
  const production = (current.ProductionVariants ?? []).map(asInput);
  if (production.length !== 1)
    throw new Error(`${input.currentConfigName} has ${production.length} production variants; a shadow copies the requests of exactly one`);
  const weight = production[0]!.InitialVariantWeight ?? 1;
  try {
    await deps.sagemaker.send(
      new CreateEndpointConfigCommand({
        EndpointConfigName: input.shadowConfigName,
        ProductionVariants: production,
        ShadowProductionVariants: [
          {
            VariantName: SHADOW_VARIANT,
            ModelName: input.modelName,
            InstanceType: input.instanceType as never,
            InitialInstanceCount: 1,
            InitialVariantWeight: (weight * input.samplingPercent) / 100,
          },
        ],
        DataCaptureConfig: current.DataCaptureConfig,
        KmsKeyId: current.KmsKeyId,
        Tags: [{ Key: 'mlship:stage', Value: 'shadow' }],
      }),
    );
  } catch (err) {
    if (!isSageMakerAlreadyExists(err)) throw err;
  }
  await deps.sagemaker.send(
    new UpdateEndpointCommand({
      EndpointName: input.endpointName,
      EndpointConfigName: input.shadowConfigName,
      DeploymentConfig: DRAINED_SWAP,
    }),
  );
  return {
    endpointName: input.endpointName,
    productionConfigName: input.currentConfigName,
    shadowConfigName: input.shadowConfigName,
    productionVariant: production[0]!.VariantName!,
  };
}

/**
 * Put the endpoint back on the production config when it serves (or is moving to) the shadow
 * config. `removed` when this call asked for it, `absent` when there was no shadow to remove.
 * @throws EndpointBusyError while the endpoint is mid-update (the state machine retries)
 */
export async function removeShadow(deps: ShadowEndpointDeps, p: ShadowPlacement): Promise<'removed' | 'absent'> {
  const ep = await describeEndpoint(deps, p.endpointName);
  if (!ep) return 'absent';
  const moving = ep.PendingDeploymentSummary?.EndpointConfigName;
  if (moving === p.productionConfigName) return 'removed';
  if (ep.EndpointConfigName !== p.shadowConfigName && moving !== p.shadowConfigName) return 'absent';
  if (ep.EndpointStatus !== 'InService')
    throw new EndpointBusyError(`${p.endpointName} is ${ep.EndpointStatus}; the shadow variant is removed once it settles`);
  if (ep.EndpointConfigName !== p.shadowConfigName) return 'absent';
  await deps.sagemaker.send(
    new UpdateEndpointCommand({ EndpointName: p.endpointName, EndpointConfigName: p.productionConfigName, DeploymentConfig: DRAINED_SWAP }),
  );
  return 'removed';
}

/**
 * Why the variant an experiment put on the endpoint (with `configName`: the shadow's or the A/B
 * test's) is not there and will not come (the update to it failed or was rolled back: the
 * endpoint is in service on another config), or undefined while it is there or on its way.
 */
export async function variantGone(
  deps: ShadowEndpointDeps,
  endpointName: string,
  configName: string,
  what: string,
): Promise<string | undefined> {
  const ep = await describeEndpoint(deps, endpointName);
  if (!ep) return `the production endpoint ${endpointName} is gone`;
  if (ep.EndpointStatus !== 'InService' || ep.EndpointConfigName === configName || ep.PendingDeploymentSummary) return undefined;
  return `${what} is not on ${endpointName}, which serves ${ep.EndpointConfigName}${ep.FailureReason ? ` (${ep.FailureReason})` : ''}`;
}
