import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extract } from 'tar';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { CreateTrainingJobCommand, DescribeTrainingJobCommand } from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand } from '@aws-sdk/client-sagemaker-runtime';
import { StopExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODEL, WorkflowHarness } from './harness';

/**
 * The release's training stage on the real ASL: `training.mode: sagemaker` runs a SageMaker
 * training job (createTrainingJob.sync) after the build, in the local cloud's SageMaker, and
 * what it trains is what staging and production serve. A job that fails, runs past its max
 * runtime or is stopped with its execution ends the release as AWS ends it.
 */
let h: WorkflowHarness;
beforeAll(async () => {
  h = await WorkflowHarness.start();
});
afterAll(async () => {
  await h?.close();
});

/** The fixture's manifest with a SageMaker training stage. */
const trainOnSageMaker =
  (extra: { maxRuntime?: string; trainChannel?: string } = {}) =>
  (yaml: string) =>
    `${yaml}
training:
  mode: sagemaker
  command: node sm-train.mjs
  maxRuntime: ${extra.maxRuntime ?? '10m'}
  hyperparameters: { bias: 0.5, epochs: 1 }
  channels:
    train: ${extra.trainChannel ?? '{ build: data }'}
  metrics:
    - { name: 'train:rmse', regex: 'train_rmse=([0-9.]+)' }
`;

const jobOf = async (version: string) =>
  h.sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: `mlship-${MODEL}-${version}` }));

async function until<T>(what: string, get: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function versionOf(executionArn: string): Promise<string> {
  const versions = await h.keys(`registry/${MODEL}/versions/`);
  for (const key of versions) {
    const rec = await h.getJson(key);
    if (rec?.execution?.arn === executionArn) return rec.version as string;
  }
  throw new Error(`no version record for ${executionArn}`);
}

describe('Workflow: release with a SageMaker training job', () => {
  it('trains from data in the local S3, records the job, and serves its model.tar.gz through to production', async () => {
    // Prepare: the training data as a team would upload it (mlship data put)
    const rows = ['x,y', ...Array.from({ length: 200 }, (_, i) => `${(i / 20).toFixed(3)},${(2 * (i / 20) + 1).toFixed(3)}`)].join('\n');
    await h.s3.send(new PutObjectCommand({ Bucket: h.cloud.bucket, Key: `datasets/${MODEL}/train/train.csv`, Body: `${rows}\n` }));

    // Act
    const { record, executionArn } = await h.releaseApproved(
      { quality: 'good' },
      trainOnSageMaker({ trainChannel: `{ s3: 's3://${h.cloud.bucket}/datasets/${MODEL}/train/' }` }),
    );

    // Assess
    const explain = await h.explain(executionArn);
    expect(record.status, explain).toBe('SUCCEEDED');
    const path = await h.path(executionArn);
    expect(path.indexOf('TrainModel'), explain).toBeGreaterThan(path.indexOf('CheckBuild'));
    expect(path.indexOf('RecordTraining')).toBeLessThan(path.indexOf('DeployStaging'));
    const version = await versionOf(executionArn);
    const job = await jobOf(version);
    expect(job.TrainingJobStatus).toBe('Completed');
    expect(job.FinalMetricDataList?.map((m) => m.MetricName)).toEqual(['train:rmse']);
    const artifact = job.ModelArtifacts!.S3ModelArtifacts!;
    expect(artifact).toBe(`s3://${h.cloud.bucket}/training/${MODEL}/${version}/mlship-${MODEL}-${version}/output/model.tar.gz`);
    const bytes = await (
      await h.s3.send(new GetObjectCommand({ Bucket: h.cloud.bucket, Key: artifact.replace(`s3://${h.cloud.bucket}/`, '') }))
    ).Body!.transformToByteArray();
    const rec = await h.getJson(`registry/${MODEL}/versions/${version}.json`);
    expect(rec.trainingJob).toMatchObject({
      name: `mlship-${MODEL}-${version}`,
      artifactUri: artifact,
      artifactDigest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`,
      hyperparameters: { bias: '0.5', epochs: '1' },
      billableSeconds: expect.any(Number),
    });
    expect(rec.trainingJob.metrics['train:rmse']).toBeCloseTo(0.5, 1);
    // The training contract as the command saw it: hyperparameters.json and SM_HPS, the channels.
    const output = await (
      await h.s3.send(
        new GetObjectCommand({
          Bucket: h.cloud.bucket,
          Key: artifact.replace(`s3://${h.cloud.bucket}/`, '').replace('model.tar.gz', 'output.tar.gz'),
        }),
      )
    ).Body!.transformToByteArray();
    const dir = mkdtempSync(join(tmpdir(), 'mlship-training-output-'));
    writeFileSync(join(dir, 'output.tar.gz'), output);
    await extract({ file: join(dir, 'output.tar.gz'), cwd: dir });
    const contract = JSON.parse(readFileSync(join(dir, 'contract.json'), 'utf8'));
    rmSync(dir, { recursive: true, force: true });
    expect(contract).toEqual({
      hyperparametersFile: { bias: '0.5', epochs: '1' },
      hps: { bias: '0.5', epochs: '1' },
      channels: ['train'],
      trainFiles: ['train.csv'],
      resourceConfig: true,
    });
    expect(rec.status).toBe('production');
    // Production serves the trained model (bias 0.5 on y = 2x + 1), not the build's (y = 2x + 1).
    const out = await h.runtime.send(
      new InvokeEndpointCommand({
        EndpointName: `mlship-${MODEL}-production`,
        Body: Buffer.from(JSON.stringify({ instances: [{ x: 0 }] })),
        ContentType: 'application/json',
      }),
    );
    const answer = JSON.parse(Buffer.from(out.Body!).toString('utf8')) as { predictions: Array<{ value: number }> };
    expect(answer.predictions[0]!.value).toBeCloseTo(1.5, 1);
    // Step Functions' calls went through the same checks against AWS's model as any client's.
    const checked = h.requests.filter((r) => r.service === 'sagemaker' && r.operation.endsWith('TrainingJob'));
    expect(new Set(checked.map((r) => r.operation))).toEqual(new Set(['CreateTrainingJob', 'DescribeTrainingJob']));
    expect(checked.flatMap((r) => r.violations)).toEqual([]);
  });

  it("refuses a CreateTrainingJob that breaks AWS's model, as SageMaker does", async () => {
    await expect(
      h.sagemaker.send(
        new CreateTrainingJobCommand({
          TrainingJobName: 'not a valid name',
          RoleArn: 'arn:aws:iam::000000000000:role/x',
          OutputDataConfig: { S3OutputPath: 's3://b/o/' },
          AlgorithmSpecification: { TrainingInputMode: 'File' },
          ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 1, VolumeSizeInGB: 1 },
          StoppingCondition: { MaxRuntimeInSeconds: 60 },
        }),
      ),
    ).rejects.toMatchObject({
      name: 'ValidationException',
      message: expect.stringContaining("at 'trainingJobName' failed to satisfy constraint"),
    });
  });

  it('ends in TrainingFailed with the failure file in the cause when the training script exits 1', async () => {
    // Act
    const { executionArn } = await h.release({ quality: 'good', trainFail: 'train.csv has 3 rows with no label' }, trainOnSageMaker());
    const record = await h.wait(executionArn);

    // Assess
    const explain = await h.explain(executionArn);
    expect(record.status, explain).toBe('FAILED');
    expect(record.error, explain).toBe('TrainingFailed');
    expect(record.cause).toContain('ValueError: train.csv has 3 rows with no label');
    expect(record.cause).toContain('exit code: 1');
    const path = await h.path(executionArn);
    expect(path).toContain('RecordTrainingFailure');
    expect(path).not.toContain('DeployStaging');
    const job = await jobOf(await versionOf(executionArn));
    expect(job.TrainingJobStatus).toBe('Failed');
  });

  it.each([
    ['a prefix nothing was uploaded to', (bucket: string) => `s3://${bucket}/datasets/${MODEL}/never-uploaded/`],
    ['a bucket that does not exist', () => `s3://team-datasets-never-made/${MODEL}/train/`],
  ])('ends in TrainingFailed naming the channel and its S3 prefix when the train channel is %s', async (_, uriOf) => {
    // Prepare: a channel whose data was never put there (`mlship data put` not run)
    const uri = uriOf(h.cloud.bucket);

    // Act
    const { executionArn } = await h.release({ quality: 'good' }, trainOnSageMaker({ trainChannel: `{ s3: '${uri}' }` }));
    const record = await h.wait(executionArn);

    // Assess: SageMaker refuses the job at CreateTrainingJob, as on AWS; the cause says which channel and what to run
    const explain = await h.explain(executionArn);
    expect(record.status, explain).toBe('FAILED');
    expect(record.error, explain).toBe('TrainingFailed');
    expect(record.cause).toContain(`No S3 objects found under S3 URL "${uri}" given in input data source`);
    expect(record.cause).toContain(`training channel "train" (model.yaml training.channels.train)`);
    expect(record.cause).toContain(`mlship data put <file or folder> ${uri}`);
    await expect(jobOf(await versionOf(executionArn))).rejects.toMatchObject({ name: 'ResourceNotFound' });
  });

  it('ends in TrainingFailed when the job exceeds its max runtime, which stops it', async () => {
    // Act
    const { executionArn } = await h.release({ quality: 'good', trainSleepSeconds: 120 }, trainOnSageMaker({ maxRuntime: '3s' }));
    const record = await h.wait(executionArn);

    // Assess
    const explain = await h.explain(executionArn);
    expect(record.status, explain).toBe('FAILED');
    expect(record.error, explain).toBe('TrainingFailed');
    expect(record.cause).toContain('MaxRuntimeExceeded');
    const job = await jobOf(await versionOf(executionArn));
    expect(job.TrainingJobStatus).toBe('Stopped');
    expect(job.SecondaryStatus).toBe('MaxRuntimeExceeded');
  });

  it('stops the training job when the execution is stopped', async () => {
    // Prepare
    const { executionArn } = await h.release({ quality: 'good', trainSleepSeconds: 300 }, trainOnSageMaker());
    const version = await until('the version record', () => versionOf(executionArn).catch(() => undefined));
    await until('the training job to run', async () => {
      const job = await jobOf(version).catch(() => undefined);
      return job?.SecondaryStatus === 'Training' ? job : undefined;
    });

    // Act
    await h.sfn.send(new StopExecutionCommand({ executionArn, error: 'Test.Stop', cause: 'stopped by the workflow test' }));

    // Assess
    const record = await h.wait(executionArn);
    expect(record.status).toBe('ABORTED');
    const job = await until('the job to stop', async () => {
      const j = await jobOf(version);
      return j.TrainingJobStatus === 'Stopped' ? j : undefined;
    });
    expect(job.SecondaryStatus).toBe('Stopped');
  });
});
