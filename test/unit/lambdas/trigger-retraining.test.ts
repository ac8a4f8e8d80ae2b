import './task-env';
import { S3Client } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, ListExecutionsCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeHandler } from '../../../lambdas/trigger-retraining/handler';
import { fakeS3, sdkError, type FakeBucket } from './fake-s3';
import { BUCKET, manifest, versionRecord } from './fixtures';

const SM = 'arn:aws:states:us-east-1:000000000000:stateMachine:mlship-release';
const event = {
  model: 'delivery-time',
  reason: 'dataset drift: 2/2 features',
  run: 'd1',
  executionId: 'arn:aws:states:us-east-1:000000000000:execution:mlship-drift:d1',
  executionName: 'd1',
};

describe('Handler: TriggerRetraining', () => {
  let bucket: FakeBucket;
  const sfn = mockClient(SFNClient);
  let now = new Date('2026-11-27T12:00:00Z');
  const handler = makeHandler({
    s3: new S3Client({ region: 'us-east-1' }),
    sfn: new SFNClient({ region: 'us-east-1' }),
    bucket: BUCKET,
    releaseStateMachineArn: SM,
    now: () => now,
  });

  beforeEach(() => {
    now = new Date('2026-11-27T12:00:00Z');
    bucket = fakeS3();
    sfn.reset();
    sfn.on(ListExecutionsCommand).resolves({ executions: [] });
    sfn.on(StartExecutionCommand).callsFake((input: { name: string }) => ({
      executionArn: `${SM.replace(':stateMachine:', ':execution:')}:${input.name}`,
      startDate: now,
    }));
    bucket.put('registry/delivery-time/production.json', {
      model: 'delivery-time',
      version: '1111111-aaaa',
      since: 't',
      endpointName: 'p',
    });
    bucket.put(
      'registry/delivery-time/versions/1111111-aaaa.json',
      versionRecord({ version: '1111111-aaaa', status: 'production', commitId: '1111111abcdef' }),
    );
  });
  afterEach(() => bucket.mock.restore());

  it("starts a release of production's commit with trigger drift and a deterministic name", async () => {
    // Act
    const result = await handler(event);

    // Assess
    expect(result.started).toBe(true);
    expect(result.executionArn).toMatch(/:execution:mlship-release:delivery-time-drift-[0-9a-f]{16}$/);
    const input = JSON.parse(sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input.input!) as Record<string, unknown>;
    expect(input).toEqual({
      model: 'delivery-time',
      commitId: '1111111abcdef',
      sourceUri: 's3://mlship-artifacts/source/delivery-time/abcdef1234567890.zip',
      trigger: 'drift',
      reason: 'dataset drift: 2/2 features',
    });
    expect(bucket.json('registry/delivery-time/retraining.json')).toMatchObject({
      lastStartedAt: now.toISOString(),
      executionArn: result.executionArn,
      run: 'd1',
    });
  });

  it('does not start a second release on a retry of the same drift execution', async () => {
    const first = await handler(event);
    const second = await handler(event);
    expect(second).toEqual(first);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(1);
  });

  it('treats ExecutionAlreadyExists (the first attempt started it) as started', async () => {
    sfn.on(StartExecutionCommand).rejects(sdkError('ExecutionAlreadyExists', 400));
    await expect(handler(event)).resolves.toMatchObject({ started: true, skippedReason: null });
  });

  it('skips during the cooldown and starts after it', async () => {
    bucket.put('registry/delivery-time/retraining.json', {
      lastStartedAt: '2026-11-27T11:30:00.000Z',
      executionArn: 'arn:old',
      reason: 'r',
      run: 'd0',
    });
    await expect(handler(event)).resolves.toMatchObject({
      started: false,
      skippedReason: expect.stringMatching(/^cooldown: .* after 2026-11-27T12:30:00.000Z/),
    });
    now = new Date('2026-11-27T12:31:00Z');
    await expect(handler(event)).resolves.toMatchObject({ started: true });
  });

  it('skips while a release of the model is running, found by its input', async () => {
    // Prepare
    sfn
      .on(ListExecutionsCommand)
      .resolvesOnce({ executions: [{ executionArn: 'arn:a' } as never], nextToken: 'n' })
      .resolvesOnce({ executions: [{ executionArn: 'arn:b' } as never] });
    sfn.on(DescribeExecutionCommand, { executionArn: 'arn:a' }).resolves({ input: '{"model":"ticket-triage"}' });
    sfn.on(DescribeExecutionCommand, { executionArn: 'arn:b' }).resolves({ input: '{"model":"delivery-time"}' });

    // Act & Assess
    await expect(handler(event)).resolves.toEqual({
      started: false,
      executionArn: null,
      skippedReason: 'a release of delivery-time is running: arn:b',
    });
    expect(sfn).toReceiveCommandWith(ListExecutionsCommand, { stateMachineArn: SM, statusFilter: 'RUNNING' });
    expect(sfn).not.toReceiveCommand(StartExecutionCommand);
  });

  it('skips when retraining is off or there is no production version', async () => {
    bucket.put(
      'registry/delivery-time/versions/1111111-aaaa.json',
      versionRecord({ version: '1111111-aaaa', manifest: manifest({ drift: { retraining: { enabled: false } } }) }),
    );
    await expect(handler(event)).resolves.toMatchObject({ started: false, skippedReason: expect.stringContaining('disabled') });
    bucket.objects.delete('mlship-artifacts/registry/delivery-time/production.json');
    await expect(handler(event)).resolves.toMatchObject({
      started: false,
      skippedReason: expect.stringContaining('no production version'),
    });
  });

  it('passes SFN throttling on as TransientError and refuses a malformed event', async () => {
    sfn.on(ListExecutionsCommand).rejects(sdkError('ThrottlingException', 400));
    await expect(handler(event)).rejects.toMatchObject({ name: 'TransientError' });
    await expect(handler({ ...event, model: 'Bad Name' })).rejects.toMatchObject({ name: 'InvalidEventError' });
  });
});
