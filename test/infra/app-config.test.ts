import { describe, expect, it } from 'vitest';
import { ContextValueError, resolveAppConfig } from '../../lib/infra/app-config';

describe('Function: resolveAppConfig', () => {
  it('defaults to a CodeConnections source and leaves missing values undefined', () => {
    // Act
    const config = resolveAppConfig({});
    // Assess
    expect(config).toEqual({ sourceProvider: 'codeconnections' });
  });

  it('takes account and region from the environment unless the context sets them', () => {
    // Act
    const fromEnv = resolveAppConfig({}, { account: '111111111111', region: 'eu-west-1' });
    const fromContext = resolveAppConfig(
      { account: '222222222222', region: 'us-west-2' },
      { account: '111111111111', region: 'eu-west-1' },
    );
    // Assess
    expect(fromEnv).toMatchObject({ account: '111111111111', region: 'eu-west-1' });
    expect(fromContext).toMatchObject({ account: '222222222222', region: 'us-west-2' });
  });

  it('accepts well-formed values', () => {
    // Act
    const config = resolveAppConfig({
      connectionArn: 'arn:aws:codeconnections:us-east-1:123456789012:connection/0a1b2c3d-aaaa-bbbb-cccc-0123456789ab',
      repository: 'acme/ml-models',
      branch: 'release/2026',
      notificationEmail: 'ml@acme.example',
    });
    // Assess
    expect(config).toMatchObject({ repository: 'acme/ml-models', branch: 'release/2026', notificationEmail: 'ml@acme.example' });
  });

  it.each([
    [{ sourceProvider: 'github' }, 'sourceProvider', /must be one of "codeconnections", "codecommit"/],
    [{ connectionArn: 'arn:aws:s3:::bucket' }, 'connectionArn', /not a CodeConnections connection ARN/],
    [{ repository: 'just-a-name' }, 'repository', /not owner\/name/],
    [{ account: '12345' }, 'account', /12-digit/],
    [{ notificationEmail: 'nobody' }, 'notificationEmail', /e-mail/],
    [{ branch: 42 }, 'branch', /must be a string/],
  ])('names the context key of a malformed value (%j)', (raw, key, message) => {
    // Act
    let error: unknown;
    try {
      resolveAppConfig(raw as never);
    } catch (err) {
      error = err;
    }
    // Assess
    expect(error).toBeInstanceOf(ContextValueError);
    expect((error as ContextValueError).key).toBe(key);
    expect((error as Error).message).toMatch(new RegExp(`^context "${key}": `));
    expect((error as Error).message).toMatch(message);
  });
});
