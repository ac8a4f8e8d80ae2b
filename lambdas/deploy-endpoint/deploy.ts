import type { S3Client } from '@aws-sdk/client-s3';
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DeleteEndpointCommand,
  DescribeEndpointCommand,
  UpdateEndpointCommand,
  type DeploymentConfig,
  type SageMakerClient,
  type TrafficRoutingConfig,
} from '@aws-sdk/client-sagemaker';
import type { ModelManifest } from '../../lib/config';
import { EndpointBusyError, EndpointFailedError, isSageMakerAlreadyExists as isAlreadyExists, isSageMakerNotFound } from '../shared/errors';
import { endpointConfigName, keys, rollbackAlarmNames, s3Uri, sagemakerModelName, VARIANT_NAME, type Stage } from '../shared/names';
import { readVersion, updateVersion } from '../shared/registry';
import { acceptsKmsKeyId } from './instance-storage';

export interface DeployDeps {
  s3: S3Client;
  sagemaker: SageMakerClient;
  bucket: string;
  sagemakerRoleArn: string;
  kmsKeyId: string | undefined;
  rollbackAlarmPrefix: string;
  now: () => Date;
}

export interface DeployInput {
  model: string;
  version: string;
  stage: Stage;
  endpointName: string;
}

export interface DeployResult {
  endpointName: string;
  endpointConfigName: string;
  action: 'created' | 'updated' | 'unchanged';
}

/**
 * The blue/green policy of a production update, from the manifest's `deployment`. The
 * manifest was checked against SageMaker's limits when it loaded (`lib/config/blue-green.ts`),
 * so the bake is passed as it is, never silently shortened.
 */
export function blueGreenConfig(deployment: ModelManifest['deployment'], alarmNames: string[]): DeploymentConfig {
  const bake = deployment.bakeTime;
  const step = { Type: 'CAPACITY_PERCENT' as const, Value: deployment.stepPercent };
  const routing: TrafficRoutingConfig =
    deployment.strategy === 'canary'
      ? { Type: 'CANARY', WaitIntervalInSeconds: bake, CanarySize: step }
      : deployment.strategy === 'linear'
        ? { Type: 'LINEAR', WaitIntervalInSeconds: bake, LinearStepSize: step }
        : { Type: 'ALL_AT_ONCE', WaitIntervalInSeconds: bake };
  return {
    BlueGreenUpdatePolicy: { TrafficRoutingConfiguration: routing, TerminationWaitInSeconds: bake },
    AutoRollbackConfiguration: { Alarms: alarmNames.map((AlarmName) => ({ AlarmName })) },
  };
}

async function ignoreAlreadyExists(send: () => Promise<unknown>): Promise<void> {
  try {
    await send();
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
}

/**
 * Create or update the stage's endpoint with the version's image. Every name is
 * deterministic and "already exists" is success, so a retried invocation converges on the
 * same model, config and endpoint. Staging updates all at once without alarms; production
 * updates blue/green with the manifest's traffic shifting and the model's rollback alarms.
 */
export async function deployEndpoint(deps: DeployDeps, input: DeployInput): Promise<DeployResult> {
  const { value: record } = await readVersion(deps, input.model, input.version);
  const imageUri = record.build?.imageUri;
  if (!imageUri)
    throw new EndpointFailedError(`${input.model} ${input.version} has no built image to deploy (registry build.imageUri is empty)`);
  const manifest = record.manifest;
  const modelName = sagemakerModelName(input.model, input.version);
  const configName = endpointConfigName(input.model, input.version, input.stage);

  await ignoreAlreadyExists(() =>
    deps.sagemaker.send(
      new CreateModelCommand({
        ModelName: modelName,
        ExecutionRoleArn: deps.sagemakerRoleArn,
        PrimaryContainer: {
          Image: imageUri,
          Environment: { MLSHIP_MODEL: input.model, MLSHIP_VERSION: input.version },
          // A version trained by a SageMaker training job serves that job's model.tar.gz (in /opt/ml/model).
          ...(record.trainingJob?.artifactUri ? { ModelDataUrl: record.trainingJob.artifactUri } : {}),
        },
        Tags: [
          { Key: 'mlship:model', Value: input.model },
          { Key: 'mlship:version', Value: input.version },
        ],
      }),
    ),
  );
  await ignoreAlreadyExists(() =>
    deps.sagemaker.send(
      new CreateEndpointConfigCommand({
        EndpointConfigName: configName,
        ProductionVariants: [
          {
            VariantName: VARIANT_NAME,
            ModelName: modelName,
            InstanceType: manifest.serve.instanceType as never,
            InitialInstanceCount: input.stage === 'staging' ? 1 : manifest.serve.instanceCount,
            InitialVariantWeight: 1,
          },
        ],
        DataCaptureConfig: {
          EnableCapture: true,
          InitialSamplingPercentage: 100,
          DestinationS3Uri: s3Uri(deps.bucket, keys.capture(input.model).replace(/\/$/, '')),
          KmsKeyId: deps.kmsKeyId,
          CaptureOptions: [{ CaptureMode: 'Input' }, { CaptureMode: 'Output' }],
          CaptureContentTypeHeader: { JsonContentTypes: ['application/json'], CsvContentTypes: ['text/csv'] },
        },
        // SageMaker refuses a KmsKeyId for instance types with local NVMe storage (encrypted
        // by the instance itself); the capture above is S3 and keeps the key either way.
        KmsKeyId: acceptsKmsKeyId(manifest.serve.instanceType) ? deps.kmsKeyId : undefined,
        Tags: [
          { Key: 'mlship:model', Value: input.model },
          { Key: 'mlship:stage', Value: input.stage },
        ],
      }),
    ),
  );

  const action = await createOrUpdate(deps, input, configName, manifest);
  await updateVersion(
    deps,
    input.model,
    input.version,
    (r, at) => ({
      ...r,
      // A retried invocation replaces its own unsettled entry instead of adding a second one.
      deployments: [
        ...r.deployments.filter((d) => !(d.stage === input.stage && d.endpointConfigName === configName && d.result === null)),
        {
          stage: input.stage,
          endpointName: input.endpointName,
          endpointConfigName: configName,
          action,
          strategy: input.stage === 'staging' ? 'all-at-once' : manifest.deployment.strategy,
          at,
          result: null,
          failureReason: null,
        },
      ],
    }),
    deps.now,
  );
  return { endpointName: input.endpointName, endpointConfigName: configName, action };
}

async function createOrUpdate(
  deps: DeployDeps,
  input: DeployInput,
  configName: string,
  manifest: ModelManifest,
): Promise<DeployResult['action']> {
  let current;
  try {
    current = await deps.sagemaker.send(new DescribeEndpointCommand({ EndpointName: input.endpointName }));
  } catch (err) {
    if (!isSageMakerNotFound(err)) throw err;
    try {
      await deps.sagemaker.send(new CreateEndpointCommand({ EndpointName: input.endpointName, EndpointConfigName: configName }));
    } catch (createErr) {
      // Another attempt created it between our describe and create: the next attempt updates.
      if (isAlreadyExists(createErr))
        throw new EndpointBusyError(`${input.endpointName} appeared while being created`, { cause: createErr });
      throw createErr;
    }
    return 'created';
  }

  if (current.EndpointConfigName === configName) return 'unchanged';
  switch (current.EndpointStatus) {
    case 'InService':
      break;
    case 'Failed':
      // A failed endpoint accepts no update; delete it so the retry creates it afresh.
      await deps.sagemaker.send(new DeleteEndpointCommand({ EndpointName: input.endpointName }));
      throw new EndpointBusyError(`${input.endpointName} was Failed and is being deleted to be created again`);
    case 'Creating':
    case 'Updating':
    case 'SystemUpdating':
    case 'RollingBack':
    case 'Deleting':
      throw new EndpointBusyError(`${input.endpointName} is ${current.EndpointStatus}; it cannot be updated until it settles`);
    default:
      throw new EndpointFailedError(`${input.endpointName} is ${current.EndpointStatus} and cannot be updated`);
  }
  await deps.sagemaker.send(
    new UpdateEndpointCommand({
      EndpointName: input.endpointName,
      EndpointConfigName: configName,
      DeploymentConfig:
        input.stage === 'production'
          ? blueGreenConfig(manifest.deployment, rollbackAlarmNames(deps.rollbackAlarmPrefix, input.model))
          : undefined,
    }),
  );
  return 'updated';
}
