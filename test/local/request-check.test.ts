import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CodeBuildClient, StartBuildCommand } from '@aws-sdk/client-codebuild';
import { CreateEndpointCommand, DescribeEndpointCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { ListExecutionsCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { PublishCommand } from '@aws-sdk/client-sns';
import { LocalCloud } from '../../lib/local/cloud';
import { NOTIFICATION_TOPIC_ARN } from '../../lib/local/constants';
import { RequestChecks, type CheckedRequest } from '../../lib/local/core/request-check';
import { clientConfig, rawRequest, startTestCloud, type TestCloud } from './helpers';

let t: TestCloud;
const seen: CheckedRequest[] = [];
const releaseArn = LocalCloud.stateMachineArn('release');

/** The error a call was refused with: its name (the SDK's exception class), HTTP status and message. */
async function refusal(call: Promise<unknown>): Promise<{ name: string; status?: number; message: string }> {
  try {
    await call;
  } catch (err) {
    const e = err as Error & { $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode, message: e.message };
  }
  throw new Error('the request was accepted');
}

beforeAll(async () => {
  t = await startTestCloud({ onRequest: (r) => seen.push(r) });
});
afterAll(async () => {
  await t?.close();
});

describe('Class: RequestChecks (the edge checks requests against AWS service models)', () => {
  it("refuses an out-of-range Step Functions name with ValidationException and AWS's message, and starts nothing", async () => {
    // Act
    const refused = await refusal(
      t.sfn.send(new StartExecutionCommand({ stateMachineArn: releaseArn, name: 'x'.repeat(81), input: '{}' })),
    );
    const badEnum = await refusal(
      t.sfn.send(new ListExecutionsCommand({ stateMachineArn: releaseArn, statusFilter: 'SLEEPING' as never })),
    );
    const listed = await t.sfn.send(new ListExecutionsCommand({ stateMachineArn: releaseArn }));

    // Assess
    expect(refused).toEqual({
      name: 'ValidationException',
      status: 400,
      message: `1 validation error detected: Value '${'x'.repeat(81)}' at 'name' failed to satisfy constraint: Member must have length less than or equal to 80`,
    });
    expect(badEnum.name).toBe('ValidationException');
    expect(badEnum.message).toContain(
      "Value 'SLEEPING' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum value set: [RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, PENDING_REDRIVE]",
    );
    expect(listed.executions).toEqual([]);
  });

  it('refuses a CodeBuild timeout outside 5..2160 minutes with InvalidInputException instead of changing it', async () => {
    // Prepare
    const codebuild = new CodeBuildClient(clientConfig(t.cloud.endpoint));

    // Act
    const low = await refusal(codebuild.send(new StartBuildCommand({ projectName: 'mlship-build-tiny', timeoutInMinutesOverride: 1 })));
    const high = await refusal(codebuild.send(new StartBuildCommand({ projectName: 'mlship-build-tiny', timeoutInMinutesOverride: 2161 })));
    codebuild.destroy();

    // Assess
    expect(low).toMatchObject({ name: 'InvalidInputException', status: 400 });
    expect(low.message).toContain(
      "Value '1' at 'timeoutInMinutesOverride' failed to satisfy constraint: Member must have value greater than or equal to 5",
    );
    expect(high.message).toContain('Member must have value less than or equal to 2160');
  });

  it('refuses a SageMaker endpoint name outside its pattern with ValidationException, matching the whole name', async () => {
    // Prepare
    const sagemaker = new SageMakerClient(clientConfig(t.cloud.endpoint));

    // Act: the pattern matches the prefix "mlship"; AWS still refuses the name
    const refused = await refusal(
      sagemaker.send(new CreateEndpointCommand({ EndpointName: 'mlship_tiny', EndpointConfigName: 'mlship-tiny-config' })),
    );
    const missing = await refusal(sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'mlship-tiny' })));
    sagemaker.destroy();

    // Assess
    expect(refused).toMatchObject({ name: 'ValidationException', status: 400 });
    expect(refused.message).toBe(
      "1 validation error detected: Value 'mlship_tiny' at 'endpointName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}",
    );
    expect(missing.message).toMatch(/Could not find endpoint/);
  });

  it('refuses SageMaker Runtime headers outside the model with ValidationError, leaving a sensitive value out of the message', async () => {
    // Prepare
    const runtime = new SageMakerRuntimeClient(clientConfig(t.cloud.endpoint));

    // Act
    const badName = await refusal(
      runtime.send(new InvokeEndpointCommand({ EndpointName: 'tiny_prod', Body: Buffer.from('{}'), ContentType: 'application/json' })),
    );
    const longAttributes = await refusal(
      runtime.send(new InvokeEndpointCommand({ EndpointName: 'tiny-prod', Body: Buffer.from('{}'), CustomAttributes: 'a'.repeat(1025) })),
    );
    runtime.destroy();

    // Assess
    expect(badName).toMatchObject({ name: 'ValidationError', status: 400 });
    expect(badName.message).toContain(
      "Value 'tiny_prod' at 'endpointName' failed to satisfy constraint: Member must satisfy regular expression pattern",
    );
    expect(longAttributes.message).toBe(
      "1 validation error detected: Value at 'customAttributes' failed to satisfy constraint: Member must have length less than or equal to 1024",
    );
  });

  it('refuses an SNS message attribute without its DataType with InvalidParameter, and publishes nothing', async () => {
    // Act
    const refused = await refusal(
      t.sns.send(
        new PublishCommand({
          TopicArn: NOTIFICATION_TOPIC_ARN,
          Message: 'hello',
          MessageAttributes: { model: { StringValue: 'tiny' } as never },
        }),
      ),
    );

    // Assess
    expect(refused).toMatchObject({ name: 'InvalidParameterException', status: 400 });
    expect(refused.message).toBe(
      "1 validation error detected: Value null at 'messageAttributes.model.dataType' failed to satisfy constraint: Member must not be null",
    );
    expect(readdirSync(t.dataDir)).not.toContain('notifications.jsonl');
  });

  it("refuses what SNS's documentation limits: a subject over 100 characters or of two lines, a message over 256 KB", async () => {
    // Act
    const publish = (Subject: string | undefined, Message: string) =>
      refusal(t.sns.send(new PublishCommand({ TopicArn: NOTIFICATION_TOPIC_ARN, Subject, Message })));
    const results = [
      await publish('s'.repeat(101), 'x'),
      await publish('line one\nline two', 'x'),
      await publish(undefined, 'é'.repeat(131_073)),
    ];

    // Assess: 131,073 two-byte characters are 262,146 bytes
    expect(results.map((r) => [r.name, r.message])).toEqual([
      ['InvalidParameterException', 'Invalid parameter: Subject'],
      ['InvalidParameterException', 'Invalid parameter: Subject'],
      ['InvalidParameterException', 'Invalid parameter: Message too long'],
    ]);
    expect(readdirSync(t.dataDir)).not.toContain('notifications.jsonl');
  });

  it('answers a value of the wrong JSON type with SerializationException', async () => {
    // Act
    const res = await rawRequest(t.cloud.endpoint, {
      method: 'POST',
      headers: {
        host: new URL(t.cloud.endpoint).host,
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'AWSStepFunctions.StartExecution',
      },
      body: JSON.stringify({ stateMachineArn: releaseArn, name: 42 }),
    });

    // Assess
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toEqual({ __type: 'SerializationException', message: "Member must be a string at 'name'" });
  });

  it('reports every checked request, valid or refused, to onRequest', () => {
    expect(seen.find((r) => r.operation === 'StartExecution')).toMatchObject({ service: 'stepfunctions', violations: [{ path: 'name' }] });
    expect(seen.filter((r) => r.operation === 'ListExecutions').map((r) => r.violations.length)).toEqual([1, 0]);
  });
});

describe('The committed service models', () => {
  it('compile every pattern in this JavaScript engine', () => {
    // Act: compile every shape of every model
    const checks = new RequestChecks();
    for (const v of Object.values(checks.validators)) for (const name of Object.keys(v.model.shapes)) v.check(name);

    // Assess
    expect(Object.values(checks.validators).flatMap((v) => v.unusablePatterns)).toEqual([]);
  });

  // The generator needs Python with the botocore the files came from (a maintainer's tool);
  // another version may differ, legitimately, until someone regenerates and commits.
  const committedVersion = /^botocore (\S+),/.exec(new RequestChecks().validators.sns!.model.source)![1];
  const hasBotocore = (() => {
    try {
      return (
        execFileSync('python3', ['-c', 'import botocore; print(botocore.__version__)'], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'ignore'],
        }).trim() === committedVersion
      );
    } catch {
      return false;
    }
  })();

  it.skipIf(!hasBotocore)('are what scripts/aws-models.py generates from botocore of the version they name', async () => {
    // Prepare
    const out = mkdtempSync(join(tmpdir(), 'mlship-aws-models-'));
    const committed = join(import.meta.dirname, '..', '..', 'lib', 'local', 'core', 'aws-models');

    // Act
    await promisify(execFile)('python3', [join(import.meta.dirname, '..', '..', 'scripts', 'aws-models.py'), out]);

    // Assess
    expect(readdirSync(out).sort()).toEqual(
      readdirSync(committed)
        .filter((f) => f.endsWith('.json'))
        .sort(),
    );
    for (const file of readdirSync(out))
      expect(readFileSync(join(out, file), 'utf8'), file).toBe(readFileSync(join(committed, file), 'utf8'));
    rmSync(out, { recursive: true, force: true });
  });
});
