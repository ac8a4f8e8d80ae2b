import { afterEach, describe, expect, it, vi } from 'vitest';
import { createS3Client, createSfnClient, s3ConfigFromEnv, withLazyClients } from '../../../../lambdas/shared/clients';
import { getOptionalStringFromEnv, getStringFromEnv, TASK_ENV } from '../../../../lambdas/shared/env';
import { MissingEnvironmentVariableError } from '../../../../lambdas/shared/errors';

describe('Function: getStringFromEnv', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('returns a set variable', () => {
    vi.stubEnv(TASK_ENV.artifactBucket, 'bucket-1');
    expect(getStringFromEnv(TASK_ENV.artifactBucket)).toBe('bucket-1');
  });

  it.each([undefined, ''])('throws a named error naming the variable when it is %j', (value) => {
    // Prepare
    vi.stubEnv(TASK_ENV.sagemakerRoleArn, value as string);

    // Act & Assess
    expect(() => getStringFromEnv(TASK_ENV.sagemakerRoleArn)).toThrow(MissingEnvironmentVariableError);
    expect(() => getStringFromEnv(TASK_ENV.sagemakerRoleArn)).toThrow('environment variable SAGEMAKER_ROLE_ARN is not set');
    expect(getOptionalStringFromEnv(TASK_ENV.sagemakerRoleArn)).toBeUndefined();
  });
});

describe('Function: s3ConfigFromEnv', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('adds path-style addressing and WHEN_REQUIRED checksums when an endpoint is set', () => {
    expect(s3ConfigFromEnv({ AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' })).toEqual({
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    expect(s3ConfigFromEnv({ AWS_ENDPOINT_URL_S3: 'https://s3.example' })).toMatchObject({ forcePathStyle: true });
  });

  it('leaves the SDK defaults alone without an endpoint', () => {
    expect(s3ConfigFromEnv({})).toEqual({});
  });

  it('builds clients that use the endpoint and the options', async () => {
    // Prepare
    vi.stubEnv('AWS_ENDPOINT_URL', 'http://127.0.0.1:4566');
    vi.stubEnv('AWS_REGION', 'us-east-1');

    // Act
    const s3 = createS3Client();
    const sfn = createSfnClient();

    // Assess
    expect(s3.config.forcePathStyle).toBe(true);
    expect(await s3.config.requestChecksumCalculation()).toBe('WHEN_REQUIRED');
    const endpoint = await sfn.config.endpointProvider({ Region: 'us-east-1', Endpoint: 'http://127.0.0.1:4566' } as never);
    expect(endpoint.url.toString()).toBe('http://127.0.0.1:4566/');
  });

  it('gives a client created with an endpoint the same options, with none in the environment (the CLI, the console, the local cloud)', async () => {
    // Prepare
    vi.stubEnv('AWS_ENDPOINT_URL', '');
    vi.stubEnv('AWS_ENDPOINT_URL_S3', '');

    // Act
    const local = createS3Client({ endpoint: 'http://127.0.0.1:4566', region: 'us-east-1' });
    const aws = createS3Client({ region: 'us-east-1' });

    // Assess
    expect(local.config.forcePathStyle).toBe(true);
    expect(await local.config.requestChecksumCalculation()).toBe('WHEN_REQUIRED');
    expect(await local.config.responseChecksumValidation()).toBe('WHEN_REQUIRED');
    expect(aws.config.forcePathStyle).toBe(false);
    expect(await aws.config.requestChecksumCalculation()).toBe('WHEN_SUPPORTED');
  });
});

describe('Function: withLazyClients', () => {
  it('keeps the values and creates each client on its first read only, once', () => {
    // Prepare
    const create = vi.fn(() => ({ client: 1 }));

    // Act
    const deps = withLazyClients({ bucket: 'b' }, { s3: create });

    // Assess
    expect(create).not.toHaveBeenCalled();
    expect(deps.bucket).toBe('b');
    const first = deps.s3;
    expect(deps.s3).toBe(first);
    expect(create).toHaveBeenCalledTimes(1);
    expect(Object.keys(deps)).toEqual(['bucket', 's3']);
  });
});
