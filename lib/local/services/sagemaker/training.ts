import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ImageIndex } from '../ecr';
import { AwsServiceError, epochSeconds } from '../../core/service';
import type { BundleCache } from './bundles';
import { validation } from './errors';
import type { PythonRuntimes } from './python-runtime';
import { requireName } from './resources';
import { ResourceStore } from './store';
import {
  finalMetrics,
  hasObjects,
  packDir,
  parseS3Uri,
  prepareWorkspace,
  runPaths,
  startProcess,
  terminate,
  uploadPrefix,
  type RunningProcess,
  type RunSpec,
} from './training-run';

/**
 * SageMaker training jobs: CreateTrainingJob, DescribeTrainingJob and StopTrainingJob with
 * SageMaker's statuses and answers. The run itself (workspace, process, packing) is in
 * training-run.ts.
 *
 * As on SageMaker:
 * - InProgress (Starting > Downloading > Training > Uploading) until Completed, Failed or
 *   Stopped; a job name is unique for good (ResourceInUse).
 * - The command's exit code decides: 0 is Completed; otherwise Failed with FailureReason
 *   `AlgorithmError: <the failure file>, exit code: <n>` (the contract's /opt/ml/output/failure).
 * - MaxRuntimeInSeconds (real seconds, never scaled: a training run does not speed up) stops
 *   the job: SIGTERM, the grace period, then Stopped with SecondaryStatus MaxRuntimeExceeded.
 *   StopTrainingJob does the same with SecondaryStatus Stopped. A stopped job still uploads
 *   what it saved in model/, as SageMaker does with the 120 s after SIGTERM.
 * - FinalMetricDataList: the last value each MetricDefinition's regex matched in the log.
 *
 * Local differences: the command is the job's ContainerEntrypoint + ContainerArguments run in
 * the image's bundle (there is no container to carry a default `train` entrypoint), with the
 * SM_* variables pointing at the workspace rather than /opt/ml; one process whatever the
 * instance count; billable seconds equal training seconds (no spot discount); a job running
 * when the local cloud stops is Failed at the next start.
 */

type Dict = Record<string, unknown>;

export interface TrainingJobRecord extends Dict {
  TrainingJobName: string;
  TrainingJobArn: string;
  TrainingJobStatus: 'InProgress' | 'Completed' | 'Failed' | 'Stopping' | 'Stopped';
  SecondaryStatus: string;
  CreationTime: number;
  LastModifiedTime: number;
  SecondaryStatusTransitions: Array<{ Status: string; StartTime: number; EndTime?: number; StatusMessage: string }>;
}

export interface TrainingDeps {
  root: string;
  s3: S3Client;
  images: ImageIndex;
  bundles: BundleCache;
  runtimes: PythonRuntimes;
  region: string;
  accountId: string;
  timeScale: number;
}

/** SageMaker gives a stopped algorithm 120 s after SIGTERM; locally scaled, at least 2 s. */
const STOP_GRACE_SECONDS = 120;

interface Active {
  run?: RunningProcess;
  stopReason?: 'Stopped' | 'MaxRuntimeExceeded';
  timer?: NodeJS.Timeout;
  done: Promise<void>;
}

function str(input: Dict, path: string): string | undefined {
  const v = path.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Dict)[k] : undefined), input);
  return typeof v === 'string' ? v : undefined;
}

export class TrainingJobs {
  private readonly store: ResourceStore<TrainingJobRecord>;
  private readonly active = new Map<string, Active>();

  constructor(private readonly deps: TrainingDeps) {
    this.store = new ResourceStore(join(deps.root, 'training-jobs'));
    for (const rec of this.store.values()) {
      if (rec.TrainingJobStatus === 'InProgress' || rec.TrainingJobStatus === 'Stopping') {
        this.finish(rec, 'Failed', 'Failed', 'InternalServerError: the local cloud stopped while the job was running');
      }
    }
  }

  private arn(name: string): string {
    return `arn:aws:sagemaker:${this.deps.region}:${this.deps.accountId}:training-job/${name.toLowerCase()}`;
  }

  private transition(rec: TrainingJobRecord, status: string, message: string): void {
    const now = epochSeconds();
    const last = rec.SecondaryStatusTransitions.at(-1);
    if (last && last.EndTime === undefined) last.EndTime = now;
    rec.SecondaryStatusTransitions.push({ Status: status, StartTime: now, StatusMessage: message });
    rec.SecondaryStatus = status;
    rec.LastModifiedTime = now;
    this.store.put(rec.TrainingJobName, rec);
  }

  private finish(rec: TrainingJobRecord, status: 'Completed' | 'Failed' | 'Stopped', secondary: string, reason?: string): void {
    rec.TrainingJobStatus = status;
    if (reason) rec.FailureReason = reason;
    const end = epochSeconds();
    rec.TrainingEndTime = end;
    const start = typeof rec.TrainingStartTime === 'number' ? rec.TrainingStartTime : end;
    rec.TrainingTimeInSeconds = Math.max(1, Math.ceil(end - start));
    rec.BillableTimeInSeconds = rec.TrainingTimeInSeconds;
    this.transition(rec, secondary, reason ?? `Training job ${status.toLowerCase()}`);
    const last = rec.SecondaryStatusTransitions.at(-1)!;
    last.EndTime = last.StartTime;
    this.store.put(rec.TrainingJobName, rec);
  }

  /** Check the request the way SageMaker does and resolve what the run needs. */
  private specOf(input: Dict, name: string): { spec: RunSpec; image: string; maxRuntime: number; outputPath: string } {
    const image = str(input, 'AlgorithmSpecification.TrainingImage');
    if (!image) throw validation('AlgorithmSpecification.TrainingImage is required (the local cloud has no built-in algorithms)');
    const mode = str(input, 'AlgorithmSpecification.TrainingInputMode');
    if (mode === 'Pipe') throw validation('AlgorithmSpecification.TrainingInputMode Pipe is not supported by the local cloud; use File');
    const entry = (input.AlgorithmSpecification as Dict).ContainerEntrypoint as string[] | undefined;
    if (!entry?.length) {
      throw validation(
        'AlgorithmSpecification.ContainerEntrypoint is required by the local cloud: it runs the image bundle without a container, so the command that trains must be named (the manifest training.command)',
      );
    }
    const args = ((input.AlgorithmSpecification as Dict).ContainerArguments as string[] | undefined) ?? [];
    const stopping = (input.StoppingCondition ?? {}) as Dict;
    const maxRuntime = typeof stopping.MaxRuntimeInSeconds === 'number' ? stopping.MaxRuntimeInSeconds : 86400;
    const outputPath = str(input, 'OutputDataConfig.S3OutputPath')!;
    const channels = ((input.InputDataConfig ?? []) as Dict[]).map((c, i) => {
      const src = (c.DataSource as Dict | undefined)?.S3DataSource as Dict | undefined;
      if (!src) throw validation(`InputDataConfig[${i}].DataSource: only S3DataSource is supported by the local cloud`);
      if (src.S3DataType !== 'S3Prefix')
        throw validation(`InputDataConfig[${i}].DataSource.S3DataSource.S3DataType: only S3Prefix locally`);
      return { name: String(c.ChannelName), s3Uri: String(src.S3Uri) };
    });
    const names = new Set<string>();
    for (const c of channels) {
      if (names.has(c.name)) throw validation(`Channel names must be unique; ${c.name} is used more than once`);
      names.add(c.name);
    }
    const resources = (input.ResourceConfig ?? {}) as Dict;
    const spec: RunSpec = {
      jobName: name,
      root: join(this.deps.root, 'training', name),
      bundleDir: '',
      argv: [...entry, ...args],
      environment: (input.Environment ?? {}) as Record<string, string>,
      hyperParameters: (input.HyperParameters ?? {}) as Record<string, string>,
      channels,
      instanceType: typeof resources.InstanceType === 'string' ? resources.InstanceType : 'ml.m5.large',
      instanceCount: typeof resources.InstanceCount === 'number' ? resources.InstanceCount : 1,
      checkpointS3Uri: str(input, 'CheckpointConfig.S3Uri'),
    };
    return { spec, image, maxRuntime, outputPath };
  }

  /**
   * SageMaker lists every S3Prefix channel at CreateTrainingJob and refuses the job when one has
   * no object (an empty prefix, or a bucket that does not exist), with this message; the
   * release then names the channel (record-outcome).
   */
  private async requireChannelData(channels: RunSpec['channels'], roleArn: string): Promise<void> {
    for (const c of channels) {
      if (await hasObjects(this.deps.s3, c.s3Uri)) continue;
      const { bucket } = parseS3Uri(c.s3Uri);
      throw validation(
        `No S3 objects found under S3 URL "${c.s3Uri}" given in input data source. Please ensure that the bucket exists in the selected region (${this.deps.region}), that objects exist under that S3 prefix, and that the role "${roleArn}" has "s3:ListBucket" permissions on bucket "${bucket}".`,
      );
    }
  }

  async CreateTrainingJob(input: Dict): Promise<Dict> {
    const name = requireName(input, 'TrainingJobName');
    if (this.store.has(name))
      throw new AwsServiceError(
        'ResourceInUse',
        `Training job names must be unique within an AWS account and region, and a training job with this name already exists (${this.arn(name)})`,
      );
    const { spec, image, maxRuntime, outputPath } = this.specOf(input, name);
    const resolved = this.deps.images.resolve(image);
    if (!resolved)
      throw validation(`Requested image ${image} not found: no build of the local cloud tagged it (image index <dataDir>/images).`);
    await this.requireChannelData(spec.channels, String(input.RoleArn));
    const now = epochSeconds();
    const { Tags: _tags, ...described } = input;
    const rec: TrainingJobRecord = {
      ...described,
      TrainingJobName: name,
      TrainingJobArn: this.arn(name),
      TrainingJobStatus: 'InProgress',
      SecondaryStatus: 'Starting',
      ModelArtifacts: { S3ModelArtifacts: '' },
      StoppingCondition: { MaxRuntimeInSeconds: maxRuntime, ...((input.StoppingCondition ?? {}) as Dict) },
      CreationTime: now,
      LastModifiedTime: now,
      SecondaryStatusTransitions: [{ Status: 'Starting', StartTime: now, StatusMessage: 'Preparing the instances for training' }],
      EnableManagedSpotTraining: input.EnableManagedSpotTraining === true,
    };
    this.store.put(name, rec);
    const active: Active = { done: Promise.resolve() };
    this.active.set(name, active);
    active.done = this.execute(rec, active, { ...spec, bundleDir: '' }, resolved, maxRuntime, outputPath)
      .catch((err: Error) => this.finish(rec, 'Failed', 'Failed', `ClientError: ${err.message}`))
      .finally(() => {
        clearTimeout(active.timer);
        this.active.delete(name);
      });
    return { TrainingJobArn: rec.TrainingJobArn };
  }

  private async execute(
    rec: TrainingJobRecord,
    active: Active,
    spec: RunSpec,
    image: NonNullable<ReturnType<ImageIndex['resolve']>>,
    maxRuntime: number,
    outputPath: string,
  ): Promise<void> {
    // MaxRuntime counts from the start, download included, as SageMaker's does.
    active.timer = setTimeout(() => this.stop(rec.TrainingJobName, 'MaxRuntimeExceeded'), maxRuntime * 1000);
    this.transition(rec, 'Downloading', 'Downloading input data and the training image');
    const bundleDir = await this.deps.bundles.ensure(image);
    const runtime = await this.deps.runtimes.environmentFor(bundleDir);
    const env = await prepareWorkspace(this.deps.s3, { ...spec, bundleDir });
    if (active.stopReason) return this.settleStopped(rec, active, spec, outputPath);
    rec.TrainingStartTime = epochSeconds();
    this.transition(rec, 'Training', 'Training image download completed. Training in progress.');
    active.run = startProcess({ ...spec, bundleDir }, { ...runtime, ...env });
    const exit = await active.run.exited;
    rec.FinalMetricDataList = finalMetrics(
      active.run.lines,
      ((rec.AlgorithmSpecification as Dict).MetricDefinitions ?? []) as never,
      epochSeconds(),
    );
    if (active.stopReason) return this.settleStopped(rec, active, spec, outputPath);
    if (exit.code !== 0) {
      const p = runPaths(spec.root);
      const failure = existsSync(p.failure) ? readFileSync(p.failure, 'utf8').trim().slice(0, 1024) : '';
      const how = exit.signal ? `killed by ${exit.signal}` : `exit code: ${exit.code}`;
      return this.finish(rec, 'Failed', 'Failed', `AlgorithmError: ${failure || `(no failure file; log ${p.log})`}, ${how}`);
    }
    this.transition(rec, 'Uploading', 'Uploading generated training model');
    await this.upload(rec, spec, outputPath);
    this.finish(rec, 'Completed', 'Completed');
  }

  /** model.tar.gz (and output.tar.gz) under `<S3OutputPath>/<job>/output/`, and the checkpoints back to S3. */
  private async upload(rec: TrainingJobRecord, spec: RunSpec, outputPath: string): Promise<void> {
    const p = runPaths(spec.root);
    const { bucket, key } = parseS3Uri(outputPath.replace(/\/?$/, '/'));
    const prefix = `${key}${rec.TrainingJobName}/output/`;
    // An empty model/ still gives a model.tar.gz (two zero blocks: an empty tar), as SageMaker's does.
    const model = (await packDir(p.model, join(spec.root, 'model.tar.gz'))) ?? gzipSync(Buffer.alloc(1024));
    await this.deps.s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: `${prefix}model.tar.gz`, Body: model, ContentType: 'application/x-gzip' }),
    );
    rec.ModelArtifacts = { S3ModelArtifacts: `s3://${bucket}/${prefix}model.tar.gz` };
    const output = await packDir(p.outputData, join(spec.root, 'output.tar.gz'));
    if (output) await this.deps.s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}output.tar.gz`, Body: output }));
    if (spec.checkpointS3Uri) await uploadPrefix(this.deps.s3, p.checkpoints, spec.checkpointS3Uri);
  }

  private async settleStopped(rec: TrainingJobRecord, active: Active, spec: RunSpec, outputPath: string): Promise<void> {
    // What the algorithm saved in its grace period is uploaded, as SageMaker does.
    if (existsSync(runPaths(spec.root).model)) await this.upload(rec, spec, outputPath).catch(() => undefined);
    const exceeded = active.stopReason === 'MaxRuntimeExceeded';
    const max = (rec.StoppingCondition as Dict).MaxRuntimeInSeconds;
    this.finish(
      rec,
      'Stopped',
      exceeded ? 'MaxRuntimeExceeded' : 'Stopped',
      exceeded ? `Training job reached its MaxRuntimeInSeconds of ${String(max)}s and was stopped` : undefined,
    );
  }

  private stop(name: string, reason: 'Stopped' | 'MaxRuntimeExceeded'): void {
    const active = this.active.get(name);
    const rec = this.store.get(name);
    if (!active || !rec || active.stopReason) return;
    active.stopReason = reason;
    rec.TrainingJobStatus = 'Stopping';
    this.transition(rec, 'Stopping', reason === 'Stopped' ? 'Stopping the training job' : 'Stopping: the job reached MaxRuntimeInSeconds');
    if (active.run) terminate(active.run, Math.max(2000, STOP_GRACE_SECONDS * 1000 * this.deps.timeScale));
  }

  async DescribeTrainingJob(input: Dict): Promise<Dict> {
    const name = typeof input.TrainingJobName === 'string' ? input.TrainingJobName : '';
    const rec = this.store.get(name);
    if (!rec) throw new AwsServiceError('ResourceNotFound', `Requested resource not found: training job ${name}`);
    return rec;
  }

  async StopTrainingJob(input: Dict): Promise<Dict> {
    const name = typeof input.TrainingJobName === 'string' ? input.TrainingJobName : '';
    const rec = this.store.get(name);
    if (!rec) throw new AwsServiceError('ResourceNotFound', `Requested resource not found: training job ${name}`);
    // SageMaker accepts a stop of a job that is stopping or has ended only as a no-op for Stopping.
    if (rec.TrainingJobStatus !== 'InProgress' && rec.TrainingJobStatus !== 'Stopping')
      throw validation(`The training job ${name} is ${rec.TrainingJobStatus} and cannot be stopped`);
    this.stop(name, 'Stopped');
    return {};
  }

  /** Stop every running job and wait for it (the cloud is shutting down). */
  async close(): Promise<void> {
    for (const name of this.active.keys()) this.stop(name, 'Stopped');
    await Promise.all([...this.active.values()].map((a) => a.done));
  }
}
