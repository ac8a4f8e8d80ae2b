import {
  CreateEndpointConfigCommand,
  DescribeEndpointConfigCommand,
  UpdateEndpointCommand,
  type ProductionVariant,
} from '@aws-sdk/client-sagemaker';
import { EndpointBusyError, isSageMakerAlreadyExists } from '../shared/errors';
import { describeEndpoint, type ShadowEndpointDeps } from '../shadow-test/endpoint';

/**
 * The candidate as a second production variant of the production endpoint. A production
 * variant's share of requests is its weight over the sum of the weights, on SageMaker as in the
 * local endpoint host (lib/local/services/sagemaker/fleet.ts), so adding it is an update to a
 * config that copies the production config (its variant, data capture and key) and adds the
 * candidate; removing it is an update back to the production config. Both callers' answers
 * are captured under `capture/<model>/<endpoint>/<variant>/`, which is how the test tells the arms apart.
 */

/** The candidate's variant name. */
export const CANDIDATE_VARIANT = 'Candidate';

/**
 * Both swaps (adding the candidate, going back to production's variant alone) change the set of
 * variant names, and SageMaker's deployment guardrails (a DeploymentConfig with a blue/green or
 * rolling policy) require the new config to have the old config's variant names
 * (https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-exclusions.html). So the
 * updates send no DeploymentConfig: SageMaker's default update, blue/green with all traffic at
 * once once the new fleet is in service, which is how AWS documents adding a variant for A/B tests.
 */

/** What the test put on the endpoint, handed from StartAbTest to the later states. */
export interface AbPlacement {
  endpointName: string;
  productionConfigName: string;
  abConfigName: string;
  productionVariant: string;
}

/** Create the A/B config (once: "already exists" is success) and update the endpoint to it. */
export async function addCandidate(
  deps: ShadowEndpointDeps,
  input: {
    endpointName: string;
    productionConfigName: string;
    abConfigName: string;
    modelName: string;
    instanceType: string;
    trafficPercent: number;
  },
): Promise<AbPlacement> {
  const current = await deps.sagemaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName: input.productionConfigName }));
  const production = current.ProductionVariants ?? [];
  if (production.length !== 1)
    throw new Error(
      `${input.productionConfigName} has ${production.length} production variants; the A/B test splits the traffic of exactly one`,
    );
  const p: ProductionVariant = production[0]!;
  try {
    await deps.sagemaker.send(
      new CreateEndpointConfigCommand({
        EndpointConfigName: input.abConfigName,
        ProductionVariants: [
          {
            VariantName: p.VariantName,
            ModelName: p.ModelName,
            InstanceType: p.InstanceType,
            InitialInstanceCount: p.InitialInstanceCount,
            InitialVariantWeight: 100 - input.trafficPercent,
          },
          {
            VariantName: CANDIDATE_VARIANT,
            ModelName: input.modelName,
            InstanceType: input.instanceType as never,
            InitialInstanceCount: 1,
            InitialVariantWeight: input.trafficPercent,
          },
        ],
        DataCaptureConfig: current.DataCaptureConfig,
        KmsKeyId: current.KmsKeyId,
        Tags: [{ Key: 'mlship:stage', Value: 'ab' }],
      }),
    );
  } catch (err) {
    if (!isSageMakerAlreadyExists(err)) throw err;
  }
  await deps.sagemaker.send(new UpdateEndpointCommand({ EndpointName: input.endpointName, EndpointConfigName: input.abConfigName }));
  return {
    endpointName: input.endpointName,
    productionConfigName: input.productionConfigName,
    abConfigName: input.abConfigName,
    productionVariant: p.VariantName!,
  };
}

/**
 * Put the endpoint back on the production config when it serves (or is moving to) the A/B config.
 * `removed` when this call asked for it (or it is under way), `absent` when there was nothing to remove.
 * @throws EndpointBusyError while the endpoint is mid-update (the state machine retries)
 */
export async function removeCandidate(deps: ShadowEndpointDeps, p: AbPlacement): Promise<'removed' | 'absent'> {
  const ep = await describeEndpoint(deps, p.endpointName);
  if (!ep) return 'absent';
  const moving = ep.PendingDeploymentSummary?.EndpointConfigName;
  if (moving === p.productionConfigName) return 'removed';
  if (ep.EndpointConfigName !== p.abConfigName && moving !== p.abConfigName) return 'absent';
  if (ep.EndpointStatus !== 'InService')
    throw new EndpointBusyError(`${p.endpointName} is ${ep.EndpointStatus}; the candidate variant is removed once it settles`);
  await deps.sagemaker.send(new UpdateEndpointCommand({ EndpointName: p.endpointName, EndpointConfigName: p.productionConfigName }));
  return 'removed';
}
