import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateStateMachineCommand } from '@aws-sdk/client-sfn';
import { AWS_CLI, awsCli, awsCliAs, hasAwsCli } from './aws-cli';
import { eventually, startTestCloud, type TestCloud } from './helpers';

const home = mkdtempSync(join(tmpdir(), 'mlship-awscli-'));
let t: TestCloud;
let stateMachineArn: string;
const tokens: string[] = [];

const aws = (...args: string[]) => awsCli(t.cloud.endpoint, ...args);

beforeAll(async () => {
  t = await startTestCloud({
    functions: {
      approve: async (event: unknown) => {
        tokens.push((event as { token: string }).token);
        return {};
      },
    },
  });
  const definition = {
    StartAt: 'Ask',
    States: {
      Ask: {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
        Parameters: { FunctionName: 'approve', Payload: { 'token.$': '$$.Task.Token' } },
        ResultPath: '$.decision',
        End: true,
      },
    },
  };
  const out = await t.sfn.send(
    new CreateStateMachineCommand({
      name: 'cli-approval',
      definition: JSON.stringify(definition),
      roleArn: 'arn:aws:iam::000000000000:role/x',
    }),
  );
  stateMachineArn = out.stateMachineArn!;
});

afterAll(async () => {
  await t?.close();
  rmSync(home, { recursive: true, force: true });
});

describe.skipIf(!hasAwsCli)('Class: LocalCloud (driven by the aws command-line client)', () => {
  it('runs the Step Functions commands: list, start, describe, history, send-task-success', async () => {
    // Act
    const machines = await aws('stepfunctions', 'list-state-machines');
    const started = await aws(
      'stepfunctions',
      'start-execution',
      '--state-machine-arn',
      stateMachineArn,
      '--name',
      'from-cli',
      '--input',
      '{"model":"m"}',
    );
    const token = await eventually(() => tokens[0]);
    // Only the cloud's own tasks may answer a token (lib/local/core/access.ts): a user's keys are refused.
    const refused = await aws('stepfunctions', 'send-task-success', '--task-token', token, '--task-output', '{"approved":true}');
    const asTask = { accessKeyId: process.env.AWS_ACCESS_KEY_ID!, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY! };
    const sent = await awsCliAs(
      asTask,
      t.cloud.endpoint,
      'stepfunctions',
      'send-task-success',
      '--task-token',
      token,
      '--task-output',
      '{"approved":true}',
    );
    await t.cloud.stepFunctions.waitForExecution(started.json.executionArn);
    const described = await aws('stepfunctions', 'describe-execution', '--execution-arn', started.json.executionArn);
    const history = await aws('stepfunctions', 'get-execution-history', '--execution-arn', started.json.executionArn);
    const again = await awsCliAs(
      asTask,
      t.cloud.endpoint,
      'stepfunctions',
      'send-task-success',
      '--task-token',
      token,
      '--task-output',
      '{}',
    );

    // Assess
    expect(machines.json.stateMachines.map((m: { name: string }) => m.name)).toEqual(
      expect.arrayContaining(['mlship-release', 'mlship-drift-check', 'cli-approval']),
    );
    expect(started.code).toBe(0);
    expect(refused.code).not.toBe(0);
    expect(refused.err).toContain('AccessDeniedException');
    expect(sent.code).toBe(0);
    expect(described.json).toMatchObject({ status: 'SUCCEEDED', name: 'from-cli' });
    expect(JSON.parse(described.json.output)).toEqual({ model: 'm', decision: { approved: true } });
    expect(history.json.events.map((e: { type: string }) => e.type)).toEqual(
      expect.arrayContaining(['ExecutionStarted', 'TaskStateEntered', 'TaskScheduled', 'TaskSucceeded', 'ExecutionSucceeded']),
    );
    expect(again.code).not.toBe(0);
    expect(again.err).toContain('TaskDoesNotExist');
  });

  it('answers CodeBuild, SageMaker and SageMaker Runtime commands in their AWS shapes', async () => {
    const builds = await aws('codebuild', 'batch-get-builds', '--ids', 'mlship-build-none:00000000-0000-0000-0000-000000000000');
    const listed = await aws('codebuild', 'list-builds', '--sort-order', 'ASCENDING');
    const endpoint = await aws('sagemaker', 'describe-endpoint', '--endpoint-name', 'mlship-none-production');
    const out = join(home, 'prediction.json');
    const invoked = await aws(
      'sagemaker-runtime',
      'invoke-endpoint',
      '--endpoint-name',
      'mlship-none-production',
      '--body',
      '{}',
      '--content-type',
      'application/json',
      out,
    );

    expect(builds.json.buildsNotFound).toEqual(['mlship-build-none:00000000-0000-0000-0000-000000000000']);
    expect(listed.code).toBe(0);
    expect(listed.json).toEqual({ ids: [] });
    expect(endpoint.code).not.toBe(0);
    expect(endpoint.err).toMatch(/ValidationException.*mlship-none-production/);
    expect(invoked.code).not.toBe(0);
    expect(invoked.err).toContain('ValidationError');
  });

  it("refuses what AWS refuses, one request per service (an invalid name, an out-of-range canary, a too-large payload), with that service's error code (exit 254: the service answered)", async () => {
    // Prepare: each value passes the CLI's own checks (botocore checks only minimums) and breaks the service model
    const big = join(home, 'too-large.json');
    writeFileSync(big, Buffer.alloc(6 * 1024 * 1024 + 1, 0x20));

    // Act
    const sfnName = await aws('stepfunctions', 'start-execution', '--state-machine-arn', stateMachineArn, '--name', 'n'.repeat(81));
    const timeout = await aws('codebuild', 'start-build', '--project-name', 'mlship-build-tiny', '--timeout-in-minutes-override', '2161');
    const endpointName = await aws(
      'sagemaker',
      'create-endpoint',
      '--endpoint-name',
      'mlship_tiny',
      '--endpoint-config-name',
      'mlship-tiny-config',
    );
    const canaryConfig = {
      BlueGreenUpdatePolicy: {
        TrafficRoutingConfiguration: { Type: 'CANARY', WaitIntervalInSeconds: 3601, CanarySize: { Type: 'CAPACITY_PERCENT', Value: 10 } },
      },
    };
    const canary = await aws(
      'sagemaker',
      'update-endpoint',
      '--endpoint-name',
      'mlship-tiny-production',
      '--endpoint-config-name',
      'mlship-tiny-config',
      '--deployment-config',
      JSON.stringify(canaryConfig),
    );
    const runtimeName = await aws(
      'sagemaker-runtime',
      'invoke-endpoint',
      '--endpoint-name',
      'tiny_prod',
      '--body',
      '{}',
      join(home, 'out.json'),
    );
    const payload = await aws(
      'sagemaker-runtime',
      'invoke-endpoint',
      '--endpoint-name',
      'mlship-none-production',
      '--body',
      `fileb://${big}`,
      join(home, 'out.json'),
    );
    const subject = await aws(
      'sns',
      'publish',
      '--topic-arn',
      'arn:aws:sns:us-east-1:000000000000:mlship-notifications',
      '--subject',
      's'.repeat(101),
      '--message',
      'hello',
    );

    // Assess
    expect([sfnName, timeout, endpointName, canary, runtimeName, payload, subject].map((r) => r.code)).toEqual([
      254, 254, 254, 254, 254, 254, 254,
    ]);
    expect(sfnName.err).toContain(
      "(ValidationException) when calling the StartExecution operation: 1 validation error detected: Value 'nnnn",
    );
    expect(sfnName.err).toContain("at 'name' failed to satisfy constraint: Member must have length less than or equal to 80");
    expect(timeout.err).toContain(
      "(InvalidInputException) when calling the StartBuild operation: 1 validation error detected: Value '2161' at 'timeoutInMinutesOverride'",
    );
    expect(endpointName.err).toContain(
      "(ValidationException) when calling the CreateEndpoint operation: 1 validation error detected: Value 'mlship_tiny' at 'endpointName' failed to satisfy constraint: Member must satisfy regular expression pattern",
    );
    expect(canary.err).toContain(
      "(ValidationException) when calling the UpdateEndpoint operation: 1 validation error detected: Value '3601' at 'deploymentConfig.blueGreenUpdatePolicy.trafficRoutingConfiguration.waitIntervalInSeconds' failed to satisfy constraint: Member must have value less than or equal to 3600",
    );
    expect(runtimeName.err).toContain(
      "(ValidationError) when calling the InvokeEndpoint operation: 1 validation error detected: Value 'tiny_prod' at 'endpointName'",
    );
    expect(payload.err).toContain(
      '(ValidationError) when calling the InvokeEndpoint operation: HTTP content length exceeded 6291456 bytes.',
    );
    expect(subject.err).toContain('(InvalidParameter) when calling the Publish operation: Invalid parameter: Subject');
  });

  it('copies and lists objects with aws s3 cp / ls through the edge', async () => {
    // Prepare
    const src = join(home, 'report.json');
    writeFileSync(src, JSON.stringify({ rmse: 1.5 }));
    const back = join(home, 'back.json');

    // Act
    const up = await aws('s3', 'cp', src, 's3://mlship-artifacts/reports/m/v1/report.json');
    const ls = await aws('s3', 'ls', 's3://mlship-artifacts/reports/m/v1/');
    const down = await aws('s3', 'cp', 's3://mlship-artifacts/reports/m/v1/report.json', back);

    // Assess
    expect(up.code).toBe(0);
    expect(ls.out).toContain('report.json');
    expect(down.code).toBe(0);
    expect(JSON.parse(readFileSync(back, 'utf8'))).toEqual({ rmse: 1.5 });
  });

  it('works with --endpoint-url http://localhost:<port> too (the Host allow-list names localhost)', async () => {
    // Prepare
    const localhost = t.cloud.endpoint.replace('127.0.0.1', 'localhost');
    const src = join(home, 'via-localhost.json');
    writeFileSync(src, '{"ok":true}');

    // Act
    const machines = await awsCli(localhost, 'stepfunctions', 'list-state-machines');
    const up = await awsCli(localhost, 's3', 'cp', src, 's3://mlship-artifacts/reports/m/v2/via-localhost.json');
    const ls = await awsCli(localhost, 's3', 'ls', 's3://mlship-artifacts/reports/m/v2/');

    // Assess
    expect(machines.code).toBe(0);
    expect(up.code).toBe(0);
    expect(ls.out).toContain('via-localhost.json');
  });

  it("works with exactly the environment the README's export line sets, in awscli v2 and pip's v1 alike", async () => {
    // Prepare: the README's own line, pointed at this cloud
    const line = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8')
      .split('\n')
      .find((l) => l.startsWith('export AWS_ENDPOINT_URL='))!;
    const env = Object.fromEntries(
      line
        .slice('export '.length)
        .split(/\s+/)
        .filter(Boolean)
        .map((kv) => kv.split('=') as [string, string]),
    );
    env.AWS_ENDPOINT_URL = t.cloud.endpoint;
    const clients = [
      AWS_CLI,
      ...(await promisify(execFile)('sh', ['-c', 'command -v aws']).then(
        (r) => [r.stdout.trim()],
        () => [],
      )),
    ];

    // Act: each client with nothing but PATH, a fresh HOME and the README's variables
    const results = await Promise.all(
      [...new Set(clients)].map((client) =>
        promisify(execFile)(client, ['--endpoint-url', t.cloud.endpoint, 'stepfunctions', 'list-state-machines'], {
          env: { PATH: process.env.PATH, HOME: home, AWS_EC2_METADATA_DISABLED: 'true', ...env },
        }).then(
          () => `${client}: ok`,
          (err: { stderr?: string }) => `${client}: ${String(err.stderr).trim()}`,
        ),
      ),
    );

    // Assess
    expect(results).toEqual([...new Set(clients)].map((c) => `${c}: ok`));
  });
});
