import './task-env';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../../../lambdas/promote-version/handler';
import type { ProductionPointer, VersionRecord } from '../../../lambdas/shared/registry';
import { fakeS3, type FakeBucket } from './fake-s3';
import { EXECUTION_ARN, releaseEvent, versionRecord } from './fixtures';

const v = (version: string) => `registry/delivery-time/versions/${version}.json`;
const pointerKey = 'registry/delivery-time/production.json';
const event = {
  ...releaseEvent(),
  endpointName: 'mlship-delivery-time-production',
  approval: { approved: true, by: 'alice', at: '2026-11-27T01:20:00Z', comment: 'ok' },
};

describe('Handler: PromoteVersion', () => {
  let bucket: FakeBucket;
  beforeEach(() => {
    bucket = fakeS3();
    bucket.put(v('abcdef1-0a0b'), versionRecord({ status: 'awaiting-approval' }));
    bucket.put(v('1111111-aaaa'), versionRecord({ version: '1111111-aaaa', status: 'production' }));
    bucket.put(pointerKey, {
      model: 'delivery-time',
      version: '1111111-aaaa',
      since: '2026-11-01T00:00:00Z',
      executionArn: 'old',
      endpointName: 'mlship-delivery-time-production',
      previous: null,
    });
  });
  afterEach(() => bucket.mock.restore());

  it('swaps the pointer conditionally, archives the previous version and appends the history', async () => {
    // Act
    const result = await handler(event);

    // Assess
    expect(result).toEqual({ production: 'abcdef1-0a0b', previous: '1111111-aaaa' });
    expect(bucket.json<ProductionPointer>(pointerKey)).toMatchObject({
      version: 'abcdef1-0a0b',
      previous: '1111111-aaaa',
      executionArn: EXECUTION_ARN,
    });
    expect(bucket.json<VersionRecord>(v('abcdef1-0a0b'))).toMatchObject({
      status: 'production',
      approval: { decision: 'approved', by: 'alice', comment: 'ok' },
      lineage: { previousProduction: '1111111-aaaa' },
    });
    expect(bucket.json<VersionRecord>(v('1111111-aaaa'))).toMatchObject({ status: 'archived' });
    const history = bucket.keys('registry/delivery-time/deployments/');
    expect(history).toHaveLength(1);
    expect(bucket.json(history[0]!)).toMatchObject({ event: 'promoted', version: 'abcdef1-0a0b', previous: '1111111-aaaa' });
    expect(bucket.mock).toReceiveCommandWith(PutObjectCommand, { Key: pointerKey, IfMatch: expect.stringMatching(/^".+"$/) });
  });

  it('writes the new record before the pointer, so a crash between them leaves production unchanged', async () => {
    // Prepare: the pointer write fails (crash)
    const order: string[] = [];
    bucket.mock.on(PutObjectCommand).callsFake((input: { Key: string }) => {
      order.push(input.Key);
      if (input.Key === pointerKey) throw new Error('crash');
      return { ETag: '"x"' };
    });

    // Act
    await expect(handler(event)).rejects.toThrow('crash');

    // Assess
    expect(order).toEqual([v('abcdef1-0a0b'), pointerKey]);
    expect(bucket.json<ProductionPointer>(pointerKey).version).toBe('1111111-aaaa');
  });

  it('finishes a promotion whose pointer was already swapped (a retry after a crash)', async () => {
    bucket.put(pointerKey, {
      model: 'delivery-time',
      version: 'abcdef1-0a0b',
      since: 't',
      executionArn: EXECUTION_ARN,
      endpointName: 'p',
      previous: '1111111-aaaa',
    });
    await expect(handler(event)).resolves.toEqual({ production: 'abcdef1-0a0b', previous: '1111111-aaaa' });
    expect(bucket.json<VersionRecord>(v('1111111-aaaa')).status).toBe('archived');
    expect(bucket.keys('registry/delivery-time/deployments/')).toHaveLength(0);
  });

  it('creates the pointer of the first release with If-None-Match', async () => {
    bucket.objects.delete(`mlship-artifacts/${pointerKey}`);
    await expect(handler(event)).resolves.toEqual({ production: 'abcdef1-0a0b', previous: null });
    expect(bucket.mock).toReceiveCommandWith(PutObjectCommand, { Key: pointerKey, IfNoneMatch: '*' });
  });

  it('retries (TransientError) instead of overwriting a pointer that moved since it was read', async () => {
    // Prepare: another promotion lands between our read and our write
    let moved = false;
    bucket.mock.on(PutObjectCommand, { Key: v('abcdef1-0a0b') }).callsFake(() => {
      if (!moved) {
        moved = true;
        bucket.put(pointerKey, {
          model: 'delivery-time',
          version: '2222222-bbbb',
          since: 't',
          executionArn: 'x',
          endpointName: 'p',
          previous: '1111111-aaaa',
        });
      }
      return { ETag: '"y"' };
    });

    // Act & Assess
    await expect(handler(event)).rejects.toMatchObject({
      name: 'TransientError',
      message: expect.stringContaining('production.json changed'),
    });
    expect(bucket.json<ProductionPointer>(pointerKey).version).toBe('2222222-bbbb');
  });

  it('fails terminally when the version has no record, before touching the pointer', async () => {
    bucket.objects.delete('mlship-artifacts/' + v('abcdef1-0a0b'));
    await expect(handler(event)).rejects.toMatchObject({ name: 'RegistryRecordNotFoundError' });
    expect(bucket.json<ProductionPointer>(pointerKey).version).toBe('1111111-aaaa');
  });
});
