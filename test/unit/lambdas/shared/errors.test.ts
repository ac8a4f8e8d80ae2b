import { describe, expect, it } from 'vitest';
import {
  ApprovalRejectedError,
  classifyError,
  EndpointBusyError,
  InvalidManifestError,
  isNotFound,
  isPreconditionFailed,
  isTransient,
  TerminalError,
  TransientError,
} from '../../../../lambdas/shared/errors';
import { sdkError } from '../fake-s3';

describe('Function: classifyError', () => {
  it.each([
    ['ThrottlingException', 400],
    ['TooManyRequestsException', 429],
    ['SlowDown', 503],
    ['InternalError', 500],
    ['ServiceUnavailable', 503],
    ['SomethingNew', 502],
    ['TimeoutError', 0],
  ])('turns %s (HTTP %i) into a TransientError that keeps the original as cause', (name, status) => {
    // Prepare
    const original = sdkError(name, status);

    // Act
    const classified = classifyError(original);

    // Assess
    expect(classified).toBeInstanceOf(TransientError);
    expect((classified as Error).name).toBe('TransientError');
    expect((classified as Error).cause).toBe(original);
    expect((classified as Error).message).toContain(name);
  });

  it('treats network failures and errors the SDK marks retryable as transient', () => {
    expect(isTransient(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isTransient(Object.assign(new Error('x'), { name: 'Weird', $retryable: {} }))).toBe(true);
  });

  it('leaves client errors and terminal errors alone, name intact', () => {
    // Prepare
    const validation = sdkError('ValidationException', 400);
    const rejected = new ApprovalRejectedError('no', { cause: validation });

    // Act & Assess
    expect(classifyError(validation)).toBe(validation);
    expect(classifyError(rejected)).toBe(rejected);
    expect(rejected.name).toBe('ApprovalRejectedError');
    expect(rejected.cause).toBe(validation);
    expect(isTransient(new InvalidManifestError('x', { cause: sdkError('ServiceUnavailable', 503) }))).toBe(false);
    expect(new InvalidManifestError('x')).toBeInstanceOf(TerminalError);
  });

  it('keeps the name of a transient subclass, which the deploy states retry on their own schedule', () => {
    const busy = new EndpointBusyError('Updating');
    expect(isTransient(busy)).toBe(true);
    expect(classifyError(busy)).toBe(busy);
    expect(busy.name).toBe('EndpointBusyError');
  });

  it('does not retry 501 Not Implemented, which never gets better', () => {
    expect(isTransient(sdkError('NotImplemented', 501))).toBe(false);
  });
});

describe('Function: isNotFound / isPreconditionFailed', () => {
  it('recognises a missing key but not a missing bucket', () => {
    expect(isNotFound(sdkError('NoSuchKey', 404))).toBe(true);
    expect(isNotFound(sdkError('NotFound', 404))).toBe(true);
    expect(isNotFound(sdkError('NoSuchBucket', 404))).toBe(false);
    expect(isNotFound(sdkError('AccessDenied', 403))).toBe(false);
  });

  it('recognises failed conditional writes', () => {
    expect(isPreconditionFailed(sdkError('PreconditionFailed', 412))).toBe(true);
    expect(isPreconditionFailed(sdkError('ConditionalRequestConflict', 409))).toBe(true);
    expect(isPreconditionFailed(sdkError('AccessDenied', 403))).toBe(false);
  });
});
