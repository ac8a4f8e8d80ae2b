import { createHash } from 'node:crypto';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { TerminalError } from '../shared/errors';
import { parseS3Uri } from '../shared/names';
import { updateVersion, type TrainingJobInfo } from '../shared/registry';

export interface RecordTrainingDeps {
  s3: S3Client;
  bucket: string;
  now: () => Date;
}

/** The parts of DescribeTrainingJob (the createTrainingJob.sync result) the registry keeps. */
export interface FinishedJob {
  TrainingJobName: string;
  TrainingJobArn?: string;
  TrainingJobStatus: string;
  ModelArtifacts?: { S3ModelArtifacts?: string };
  HyperParameters?: Record<string, string>;
  FinalMetricDataList?: Array<{ MetricName?: string; Value?: number }>;
  BillableTimeInSeconds?: number;
  TrainingTimeInSeconds?: number;
  ResourceConfig?: { InstanceType?: string; InstanceCount?: number };
  EnableManagedSpotTraining?: boolean;
  TrainingStartTime?: unknown;
  TrainingEndTime?: unknown;
}

export interface RecordTrainingResult {
  jobName: string;
  artifactUri: string;
  artifactDigest: string;
  metrics: Record<string, number>;
  billableSeconds: number | null;
}

/** The job completed but left no model artifact to serve. */
export class MissingModelArtifactError extends TerminalError {
  constructor(message: string) {
    super(message);
    this.name = 'MissingModelArtifactError';
  }
}

/** sha256 of an S3 object, streamed (a model.tar.gz can be far larger than the function's memory). */
async function digestOf(s3: S3Client, uri: string): Promise<string> {
  const { bucket, key } = parseS3Uri(uri);
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const hash = createHash('sha256');
  for await (const chunk of out.Body as AsyncIterable<Uint8Array>) hash.update(chunk);
  return `sha256:${hash.digest('hex')}`;
}

/**
 * Record a completed training job on its version: job name, the model artifact and its
 * digest (what staging and production will serve), hyperparameters, final metrics and the
 * billable seconds.
 *
 * @throws MissingModelArtifactError when the job names no model.tar.gz
 */
export async function recordTraining(
  deps: RecordTrainingDeps,
  input: { model: string; version: string; job: FinishedJob },
): Promise<RecordTrainingResult> {
  const { job } = input;
  const artifactUri = job.ModelArtifacts?.S3ModelArtifacts;
  if (!artifactUri)
    throw new MissingModelArtifactError(`training job ${job.TrainingJobName} completed without ModelArtifacts.S3ModelArtifacts`);
  const artifactDigest = await digestOf(deps.s3, artifactUri);
  const metrics = Object.fromEntries(
    (job.FinalMetricDataList ?? []).filter((m) => m.MetricName && typeof m.Value === 'number').map((m) => [m.MetricName!, m.Value!]),
  );
  const billableSeconds = job.BillableTimeInSeconds ?? null;
  await updateVersion(
    deps,
    input.model,
    input.version,
    (r, at) => {
      const info: TrainingJobInfo = {
        name: job.TrainingJobName,
        startedAt: r.trainingJob?.startedAt ?? at,
        finishedAt: at,
        status: job.TrainingJobStatus,
        arn: job.TrainingJobArn,
        artifactUri,
        artifactDigest,
        hyperparameters: job.HyperParameters ?? {},
        metrics,
        billableSeconds,
        trainingSeconds: job.TrainingTimeInSeconds ?? null,
        instanceType: job.ResourceConfig?.InstanceType,
        instanceCount: job.ResourceConfig?.InstanceCount,
        spot: job.EnableManagedSpotTraining ?? false,
      };
      return { ...r, trainingJob: info };
    },
    deps.now,
  );
  return { jobName: job.TrainingJobName, artifactUri, artifactDigest, metrics, billableSeconds };
}
