/**
 * The scikit-learn example (models/breast-cancer) released to production through the local
 * cloud, as a user would: the training data uploaded with `mlship data put` (the real CLI) to
 * the S3 prefix of model.yaml's train channel, git push to the cloud's repository, the real
 * buildspec (virtualenv, unit tests, smoke run, holdout) in the local CodeBuild, the SageMaker
 * training job reading that prefix, the Python server in the local SageMaker, the real
 * evaluation, load test and canary, and an approval.
 *
 * Slow by nature: a cold build installs scikit-learn, NumPy and SciPy (about 300 MB of files);
 * the timeouts below are hang detectors, not performance assertions. The cold and cached
 * build times are printed for the record.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchGetBuildsCommand, CodeBuildClient, ListBuildsForProjectCommand } from '@aws-sdk/client-codebuild';
import { DescribeTrainingJobCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { DescribeExecutionCommand, SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { localDecider } from '../../lib/console/decision-client';
import { clientConfig, eventually, startTestCloud, type TestCloud } from '../local/helpers';

const run = promisify(execFile);
const MODEL = 'breast-cancer';
const ROOT = join(import.meta.dirname, '..', '..');
/** model.yaml's train channel: README's upload step puts models/breast-cancer/data/train.csv there. */
const TRAIN_URI = 's3://team-datasets/breast-cancer/train/';
const pythonMissing = await run('python3', ['-c', 'import venv, ensurepip']).then(
  () => false,
  () => true,
);

describe.skipIf(pythonMissing)('Example: models/breast-cancer (scikit-learn) through the local cloud', () => {
  let t: TestCloud;
  let repo: string;
  let codebuild: CodeBuildClient;
  let runtime: SageMakerRuntimeClient;
  let sagemaker: SageMakerClient;
  let sfn: SFNClient;
  let s3: S3Client;

  const git = (...args: string[]) => run('git', ['-C', repo, '-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args]);
  const getJson = async (key: string) =>
    JSON.parse(await (await s3.send(new GetObjectCommand({ Bucket: t.cloud.bucket, Key: key }))).Body!.transformToString());

  /** Push, and return the execution the hook started. */
  async function push(): Promise<string> {
    const { stderr } = await git('push', '--quiet', 'mlship', 'main');
    const arn = /remote: mlship:\s+(arn:aws:states:\S+)/.exec(stderr)?.[1];
    expect(arn, stderr).toBeDefined();
    return arn!;
  }

  async function buildSeconds(id: string): Promise<{ seconds: number; log: string }> {
    const b = (await codebuild.send(new BatchGetBuildsCommand({ ids: [id] }))).builds![0]!;
    return { seconds: (b.endTime!.getTime() - b.startTime!.getTime()) / 1000, log: readFileSync(fileURLToPath(b.logs!.deepLink!), 'utf8') };
  }

  /** The tail of the newest build's log, for failure messages. */
  async function lastBuildLog(): Promise<string> {
    const ids = (await codebuild.send(new ListBuildsForProjectCommand({ projectName: `mlship-build-${MODEL}` }))).ids ?? [];
    if (!ids[0]) return 'no build';
    return (await buildSeconds(ids[0])).log.split('\n').slice(-40).join('\n');
  }

  beforeAll(async () => {
    // This machine reaches no package index but its offline one: fail over to it at once
    // instead of retrying pypi.org (a laptop with a network needs nothing of the kind).
    process.env.PIP_RETRIES ??= '0';
    process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
    repo = mkdtempSync(join(tmpdir(), 'mlship-sklearn-repo-'));
    cpSync(join(import.meta.dirname, '..', '..', 'models', MODEL), join(repo, 'models', MODEL), {
      recursive: true,
      filter: (src) => !/\/(\.venv|out|__pycache__)(\/|$)/.test(src),
    });
    await run('git', ['init', '--quiet', '--initial-branch=main', repo]);
    await git('add', '-A');
    await git('commit', '--quiet', '-m', 'breast-cancer model');
    t = await startTestCloud({ repoRoot: repo, timeScale: 0.05 });
    await git('remote', 'add', 'mlship', t.cloud.gitDir);
    // This test polls for minutes on a busy machine: the SDK's own retries cover a kept-alive
    // socket the edge closed as it was reused.
    const cfg = { ...clientConfig(t.cloud.endpoint), maxAttempts: 3 };
    codebuild = new CodeBuildClient(cfg);
    runtime = new SageMakerRuntimeClient(cfg);
    sagemaker = new SageMakerClient(cfg);
    sfn = new SFNClient(cfg);
    s3 = new S3Client({
      ...cfg,
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  });

  afterAll(async () => {
    codebuild?.destroy();
    runtime?.destroy();
    sagemaker?.destroy();
    sfn?.destroy();
    s3?.destroy();
    await t?.close();
    rmSync(repo, { recursive: true, force: true });
  });

  it(
    'builds, is approved and serves production; a rebuild restores the virtualenv from the build cache',
    { timeout: 900_000 },
    async () => {
      // Prepare: the team uploads its training data where model.yaml's train channel reads it
      const put = await run(process.execPath, [
        join(ROOT, 'bin', 'mlship.mjs'),
        'data',
        'put',
        join(repo, 'models', MODEL, 'data', 'train.csv'),
        TRAIN_URI,
        '--endpoint-url',
        t.cloud.endpoint,
      ]);
      expect(put.stdout).toContain(`Uploaded 1 file(s) to ${TRAIN_URI}`);

      // Act: the first release, approved when it asks
      const executionArn = await push();
      const name = executionArn.split(':').at(-1)!;
      const approval = await eventually(async () => {
        const d = await sfn.send(new DescribeExecutionCommand({ executionArn }));
        if (d.status !== 'RUNNING')
          throw new Error(`the release ended ${d.status} before its approval: ${d.error} ${d.cause}\n${await lastBuildLog()}`);
        return getJson(`approvals/${MODEL}/${name}.json`).catch(() => undefined);
      }, 500);
      const decided = await localDecider(t.cloud.endpoint)({
        id: `${MODEL}/${name}`,
        decision: 'approve',
        by: 'sklearn-test',
        comment: 'ok',
      });
      expect(decided.ok, decided.message).toBe(true);
      const done = await t.cloud.stepFunctions.waitForExecution(executionArn);

      // Assess: production serves the approved version, and answers on the contract
      expect(done.status, `${done.error}: ${done.cause}`).toBe('SUCCEEDED');
      const production = await getJson(`registry/${MODEL}/production.json`);
      expect(production.version).toBe(approval.version);
      const validation = await getJson(`reports/${MODEL}/${approval.version}/validation.json`);
      expect(validation.validation_ok).toBe(true);
      const accuracy = validation.checks.find((c: { metric: string; kind: string }) => c.metric === 'accuracy' && c.kind === 'bound');
      expect(accuracy.value).toBeGreaterThan(0.93);
      // model.yaml trains on SageMaker: the version serves its training job's model.tar.gz.
      const version = await getJson(`registry/${MODEL}/versions/${approval.version}.json`);
      expect(version.trainingJob).toMatchObject({
        name: `mlship-${MODEL}-${approval.version}`,
        status: 'Completed',
        artifactDigest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
        hyperparameters: { C: '1' },
      });
      expect(version.trainingJob.metrics['holdout:accuracy']).toBeGreaterThan(0.93);
      // The job trained from the uploaded prefix; the holdout is the build's other half of the split.
      const job = await sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: version.trainingJob.name }));
      const channels = Object.fromEntries((job.InputDataConfig ?? []).map((c) => [c.ChannelName, c.DataSource?.S3DataSource?.S3Uri]));
      expect(channels).toEqual({
        train: TRAIN_URI,
        holdout: expect.stringMatching(new RegExp(`^s3://${t.cloud.bucket}/.+/data/$`)),
      });
      const answer = await runtime.send(
        new InvokeEndpointCommand({
          EndpointName: `mlship-${MODEL}-production`,
          ContentType: 'text/csv',
          Body: new TextEncoder().encode(`${Array(30).fill('1').join(',')}\n`),
        }),
      );
      const predictions = JSON.parse(new TextDecoder().decode(answer.Body)).predictions;
      expect(predictions).toHaveLength(1);
      expect(['malignant', 'benign']).toContain(predictions[0].label);

      // Act: a second commit of the model rebuilds it; only the build matters here
      writeFileSync(join(repo, 'models', MODEL, 'NOTES.md'), 'a change that releases the model\n');
      await git('add', '-A');
      await git('commit', '--quiet', '-m', 'notes');
      const second = await push();
      const builds = await eventually(async () => {
        const ids = (await codebuild.send(new ListBuildsForProjectCommand({ projectName: `mlship-build-${MODEL}` }))).ids ?? [];
        if (ids.length < 2) return undefined;
        const got = (await codebuild.send(new BatchGetBuildsCommand({ ids }))).builds ?? [];
        return got.every((b) => b.buildComplete) ? got : undefined;
      }, 1000);
      await sfn.send(new StopExecutionCommand({ executionArn: second, cause: 'the test needs only the build' }));

      // Assess: the second build restored the virtualenv and installed nothing
      const [warmBuild, coldBuild] = [...builds].sort((a, b) => b.startTime!.getTime() - a.startTime!.getTime());
      expect(warmBuild!.buildStatus).toBe('SUCCEEDED');
      const cold = await buildSeconds(coldBuild!.id!);
      const warm = await buildSeconds(warmBuild!.id!);
      expect(cold.log).toContain('Cache: no cache for key breast-cancer-venv-');
      expect(warm.log).toMatch(/Cache: restored key breast-cancer-venv-[0-9a-f]{64}/);
      expect(warm.log).toContain('virtualenv restored from the build cache');
      process.stdout.write(
        `breast-cancer build: cold ${cold.seconds.toFixed(1)} s, with the cached virtualenv ${warm.seconds.toFixed(1)} s\n`,
      );
    },
  );
});
