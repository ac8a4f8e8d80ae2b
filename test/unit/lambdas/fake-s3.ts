import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';

/**
 * An in-memory bucket behind aws-sdk-client-mock: GetObject, HeadObject, PutObject (with
 * If-Match and If-None-Match enforced as S3 does) and ListObjectsV2 (with pagination), so registry and
 * approval logic runs against S3's semantics instead of a script of canned answers.
 */
export interface FakeBucket {
  mock: AwsClientStub<S3Client>;
  objects: Map<string, { body: Buffer; etag: string; contentType?: string }>;
  put(key: string, body: string | Buffer | object, bucket?: string): void;
  json<T = unknown>(key: string, bucket?: string): T;
  text(key: string, bucket?: string): string;
  has(key: string, bucket?: string): boolean;
  keys(prefix?: string): string[];
}

const error = (name: string, status: number, message = name) =>
  Object.assign(new Error(message), { name, $fault: 'client', $metadata: { httpStatusCode: status } });

function streamBody(buf: Buffer) {
  return Object.assign(Readable.from([buf]), {
    transformToString: async (encoding?: BufferEncoding) => buf.toString(encoding ?? 'utf8'),
    transformToByteArray: async () => new Uint8Array(buf),
  });
}

export function fakeS3(defaultBucket = 'mlship-artifacts', pageSize = 1000): FakeBucket {
  const mock = mockClient(S3Client);
  const objects = new Map<string, { body: Buffer; etag: string; contentType?: string }>();
  const id = (bucket: string | undefined, key: string | undefined) => `${bucket ?? defaultBucket}/${key}`;
  const toBuffer = (body: unknown): Buffer =>
    Buffer.isBuffer(body)
      ? body
      : body instanceof Uint8Array
        ? Buffer.from(body)
        : typeof body === 'string'
          ? Buffer.from(body)
          : Buffer.from(JSON.stringify(body));
  const store = (bucket: string | undefined, key: string, body: unknown, contentType?: string) => {
    const buf = toBuffer(body);
    const etag = `"${createHash('md5').update(buf).update(String(Math.random())).digest('hex')}"`;
    objects.set(id(bucket, key), { body: buf, etag, contentType });
    return etag;
  };

  mock.on(GetObjectCommand).callsFake((input: { Bucket?: string; Key?: string }) => {
    const o = objects.get(id(input.Bucket, input.Key));
    if (!o) throw error('NoSuchKey', 404, `The specified key does not exist: ${input.Key}`);
    return { Body: streamBody(o.body), ETag: o.etag, ContentType: o.contentType };
  });
  mock.on(HeadObjectCommand).callsFake((input: { Bucket?: string; Key?: string }) => {
    const o = objects.get(id(input.Bucket, input.Key));
    if (!o) throw error('NotFound', 404);
    return { ETag: o.etag, ContentLength: o.body.length };
  });
  mock
    .on(PutObjectCommand)
    .callsFake((input: { Bucket?: string; Key?: string; Body?: unknown; IfMatch?: string; IfNoneMatch?: string; ContentType?: string }) => {
      const current = objects.get(id(input.Bucket, input.Key));
      if (input.IfNoneMatch === '*' && current) throw error('PreconditionFailed', 412);
      if (input.IfMatch !== undefined && current?.etag !== input.IfMatch) throw error('PreconditionFailed', 412);
      return { ETag: store(input.Bucket, input.Key!, input.Body, input.ContentType) };
    });
  mock
    .on(ListObjectsV2Command)
    .callsFake((input: { Bucket?: string; Prefix?: string; ContinuationToken?: string; StartAfter?: string }) => {
      const prefix = `${input.Bucket ?? defaultBucket}/`;
      const all = [...objects.keys()]
        .filter((k) => k.startsWith(prefix))
        .map((k) => k.slice(prefix.length))
        .filter((k) => k.startsWith(input.Prefix ?? '') && (!input.StartAfter || k > input.StartAfter))
        .sort();
      const from = input.ContinuationToken ? Number(input.ContinuationToken) : 0;
      const page = all.slice(from, from + pageSize);
      const more = from + pageSize < all.length;
      return {
        Contents: page.map((Key) => ({ Key, Size: objects.get(prefix + Key)!.body.length, LastModified: new Date() })),
        IsTruncated: more,
        NextContinuationToken: more ? String(from + pageSize) : undefined,
      };
    });

  return {
    mock,
    objects,
    put: (key, body, bucket) => void store(bucket, key, body),
    json: <T>(key: string, bucket?: string) => JSON.parse(objects.get(id(bucket, key))?.body.toString() ?? 'null') as T,
    text: (key, bucket) => objects.get(id(bucket, key))?.body.toString() ?? '',
    has: (key, bucket) => objects.has(id(bucket, key)),
    keys: (p = '') =>
      [...objects.keys()]
        .map((k) => k.slice(defaultBucket.length + 1))
        .filter((k) => k.startsWith(p))
        .sort(),
  };
}

/** An error shaped like the SDK's service exceptions. */
export const sdkError = error;
