import './task-env';
import { DeleteEndpointCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../../../lambdas/delete-staging-endpoint/handler';
import { fakeS3, sdkError, type FakeBucket } from './fake-s3';
import { EXECUTION_ARN, manifest, NOW, versionRecord } from './fixtures';

const versionKey = 'registry/delivery-time/versions/abcdef1-0a0b.json';
const leaseKey = 'registry/delivery-time/lease.json';
const STAGING = 'mlship-delivery-time-staging';
const event = (state: Record<string, unknown> = { model: 'delivery-time', PrepareReleaseResult: { version: 'abcdef1-0a0b' } }) => ({
  state,
  executionId: EXECUTION_ARN,
  executionName: 'e1',
});
const lease = (executionArn: string) => ({
  model: 'delivery-time',
  holder: {
    executionArn,
    executionName: executionArn.split(':').at(-1),
    version: 'abcdef1-0a0b',
    commitId: 'abcdef1',
    trigger: 'push',
    phase: 'candidate',
    since: NOW.toISOString(),
  },
  last: null,
  updatedAt: NOW.toISOString(),
});

describe('Handler: DeleteStagingEndpoint', () => {
  let bucket: FakeBucket;
  const sagemaker = mockClient(SageMakerClient);
  beforeEach(() => {
    bucket = fakeS3();
    sagemaker.reset();
    sagemaker.on(DeleteEndpointCommand).resolves({});
    bucket.put(versionKey, versionRecord());
    bucket.put(leaseKey, lease(EXECUTION_ARN));
  });
  afterEach(() => bucket.mock.restore());

  it("deletes the model's staging endpoint, and only it, when this release holds the lease", async () => {
    // Act
    const result = await handler(event());

    // Assess
    expect(result).toEqual({ endpointName: STAGING, action: 'deleted', detail: `deleted ${STAGING}` });
    expect(sagemaker.commandCalls(DeleteEndpointCommand).map((c) => c.args[0].input)).toEqual([{ EndpointName: STAGING }]);
  });

  it('keeps the endpoint when the manifest sets staging.keepEndpoint', async () => {
    // Prepare
    bucket.put(versionKey, versionRecord({ manifest: manifest({ staging: { keepEndpoint: true } }) }));

    // Act
    const result = await handler(event());

    // Assess
    expect(result).toMatchObject({ endpointName: STAGING, action: 'kept' });
    expect(sagemaker).not.toReceiveCommand(DeleteEndpointCommand);
  });

  it('leaves the endpoint to the newer release that holds the lease (this one was superseded)', async () => {
    // Prepare
    bucket.put(leaseKey, lease('arn:aws:states:us-east-1:000000000000:execution:mlship-release:newer'));

    // Act
    const result = await handler(event());

    // Assess
    expect(result).toMatchObject({ action: 'skipped', detail: expect.stringContaining('newer holds the lease') });
    expect(sagemaker).not.toReceiveCommand(DeleteEndpointCommand);
  });

  it('deletes nothing for a release that never took the lease or never had a version', async () => {
    // Prepare
    bucket.put(leaseKey, { ...lease(EXECUTION_ARN), holder: null });

    // Act
    const free = await handler(event());
    const early = await handler(event({ model: 'delivery-time' }));

    // Assess
    expect(free).toMatchObject({ action: 'skipped' });
    expect(early).toMatchObject({ endpointName: null, action: 'skipped' });
    expect(sagemaker).not.toReceiveCommand(DeleteEndpointCommand);
  });

  it('answers absent when the endpoint is already gone, so a retry succeeds', async () => {
    // Prepare
    sagemaker.on(DeleteEndpointCommand).rejects(sdkError('ValidationException', 400, `Could not find endpoint "${STAGING}".`));

    // Act / Assess
    await expect(handler(event())).resolves.toMatchObject({ action: 'absent' });
  });

  it('throws any other SageMaker refusal under its own name, for the Catch to record', async () => {
    // Prepare
    sagemaker
      .on(DeleteEndpointCommand)
      .rejects(sdkError('AccessDeniedException', 400, 'not authorized to perform: sagemaker:DeleteEndpoint'));

    // Act / Assess
    await expect(handler(event())).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });
});
