import './task-env';
import '../../../bin/polyfills';
import { S3Client } from '@aws-sdk/client-s3';
import { BatchGetBuildsCommand, CodeBuildClient, StartBuildCommand } from '@aws-sdk/client-codebuild';
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DescribeEndpointCommand,
  SageMakerClient,
  UpdateEndpointCommand,
} from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { DescribeExecutionCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { StateMachine } from 'aws-local-stepfunctions';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { renderAsl } from '../../../lib/asl';
import { prepareDefinition } from '../../../lib/local/services/sfn/definition';
import { TASKS, WORKFLOWS, type TaskName } from '../../../lib/tasks';
import { makeHandler as makeLoadTest } from '../../../lambdas/load-test/handler';
import { decideApproval } from '../../../lambdas/decide-approval/decide';
import type { ProductionPointer, VersionRecord } from '../../../lambdas/shared/registry';
import { deliveryCsv, predictHours } from './data';
import { fakeS3, type FakeBucket } from './fake-s3';
import { BUCKET, MANIFEST_YAML } from './fixtures';
import { makeZip } from './zip';

/**
 * The real release ASL driving the real task handlers (AWS services mocked, S3 in memory):
 * every Payload the ASL builds must parse with the task's schema, and every result must
 * carry what the next ResultSelector and Choice read. Unit tests of single handlers cannot
 * see a mismatch between two of them; this can.
 */

const commit = 'abcdef1234567890abcdef1234567890abcdef12';
type Handler = (event: unknown) => Promise<unknown>;

async function handlers(): Promise<Record<TaskName, Handler>> {
  const entries = await Promise.all(
    (Object.keys(TASKS) as TaskName[]).map(
      async (t) => [t, ((await import(`../../../${TASKS[t].entry}`)) as { handler: Handler }).handler] as const,
    ),
  );
  const all = Object.fromEntries(entries) as Record<TaskName, Handler>;
  // The load test on virtual time, so the test does not wait out the manifest's duration.
  const t = { now: 0 };
  all.LoadTest = makeLoadTest({
    s3: new S3Client({ region: 'us-east-1' }),
    runtime: new SageMakerRuntimeClient({ region: 'us-east-1' }),
    bucket: BUCKET,
    clock: () => t.now,
    sleep: async (ms) => void (t.now += ms),
    now: () => new Date(),
  }) as Handler;
  return all;
}

describe('Workflow: release ASL with the real task handlers', () => {
  let bucket: FakeBucket;
  const codebuild = mockClient(CodeBuildClient);
  const sagemaker = mockClient(SageMakerClient);
  const runtime = mockClient(SageMakerRuntimeClient);
  const sfn = mockClient(SFNClient);
  const sns = mockClient(SNSClient);
  const endpoints = new Map<string, string>();

  beforeEach(async () => {
    bucket = fakeS3();
    for (const m of [codebuild, sagemaker, runtime, sfn, sns]) m.reset();
    endpoints.clear();
    bucket.put(`source/delivery-time/${commit}.zip`, await makeZip({ 'models/delivery-time/model.yaml': MANIFEST_YAML }));
    sns.on(PublishCommand).resolves({});
    // The model lease asks for the status of its own execution (and a holder's): running.
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING', startDate: new Date() });
    // CodeBuild: the build succeeds at once and uploads the bundle, as the local CodeBuild does.
    codebuild.on(StartBuildCommand).callsFake((input: { artifactsOverride: { path: string; name: string } }) => {
      const prefix = `${input.artifactsOverride.path}/${input.artifactsOverride.name}/files`;
      bucket.put(`${prefix}/data/train.csv`, deliveryCsv(200, 1));
      bucket.put(`${prefix}/data/holdout.csv`, deliveryCsv(60, 2));
      return { build: { id: `b:${prefix}` } };
    });
    codebuild.on(BatchGetBuildsCommand).callsFake((input: { ids: string[] }) => ({
      builds: [
        {
          id: input.ids[0],
          buildStatus: 'SUCCEEDED',
          artifacts: { location: `arn:aws:s3:::${BUCKET}/${input.ids[0]!.slice(2)}` },
          exportedEnvironmentVariables: [
            { name: 'IMAGE_URI', value: 'local/delivery-time:abcdef1' },
            { name: 'IMAGE_DIGEST', value: 'sha256:1' },
          ],
        },
      ],
    }));
    // SageMaker: endpoints come into service on the config they were given.
    sagemaker.on(CreateModelCommand).resolves({});
    sagemaker.on(CreateEndpointConfigCommand).resolves({});
    sagemaker.on(DescribeEndpointCommand).callsFake((input: { EndpointName: string }) => {
      const config = endpoints.get(input.EndpointName);
      if (!config) throw Object.assign(new Error(`Could not find endpoint "${input.EndpointName}".`), { name: 'ValidationException' });
      return { EndpointName: input.EndpointName, EndpointStatus: 'InService', EndpointConfigName: config };
    });
    const serve = (input: { EndpointName: string; EndpointConfigName: string }) => (
      endpoints.set(input.EndpointName, input.EndpointConfigName),
      {}
    );
    sagemaker.on(CreateEndpointCommand).callsFake(serve);
    sagemaker.on(UpdateEndpointCommand).callsFake(serve);
    runtime.on(InvokeEndpointCommand).callsFake((input: { Body: Uint8Array }) => {
      const { instances } = JSON.parse(new TextDecoder().decode(input.Body)) as { instances: { distance_km: number; service: string }[] };
      return { Body: new TextEncoder().encode(JSON.stringify({ predictions: instances.map((i) => ({ value: predictHours(i) })) })) };
    });
  });
  afterEach(() => bucket.mock.restore());

  async function release(executionName: string, approver: string): Promise<{ output: Record<string, unknown>; version: string }> {
    const tasks = await handlers();
    const subs = Object.fromEntries(
      WORKFLOWS.release.tasks.map((t) => [TASKS[t].placeholder, `arn:aws:lambda:us-east-1:000000000000:function:${t}`]),
    );
    const definition = prepareDefinition(JSON.parse(renderAsl(WORKFLOWS.release.file, subs)), 1).engine;
    const byState: Record<string, (input: unknown) => Promise<unknown>> = {};
    for (const [state, s] of Object.entries(definition.States as Record<string, { Type: string; Parameters?: { FunctionName: string } }>)) {
      // The Lambda tasks; the delivery-time manifest trains in its build, so TrainModel never runs.
      if (s.Type !== 'Task' || !s.Parameters?.FunctionName) continue;
      const task = s.Parameters.FunctionName.split(':').pop() as TaskName;
      byState[state] =
        task === 'RequestApproval'
          ? async (input) => {
              // The approver decides as soon as the request is stored; the decision's
              // SendTaskSuccess output is what the waiting task resumes with.
              await tasks.RequestApproval((input as { Payload: unknown }).Payload);
              let output = '';
              sfn.on(SendTaskSuccessCommand).callsFake((i: { output: string }) => ((output = i.output), {}));
              await decideApproval(
                { s3: new S3Client({ region: 'us-east-1' }), sfn: new SFNClient({ region: 'us-east-1' }), bucket: BUCKET },
                { id: `delivery-time/${executionName}`, decision: 'approve', by: approver },
              );
              return JSON.parse(output) as unknown;
            }
          : async (input) => ({ Payload: await tasks[task]((input as { Payload: unknown }).Payload), StatusCode: 200 });
    }
    const sm = new StateMachine(definition as never);
    const execution = sm.run(
      {
        model: 'delivery-time',
        commitId: commit,
        sourceUri: `s3://${BUCKET}/source/delivery-time/${commit}.zip`,
        trigger: 'push',
        pollSeconds: 0,
      },
      {
        overrides: { taskResourceLocalHandlers: byState as never },
        context: {
          Execution: { Id: `arn:aws:states:us-east-1:000000000000:execution:mlship-release:${executionName}`, Name: executionName },
          Task: { Token: `token-${executionName}` },
        } as never,
      },
    );
    const output = (await execution.result) as Record<string, unknown>;
    return { output, version: (output.PrepareReleaseResult as { version: string }).version };
  }

  it('releases twice: the second goes blue/green and archives the first', async () => {
    // Act
    const first = await release('r1', 'alice');
    const second = await release('r2', 'bob');

    // Assess
    expect(first.output).toMatchObject({
      CheckBuildResult: { status: 'SUCCEEDED', imageUri: 'local/delivery-time:abcdef1' },
      CheckStagingResult: { status: 'InService' },
      EvaluateModelResult: { validationOk: true },
      LoadTestResult: { ok: true },
      RequestApprovalResult: { approved: true, by: 'alice' },
      PromoteVersionResult: { production: first.version, previous: null },
      RecordOutcomeResult: { outcome: 'succeeded', notified: true },
    });
    expect(second.output).toMatchObject({ PromoteVersionResult: { production: second.version, previous: first.version } });
    expect(bucket.json<ProductionPointer>('registry/delivery-time/production.json')).toMatchObject({
      version: second.version,
      previous: first.version,
    });
    const v1 = bucket.json<VersionRecord>(`registry/delivery-time/versions/${first.version}.json`);
    const v2 = bucket.json<VersionRecord>(`registry/delivery-time/versions/${second.version}.json`);
    expect(v1).toMatchObject({ status: 'archived', approval: { by: 'alice' } });
    expect(v2).toMatchObject({
      status: 'production',
      outcome: { state: 'succeeded' },
      approval: { decision: 'approved', by: 'bob' },
      build: { artifactsUri: `s3://${BUCKET}/builds/delivery-time/${second.version}/files/` },
      evaluation: { validationOk: true },
      loadTest: { ok: true },
      lineage: { previousProduction: first.version },
    });
    expect(v2.deployments.map((d) => [d.stage, d.action, d.result])).toEqual([
      ['staging', 'updated', 'in-service'],
      ['production', 'updated', 'in-service'],
    ]);
    expect(bucket.json(`reports/delivery-time/${second.version}/validation.json`)).toMatchObject({
      validation_ok: true,
      comparedWithProduction: true,
    });
    expect(
      sagemaker.commandCalls(UpdateEndpointCommand).find((c) => c.args[0].input.EndpointName === 'mlship-delivery-time-production')?.args[0]
        .input.DeploymentConfig,
    ).toMatchObject({
      BlueGreenUpdatePolicy: { TrafficRoutingConfiguration: { Type: 'CANARY' } },
    });
  });
});
