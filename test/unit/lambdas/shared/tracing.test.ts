import './tracing-env';
import '../task-env';
import * as AWSXRay from 'aws-xray-sdk-core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createS3Client, createSageMakerClient } from '../../../../lambdas/shared/clients';
import { defineTask } from '../../../../lambdas/shared/task';

/** Powertools Tracer on Lambda: the SDK clients and each task invocation show in X-Ray. */

/** Run `work` as Lambda does, under a facade segment; returns the segment with what was recorded in it. */
async function underSegment(work: () => Promise<unknown>): Promise<{ segment: AWSXRay.Segment; outcome: PromiseSettledResult<unknown> }> {
  const segment = new AWSXRay.Segment('facade');
  const outcome = await AWSXRay.getNamespace().runAndReturn(async () => {
    AWSXRay.setSegment(segment);
    return Promise.allSettled([work()]);
  });
  return { segment, outcome: outcome[0]! };
}

describe('Module: clients (tracing)', () => {
  it('instruments every client from the factory with X-Ray', () => {
    for (const client of [createS3Client(), createSageMakerClient()])
      expect(client.middlewareStack.identify().join(' ')).toContain('XRaySDKInstrumentation');
  });
});

describe('Function: defineTask (tracing)', () => {
  const schema = z.object({ model: z.string(), version: z.string() });

  it('runs each invocation in a ## <task> subsegment annotated with the model and version, closed with its result', async () => {
    const handler = defineTask(
      'CheckBuild',
      schema,
      (e) => ({ model: e.model, version: e.version }),
      async () => ({ status: 'SUCCEEDED' }),
    );

    const { segment, outcome } = await underSegment(() => handler({ model: 'delivery-time', version: 'abcdef1-0a0b' }));

    expect(outcome.status).toBe('fulfilled');
    const sub = segment.subsegments?.find((s) => s.name === '## CheckBuild') as unknown as {
      annotations: Record<string, unknown>;
      metadata: Record<string, Record<string, unknown>>;
      end_time?: number;
    };
    expect(sub).toBeDefined();
    expect(sub.annotations).toMatchObject({ model: 'delivery-time', version: 'abcdef1-0a0b', Service: 'mlship' });
    expect(sub.metadata.mlship).toMatchObject({ 'CheckBuild response': { status: 'SUCCEEDED' } });
    expect(sub.end_time).toBeGreaterThan(0);
  });

  it('records the error on the subsegment and still rethrows it', async () => {
    const handler = defineTask(
      'CheckBuild',
      schema,
      (e) => ({ model: e.model }),
      async () => {
        throw new Error('boom');
      },
    );

    const { segment, outcome } = await underSegment(() => handler({ model: 'm', version: 'v' }));

    expect(outcome.status).toBe('rejected');
    const sub = segment.subsegments?.find((s) => s.name === '## CheckBuild') as unknown as { fault?: boolean; end_time?: number };
    expect(sub.fault).toBe(true);
    expect(sub.end_time).toBeGreaterThan(0);
  });
});
