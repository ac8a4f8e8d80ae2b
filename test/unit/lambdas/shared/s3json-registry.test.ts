import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { ConcurrentUpdateError, RegistryRecordNotFoundError, TransientError } from '../../../../lambdas/shared/errors';
import { keys } from '../../../../lambdas/shared/names';
import { createVersion, readProductionVersion, readVersion, updateVersion } from '../../../../lambdas/shared/registry';
import { CorruptObjectError, getJson, listObjects, putJsonIf, readLines } from '../../../../lambdas/shared/s3json';
import { fakeS3, type FakeBucket } from '../fake-s3';
import { BUCKET, NOW, versionRecord } from '../fixtures';

describe('Module: s3json', () => {
  let bucket: FakeBucket;
  const s3 = new S3Client({ region: 'us-east-1' });
  beforeEach(() => {
    bucket = fakeS3();
  });
  afterEach(() => bucket.mock.restore());

  describe('Method: getJson', () => {
    it('returns undefined for a missing object and the value with its ETag otherwise', async () => {
      // Prepare
      bucket.put('a.json', { x: 1 });

      // Act
      const missing = await getJson(s3, BUCKET, 'nope.json');
      const found = await getJson(s3, BUCKET, 'a.json', z.object({ x: z.number() }));

      // Assess
      expect(missing).toBeUndefined();
      expect(found?.value).toEqual({ x: 1 });
      expect(found?.etag).toMatch(/^".+"$/);
    });

    it('names the object and the field when a document does not match its schema', async () => {
      bucket.put('bad.json', { x: 'one' });
      await expect(getJson(s3, BUCKET, 'bad.json', z.object({ x: z.number() }))).rejects.toThrow(CorruptObjectError);
      await expect(getJson(s3, BUCKET, 'bad.json', z.object({ x: z.number() }))).rejects.toThrow(/s3:\/\/mlship-artifacts\/bad\.json: x: /);
      bucket.put('notjson.json', '{');
      await expect(getJson(s3, BUCKET, 'notjson.json')).rejects.toThrow(/notjson\.json: not valid JSON/);
    });
  });

  describe('Method: putJsonIf', () => {
    it('creates once with If-None-Match and replaces only the version it read with If-Match', async () => {
      // Act
      const first = await putJsonIf(s3, BUCKET, 'k.json', { n: 1 }, { ifNoneMatch: '*' });
      const second = await putJsonIf(s3, BUCKET, 'k.json', { n: 2 }, { ifNoneMatch: '*' });
      const stale = await putJsonIf(s3, BUCKET, 'k.json', { n: 3 }, { ifMatch: '"stale"' });
      const fresh = await putJsonIf(s3, BUCKET, 'k.json', { n: 4 }, { ifMatch: first.written ? first.etag : '' });

      // Assess
      expect([first.written, second.written, stale.written, fresh.written]).toEqual([true, false, false, true]);
      expect(bucket.json('k.json')).toEqual({ n: 4 });
    });
  });

  describe('Method: putJsonIf (the store enforces the condition)', () => {
    it('reports a failed precondition, and If-Match on a key deleted meanwhile, as a lost race', async () => {
      // Prepare: S3 answers If-Match on a missing key with 404 NoSuchKey
      bucket.put('k.json', { n: 1 });

      // Act
      const create = await putJsonIf(s3, BUCKET, 'k.json', { n: 2 }, { ifNoneMatch: '*' });
      const replace = await putJsonIf(s3, BUCKET, 'k.json', { n: 3 }, { ifMatch: '"stale"' });
      bucket.mock
        .on(PutObjectCommand)
        .rejects(Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } }));
      const gone = await putJsonIf(s3, BUCKET, 'gone.json', { n: 4 }, { ifMatch: '"old"' });

      // Assess: no HEAD before the write; a check there could not be atomic anyway
      expect([create.written, replace.written, gone.written]).toEqual([false, false, false]);
      expect(bucket.json('k.json')).toEqual({ n: 1 });
      expect(bucket.mock).not.toReceiveCommand(HeadObjectCommand);
    });
  });

  describe('Method: readLines / listObjects', () => {
    it('streams non-empty lines of an object and nothing of a missing one', async () => {
      // Prepare
      bucket.put('lines.jsonl', '{"a":1}\n\n{"a":2}\r\n');

      // Act
      const lines: string[] = [];
      for await (const l of readLines(s3, BUCKET, 'lines.jsonl')) lines.push(l);
      const none: string[] = [];
      for await (const l of readLines(s3, BUCKET, 'missing.jsonl')) none.push(l);

      // Assess
      expect(lines).toEqual(['{"a":1}', '{"a":2}']);
      expect(none).toEqual([]);
    });

    it('lists every page of a prefix', async () => {
      // Prepare: pages of two keys
      bucket.mock.restore();
      bucket = fakeS3(BUCKET, 2);
      for (let i = 0; i < 5; i++) bucket.put(`p/${i}.json`, {});
      bucket.put('q/x.json', {});

      // Act
      const listed: string[] = [];
      for await (const o of listObjects(s3, BUCKET, 'p/')) listed.push(o.key);

      // Assess
      expect(listed).toEqual(['p/0.json', 'p/1.json', 'p/2.json', 'p/3.json', 'p/4.json']);
    });
  });
});

describe('Module: registry', () => {
  let bucket: FakeBucket;
  const deps = { s3: new S3Client({ region: 'us-east-1' }), bucket: BUCKET };
  beforeEach(() => {
    bucket = fakeS3();
  });
  afterEach(() => bucket.mock.restore());

  describe('Method: createVersion', () => {
    it('creates the record once; the same execution gets it back, another one is refused', async () => {
      // Prepare
      const record = versionRecord();

      // Act
      await createVersion(deps, record);
      const again = await createVersion(deps, { ...record, createdAt: 'later' });

      // Assess
      expect(again.createdAt).toBe(record.createdAt);
      await expect(createVersion(deps, { ...record, execution: { arn: 'other', name: 'o' } })).rejects.toThrow(ConcurrentUpdateError);
    });
  });

  describe('Method: updateVersion', () => {
    it('applies the change and stamps updatedAt', async () => {
      bucket.put(keys.version('delivery-time', 'abcdef1-0a0b'), versionRecord());
      const updated = await updateVersion(
        deps,
        'delivery-time',
        'abcdef1-0a0b',
        (r) => ({ ...r, status: 'built' }),
        () => new Date('2026-11-27T02:00:00Z'),
      );
      expect(updated).toMatchObject({ status: 'built', updatedAt: '2026-11-27T02:00:00.000Z' });
      expect(bucket.json<{ status: string }>(keys.version('delivery-time', 'abcdef1-0a0b')).status).toBe('built');
    });

    it('re-reads and retries when another writer changes the record in between, then gives up transiently', async () => {
      // Prepare: every read is followed by a competing write
      const key = keys.version('delivery-time', 'abcdef1-0a0b');
      bucket.put(key, versionRecord());
      let interference = 0;
      const change = (r: ReturnType<typeof versionRecord>) => {
        if (interference++ < 2) bucket.put(key, { ...r, reason: `other ${interference}` });
        return { ...r, status: 'built' as const };
      };

      // Act
      const result = await updateVersion(deps, 'delivery-time', 'abcdef1-0a0b', change, () => NOW);

      // Assess
      expect(interference).toBe(3);
      expect(result.status).toBe('built');
      expect(result.reason).toBe('other 2');

      const always = (r: ReturnType<typeof versionRecord>) => (bucket.put(key, r), r);
      await expect(updateVersion(deps, 'delivery-time', 'abcdef1-0a0b', always, () => NOW)).rejects.toThrow(TransientError);
    });

    it('names the missing record', async () => {
      await expect(readVersion(deps, 'delivery-time', 'abcdef1-ffff')).rejects.toThrow(RegistryRecordNotFoundError);
      await expect(readVersion(deps, 'delivery-time', 'abcdef1-ffff')).rejects.toThrow('registry/delivery-time/versions/abcdef1-ffff.json');
    });
  });

  describe('Method: readProductionVersion', () => {
    it('follows the pointer to the record', async () => {
      expect(await readProductionVersion(deps, 'delivery-time')).toBeUndefined();
      bucket.put(keys.production('delivery-time'), { model: 'delivery-time', version: 'abcdef1-0a0b', since: NOW.toISOString() });
      bucket.put(keys.version('delivery-time', 'abcdef1-0a0b'), versionRecord({ status: 'production' }));
      const found = await readProductionVersion(deps, 'delivery-time');
      expect(found?.record.status).toBe('production');
    });
  });
});
