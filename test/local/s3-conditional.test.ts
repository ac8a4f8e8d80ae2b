import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCloud, type TestCloud } from './helpers';

/**
 * Conditional writes through the local cloud's edge, with the AWS SDK: `If-None-Match: *`
 * and `If-Match: <etag>` are honoured as S3 honours them (412 PreconditionFailed, 404 for
 * If-Match on a missing key), also under concurrency. s3rver alone ignores both headers.
 */
describe('Module: conditional writes at the local edge', () => {
  let t: TestCloud;
  const bucket = 'mlship-artifacts';
  const put = (s3: S3Client, key: string, body: string, cond: { IfMatch?: string; IfNoneMatch?: string } = {}) =>
    s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'text/plain', ...cond }));
  const read = async (key: string) => (await t.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString();
  const failure = (err: unknown) => ({
    name: (err as Error).name,
    status: (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode,
  });

  beforeAll(async () => {
    t = await startTestCloud();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('refuses a create-only write of an existing key with 412 PreconditionFailed and keeps the object', async () => {
    // Prepare
    await put(t.s3, 'registry/x/create-once.json', 'first', { IfNoneMatch: '*' });

    // Act
    const second = await put(t.s3, 'registry/x/create-once.json', 'second', { IfNoneMatch: '*' }).catch(failure);

    // Assess
    expect(second).toEqual({ name: 'PreconditionFailed', status: 412 });
    expect(await read('registry/x/create-once.json')).toBe('first');
  });

  it('replaces only the ETag that was read: 412 for a stale one, 404 NoSuchKey for a missing key', async () => {
    // Prepare
    const v1 = (await put(t.s3, 'registry/x/replace.json', 'v1')).ETag!;
    const v2 = (await put(t.s3, 'registry/x/replace.json', 'v2', { IfMatch: v1 })).ETag!;

    // Act
    const stale = await put(t.s3, 'registry/x/replace.json', 'v3', { IfMatch: v1 }).catch(failure);
    const missing = await put(t.s3, 'registry/x/never-written.json', 'v1', { IfMatch: v1 }).catch(failure);

    // Assess
    expect(stale).toEqual({ name: 'PreconditionFailed', status: 412 });
    expect(missing).toMatchObject({ status: 404 });
    expect(await read('registry/x/replace.json')).toBe('v2');
    expect((await t.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'registry/x/replace.json' }))).ETag).toBe(v2);
  });

  it('lets exactly one of 8 concurrent conditional writes win, 20 rounds of each kind', async () => {
    for (let round = 0; round < 20; round++) {
      // Act: 8 writers create the same new key, then 8 writers replace the same ETag
      const key = `registry/x/race-${round}.json`;
      const creates = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => put(t.s3, key, `create-${i}`, { IfNoneMatch: '*' })));
      const etag = (await t.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).ETag!;
      const replaces = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => put(t.s3, key, `replace-${i}`, { IfMatch: etag })));

      // Assess: one winner each time, every loser told 412, and the object is the winner's
      for (const results of [creates, replaces]) {
        expect(
          results.filter((r) => r.status === 'fulfilled'),
          `round ${round}`,
        ).toHaveLength(1);
        expect(results.filter((r) => r.status === 'rejected').map((r) => failure((r as PromiseRejectedResult).reason).status)).toEqual(
          Array(7).fill(412),
        );
      }
      const winner = replaces.findIndex((r) => r.status === 'fulfilled');
      expect(await read(key)).toBe(`replace-${winner}`);
    }
  });

  it('loses no update when 4 writers read-modify-write one object with If-Match, 50 increments each', async () => {
    // Prepare: a counter, as the model lease and the approval records use S3 (read, then
    // replace only the ETag that was read). A read that paired one version's ETag with
    // another's body would let a stale write through and lose an increment.
    const key = 'registry/x/counter.json';
    await put(t.s3, key, JSON.stringify({ n: 0, pad: '' }));
    const increment = async (writer: number) => {
      for (let done = 0; done < 50;) {
        const got = await t.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        const doc = JSON.parse(await got.Body!.transformToString()) as { n: number };
        // Bodies of changing size, so an old body is never mistaken for the new one by length.
        const next = JSON.stringify({ n: doc.n + 1, writer, pad: 'x'.repeat(((doc.n * 7919) % 50) * 1000) });
        try {
          await put(t.s3, key, next, { IfMatch: got.ETag! });
          done++;
        } catch (err) {
          if (failure(err).status !== 412) throw err;
        }
      }
    };

    // Act
    await Promise.all([0, 1, 2, 3].map(increment));

    // Assess
    expect((JSON.parse(await read(key)) as { n: number }).n).toBe(200);
  }, 120_000);
});
