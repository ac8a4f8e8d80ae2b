import '../task-env';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ApprovalRejectedError, InvalidEventError, TransientError } from '../../../../lambdas/shared/errors';
import { defineTask, parseEvent } from '../../../../lambdas/shared/task';
import { sdkError } from '../fake-s3';

describe('Function: defineTask', () => {
  const schema = z.object({ model: z.string(), n: z.number().int() });

  it('parses the event and returns the domain result', async () => {
    const handler = defineTask(
      'CheckBuild',
      schema,
      (e) => ({ model: e.model }),
      async (e) => ({ doubled: e.n * 2 }),
    );
    await expect(handler({ model: 'm', n: 2 })).resolves.toEqual({ doubled: 4 });
  });

  it('refuses a malformed event with an InvalidEventError naming the task and the fields', async () => {
    const handler = defineTask(
      'CheckBuild',
      schema,
      () => ({}),
      async () => 1,
    );
    const error = (await handler({ n: 1.5 }).then(
      () => undefined,
      (e: unknown) => e,
    )) as Error;
    expect(error).toBeInstanceOf(InvalidEventError);
    expect(error.name).toBe('InvalidEventError');
    expect(error.message).toMatch(/^CheckBuild: invalid event: model: .*; n: /);
  });

  it('turns a throttled SDK call into TransientError and keeps terminal errors as they are', async () => {
    const throttled = defineTask(
      'CheckBuild',
      schema,
      () => ({}),
      async () => Promise.reject(sdkError('ThrottlingException', 400)),
    );
    const rejected = defineTask(
      'CheckBuild',
      schema,
      () => ({}),
      async () => Promise.reject(new ApprovalRejectedError('no')),
    );
    await expect(throttled({ model: 'm', n: 1 })).rejects.toBeInstanceOf(TransientError);
    await expect(rejected({ model: 'm', n: 1 })).rejects.toMatchObject({ name: 'ApprovalRejectedError' });
  });
});

describe('Function: parseEvent', () => {
  it('names the top level when the event is not an object', () => {
    expect(() => parseEvent('X', z.object({ a: z.string() }), 'str')).toThrow(/X: invalid event: \(event\): /);
  });
});
