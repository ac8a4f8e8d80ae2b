import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeEndpointCommand, ListEndpointConfigsCommand, ListModelsCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsCli, hasAwsCli } from '../local/aws-cli';
import { minimumBakeSeconds } from '../../lib/config';
import { MODEL, TIME_SCALE, WorkflowHarness } from './harness';

/** The success branch, then a canary of a crashing model that rolls back to it. */
let h: WorkflowHarness;
let firstRelease: { executionArn: string; output: any; commitId: string } | undefined;
beforeAll(async () => {
  h = await WorkflowHarness.start();
});
afterAll(async () => {
  await h?.close();
});

const PRODUCTION = `mlship-${MODEL}-production`;

describe('Workflow: release', () => {
  it('builds, evaluates, load-tests, waits for approval and promotes to production', async () => {
    // Act
    const { record, executionArn, commitId } = await h.releaseApproved({ quality: 'good' });
    firstRelease = { executionArn, output: record.output ? JSON.parse(record.output) : undefined, commitId };

    // Assess
    expect(record.status, await h.explain(executionArn)).toBe('SUCCEEDED');
    const path = await h.path(executionArn);
    expect(path).toEqual(
      expect.arrayContaining([
        'PrepareRelease',
        'BuildImage',
        'DeployStaging',
        'EvaluateModel',
        'QualityGate',
        'LoadTest',
        'RequestApproval',
        'DeployProduction',
        'PromoteVersion',
        'NotifySuccess',
      ]),
    );
    const production = await h.getJson(`registry/${MODEL}/production.json`);
    expect(JSON.stringify(production)).toContain(commitId.slice(0, 7));
    expect(await h.traffic(PRODUCTION, [{ x: 1 }, { x: 2 }])).toEqual([200, 200]);
  });

  it('rolls a canary of a crashing model back and keeps the previous version serving', async () => {
    // Prepare: production runs the version of the test above; the new one answers 500 once
    // the crash file exists, which the test creates when it approves
    const before = await h.getJson(`registry/${MODEL}/production.json`);
    const crashFile = join(h.temp, 'crash-now');
    const started = await h.release({ quality: 'good', crashFile });
    const approval = await h.approvalOf(started.name, started.executionArn);
    expect(approval, await h.explain(started.executionArn)).toBeDefined();

    // Act: approve, then send traffic while the canary bakes
    writeFileSync(crashFile, 'crash');
    await h.decide(started.name, 'approve');
    let done = false;
    const ended = h.wait(started.executionArn).then((r) => {
      done = true;
      return r;
    });
    while (!done)
      await h.traffic(
        PRODUCTION,
        Array.from({ length: 10 }, (_, i) => ({ x: i })),
      );
    const record = await ended;

    // Assess
    expect(record.status, await h.explain(started.executionArn)).toBe('FAILED');
    expect(record.error).toBe('DeploymentRolledBack');
    // Its 5xx alarm, as CloudWatch evaluates it, on the variant's minutes (both fleets): the
    // manifest's 1 % scaled by the canary's half of the traffic
    expect(record.cause).toMatch(
      /Rolled back: alarm mlship-tiny-5xx \(5xx rate of variant AllTraffic, old and new fleet together as CloudWatch sees them\): Threshold Crossed: 1 out of the last 1 datapoints \[[\d.]+\] was greater than the threshold \(0\.005\)/,
    );
    expect(await h.path(started.executionArn)).toContain('RecordRollback');
    expect(await h.getJson(`registry/${MODEL}/production.json`)).toEqual(before);
    expect(existsSync(crashFile)).toBe(true);
    expect(await h.traffic(PRODUCTION, [{ x: 1 }, { x: 2 }, { x: 3 }])).toEqual([200, 200, 200]);
  });

  it('rebuilds the production commit in a drift retraining release and deploys it under a new image tag', async () => {
    // Prepare: production runs the first release's commit; image tags are immutable, as in ECR
    const before = await h.getJson(`registry/${MODEL}/production.json`);
    const commitId = firstRelease!.commitId;
    const firstVersion = await h.getJson(`registry/${MODEL}/versions/${firstRelease!.output.PrepareReleaseResult.version}.json`);

    // Act
    const started = await h.releaseAgain(commitId, 'drift');
    const approval = await h.approvalOf(started.name, started.executionArn);
    expect(approval, await h.explain(started.executionArn)).toBeDefined();
    // The canary of the test above left a breaching minute as the latest data point of
    // production's 5xx alarm, which stays in ALARM until newer minutes are published, as in
    // CloudWatch. On AWS the build and the approval take longer than that; here time is
    // compressed, so healthy traffic runs for the alarm's 3 minutes before the approval.
    const healthyUntil = Date.now() + minimumBakeSeconds() * 1000 * TIME_SCALE;
    while (Date.now() < healthyUntil) await h.traffic(PRODUCTION, [{ x: 1 }, { x: 2 }]);
    await h.decide(started.name, 'approve', 'retrained');
    const record = await h.wait(started.executionArn);

    // Assess: the same commit, a new tag (<commit>-<build number>), now in production
    expect(record.status, await h.explain(started.executionArn)).toBe('SUCCEEDED');
    const output = JSON.parse(record.output!);
    const version = await h.getJson(`registry/${MODEL}/versions/${output.PrepareReleaseResult.version}.json`);
    expect(version.commitId).toBe(commitId);
    expect(version.build.imageUri).toMatch(new RegExp(`:${commitId}-\\d+$`));
    expect(version.build.imageUri).not.toBe(firstVersion.build.imageUri);
    expect(version.build.imageDigest).toMatch(/^sha256:[a-f0-9]{64}$/);
    const production = await h.getJson(`registry/${MODEL}/production.json`);
    expect(production).not.toEqual(before);
    expect(JSON.stringify(production)).toContain(output.PrepareReleaseResult.version);
    expect(await h.traffic(PRODUCTION, [{ x: 1 }, { x: 2 }])).toEqual([200, 200]);
  });

  it('keeps only what the endpoints and a rollback need after two promotions and a rollback', async () => {
    // Prepare: three releases ran above: the first promoted, the second rolled back, the third promoted
    const sagemaker = new SageMakerClient({
      endpoint: h.cloud.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const production = await h.getJson(`registry/${MODEL}/production.json`);
    const staging = await sagemaker.send(new DescribeEndpointCommand({ EndpointName: `mlship-${MODEL}-staging` })).catch(() => undefined);

    // Act
    const models = (await sagemaker.send(new ListModelsCommand({ NameContains: `mlship-${MODEL}-` }))).Models!.map((m) => m.ModelName);
    const configs = (await sagemaker.send(new ListEndpointConfigsCommand({ NameContains: `mlship-${MODEL}-` }))).EndpointConfigs!.map(
      (c) => c.EndpointConfigName,
    );
    sagemaker.destroy();

    // Assess: the production version and the one before it (the first release), with their
    // production configs, and what staging serves (the third release's staging config)
    const [current, previous] = [production.version, production.previous];
    expect(previous).toBe(firstRelease!.output.PrepareReleaseResult.version);
    expect(models.sort()).toEqual([`mlship-${MODEL}-${current}`, `mlship-${MODEL}-${previous}`].sort());
    const expected = [`mlship-${MODEL}-${current}-p`, `mlship-${MODEL}-${previous}-p`, ...(staging ? [staging.EndpointConfigName] : [])];
    expect(configs.sort()).toEqual(expected.sort());
    expect(await h.getJson(`registry/${MODEL}/pruning.json`)).toMatchObject({ version: current, outcome: 'promoted', failures: [] });
  });

  it.skipIf(!hasAwsCli)('is inspected and invoked with the aws command-line client', async () => {
    // Prepare: the production endpoint of the first release, its build and execution
    expect(firstRelease?.output?.BuildImageResult?.buildId).toBeDefined();
    const out = join(h.temp, 'prediction.json');

    // Act
    const endpoint = await awsCli(h.cloud.endpoint, 'sagemaker', 'describe-endpoint', '--endpoint-name', PRODUCTION);
    const invoked = await awsCli(
      h.cloud.endpoint,
      'sagemaker-runtime',
      'invoke-endpoint',
      '--endpoint-name',
      PRODUCTION,
      '--content-type',
      'application/json',
      '--body',
      '{"instances":[{"x":2}]}',
      '--cli-binary-format',
      'raw-in-base64-out',
      out,
    );
    const builds = await awsCli(h.cloud.endpoint, 'codebuild', 'batch-get-builds', '--ids', firstRelease!.output.BuildImageResult.buildId);
    const execution = await awsCli(h.cloud.endpoint, 'stepfunctions', 'describe-execution', '--execution-arn', firstRelease!.executionArn);

    // Assess
    expect(endpoint.json, endpoint.err).toMatchObject({ EndpointName: PRODUCTION, EndpointStatus: 'InService' });
    expect(invoked.code, invoked.err).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual({ predictions: [{ value: 5 }] });
    expect(builds.json.builds[0]).toMatchObject({ buildStatus: 'SUCCEEDED' });
    expect(execution.json).toMatchObject({ status: 'SUCCEEDED' });
  });
});
