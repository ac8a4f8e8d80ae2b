import type { S3Client } from '@aws-sdk/client-s3';
import type { TrainingSpec } from '../../lib/config';
import { TerminalError } from '../shared/errors';
import { keys, s3Uri, trainingJobName } from '../shared/names';
import { readVersion, updateVersion } from '../shared/registry';

export interface PrepareTrainingDeps {
  s3: S3Client;
  bucket: string;
  /** The role the training job runs with (the SageMaker execution role). */
  sagemakerRoleArn: string;
  kmsKeyId: string | undefined;
  now: () => Date;
}

/** The model was built but has nothing to train with: no image, or no build output for a build channel. */
export class TrainingNotPossibleError extends TerminalError {
  constructor(message: string) {
    super(message);
    this.name = 'TrainingNotPossibleError';
  }
}

/**
 * SageMaker's CreateTrainingJob request, in the field names of the API, as the release's
 * TrainModel state (createTrainingJob.sync) passes it on.
 */
export interface TrainingJobRequest {
  TrainingJobName: string;
  RoleArn: string;
  AlgorithmSpecification: {
    TrainingImage: string;
    TrainingInputMode: 'File';
    ContainerEntrypoint: string[];
    MetricDefinitions: Array<{ Name: string; Regex: string }>;
  };
  HyperParameters: Record<string, string>;
  InputDataConfig: Array<{
    ChannelName: string;
    DataSource: { S3DataSource: { S3DataType: 'S3Prefix'; S3Uri: string; S3DataDistributionType: 'FullyReplicated' } };
  }>;
  OutputDataConfig: { S3OutputPath: string; KmsKeyId?: string };
  ResourceConfig: { InstanceType: string; InstanceCount: number; VolumeSizeInGB: number; VolumeKmsKeyId?: string };
  StoppingCondition: { MaxRuntimeInSeconds: number; MaxWaitTimeInSeconds?: number };
  EnableManagedSpotTraining: boolean;
  CheckpointConfig: { S3Uri: string };
  /** The SM_* variables at SageMaker's /opt/ml paths (see {@link contractEnvironment}). */
  Environment: Record<string, string>;
  Tags: Array<{ Key: string; Value: string }>;
}

/**
 * SageMaker sets no SM_* variable in a container of our own (the sagemaker-training toolkit
 * does, and the images need not have it): the job passes them, at the /opt/ml paths of
 * SageMaker's training contract, so one training command reads `$SM_CHANNEL_TRAIN`,
 * `$SM_MODEL_DIR`, `$SM_HPS` ... on AWS as in the local cloud (which sets them to its workspace).
 */
export function contractEnvironment(t: TrainingSpec): Record<string, string> {
  const channels = Object.keys(t.channels);
  // An Environment value is at most 512 characters: longer hyperparameters are in hyperparameters.json only.
  const hps = JSON.stringify(t.hyperparameters);
  const upper = (name: string) => name.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
  return {
    SM_MODEL_DIR: '/opt/ml/model',
    SM_OUTPUT_DIR: '/opt/ml/output',
    SM_OUTPUT_DATA_DIR: '/opt/ml/output/data',
    SM_INPUT_DIR: '/opt/ml/input',
    SM_INPUT_CONFIG_DIR: '/opt/ml/input/config',
    SM_CHECKPOINT_DIR: '/opt/ml/checkpoints',
    ...(hps.length <= 512 ? { SM_HPS: hps } : {}),
    SM_CHANNELS: JSON.stringify(channels),
    ...Object.fromEntries(channels.map((c) => [`SM_CHANNEL_${upper(c)}`, `/opt/ml/input/data/${c}`])),
  };
}

/**
 * `request` is null in build mode (the ASL's ResultSelector reads it either way);
 * `timeoutSeconds` is TrainModel's state timeout, a backstop behind the job's own stopping
 * condition: the longest the job may take (max wait with spot) plus an hour to start and upload.
 */
export type PrepareTrainingResult =
  { mode: 'build'; request: null; timeoutSeconds: number } | { mode: 'sagemaker'; request: TrainingJobRequest; timeoutSeconds: number };

const TRAINING_MARGIN_SECONDS = 3600;

/** The build's output folder: CodeBuild's artifacts location recorded by CheckBuild. */
function buildOutput(artifactsUri: string | null, model: string, version: string): string {
  if (!artifactsUri)
    throw new TrainingNotPossibleError(`${model} ${version}: the build recorded no artifacts, so no channel can read the build output`);
  return artifactsUri.replace(/\/?$/, '/');
}

/** The CreateTrainingJob request for the manifest's training stage. */
export function trainingRequest(
  deps: Pick<PrepareTrainingDeps, 'bucket' | 'sagemakerRoleArn' | 'kmsKeyId'>,
  t: TrainingSpec,
  at: { model: string; version: string; imageUri: string; artifactsUri: string | null },
): TrainingJobRequest {
  const channels = Object.entries(t.channels).map(([name, c]) => ({
    ChannelName: name,
    DataSource: {
      S3DataSource: {
        S3DataType: 'S3Prefix' as const,
        S3Uri: 's3' in c ? c.s3 : `${buildOutput(at.artifactsUri, at.model, at.version)}${c.build}`,
        S3DataDistributionType: 'FullyReplicated' as const,
      },
    },
  }));
  return {
    TrainingJobName: trainingJobName(at.model, at.version),
    RoleArn: deps.sagemakerRoleArn,
    AlgorithmSpecification: {
      TrainingImage: at.imageUri,
      TrainingInputMode: 'File',
      // The manifest's command, the same on AWS and locally (the local cloud has no container
      // whose default `train` entrypoint it could run).
      ContainerEntrypoint: ['/bin/sh', '-c', t.command!],
      MetricDefinitions: t.metrics.map((m) => ({ Name: m.name, Regex: m.regex })),
    },
    HyperParameters: t.hyperparameters,
    InputDataConfig: channels,
    OutputDataConfig: { S3OutputPath: s3Uri(deps.bucket, keys.training(at.model, at.version)), KmsKeyId: deps.kmsKeyId },
    ResourceConfig: { InstanceType: t.instanceType, InstanceCount: t.instanceCount, VolumeSizeInGB: 30, VolumeKmsKeyId: deps.kmsKeyId },
    StoppingCondition: { MaxRuntimeInSeconds: t.maxRuntime, ...(t.spot.enabled ? { MaxWaitTimeInSeconds: t.spot.maxWait } : {}) },
    EnableManagedSpotTraining: t.spot.enabled,
    // Always set, so the ASL can pass it by path; without spot it is where /opt/ml/checkpoints is kept.
    CheckpointConfig: { S3Uri: t.spot.checkpointPath ?? s3Uri(deps.bucket, `${keys.training(at.model, at.version)}checkpoints/`) },
    Environment: contractEnvironment(t),
    Tags: [
      { Key: 'mlship:model', Value: at.model },
      { Key: 'mlship:version', Value: at.version },
    ],
  };
}

/**
 * After the build: where this version trains. `build` mode (the default, and every record
 * from before the training stage) goes on to staging; `sagemaker` gets the job's request.
 */
export async function prepareTraining(
  deps: PrepareTrainingDeps,
  input: { model: string; version: string },
): Promise<PrepareTrainingResult> {
  const { value: record } = await readVersion(deps, input.model, input.version);
  const training = (record.manifest as { training?: TrainingSpec }).training;
  if (!training || training.mode !== 'sagemaker') return { mode: 'build', request: null, timeoutSeconds: TRAINING_MARGIN_SECONDS };
  const imageUri = record.build?.imageUri;
  if (!imageUri)
    throw new TrainingNotPossibleError(
      `${input.model} ${input.version} has no built image to train with (registry build.imageUri is empty)`,
    );
  const request = trainingRequest(deps, training, {
    model: input.model,
    version: input.version,
    imageUri,
    artifactsUri: record.build?.artifactsUri ?? null,
  });
  await updateVersion(deps, input.model, input.version, (r, at) => ({
    ...r,
    trainingJob: { name: request.TrainingJobName, startedAt: at, status: 'InProgress' },
  }));
  const longest = training.spot.enabled ? training.spot.maxWait : training.maxRuntime;
  return { mode: 'sagemaker', request, timeoutSeconds: longest + TRAINING_MARGIN_SECONDS };
}
