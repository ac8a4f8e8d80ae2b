import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { z } from 'zod';
import { isNotFound, isPreconditionFailed, TerminalError } from './errors';

/**
 * Small S3 helpers for the registry, reports and approvals: JSON documents with their ETag,
 * conditional writes, and line streaming for captures.
 *
 * Conditional writes use `If-None-Match: *` (create only) and `If-Match: <etag>` (replace
 * only what was read), which S3 enforces atomically. The local cloud enforces them the same
 * way at its edge (s3rver alone ignores them: lib/local/services/s3/conditional.ts), so nothing here
 * checks ETags itself: a check before the write could not be atomic anyway.
 */

/** A stored document that is not what its reader expects; names the object and the fields. */
export class CorruptObjectError extends TerminalError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CorruptObjectError';
  }
}

/** A JSON document and the ETag it was read with. */
export interface Stored<T> {
  value: T;
  etag: string | undefined;
}

/** Read an object's bytes; `undefined` when it does not exist. */
export async function getBytes(s3: S3Client, bucket: string, key: string): Promise<Uint8Array | undefined> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return out.Body ? await out.Body.transformToByteArray() : new Uint8Array();
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** Read an object as UTF-8 text; `undefined` when it does not exist. */
export async function getText(s3: S3Client, bucket: string, key: string): Promise<string | undefined> {
  const bytes = await getBytes(s3, bucket, key);
  return bytes === undefined ? undefined : Buffer.from(bytes).toString('utf8');
}

/**
 * Read a JSON document; `undefined` when it does not exist.
 * @param schema when given, the document is parsed with it and a mismatch is a `CorruptObjectError`
 */
export async function getJson<T = unknown>(
  s3: S3Client,
  bucket: string,
  key: string,
  schema?: z.ZodType<T>,
): Promise<Stored<T> | undefined> {
  let out;
  try {
    out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
  const text = out.Body ? await out.Body.transformToString('utf8') : '';
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new CorruptObjectError(`s3://${bucket}/${key}: not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (!schema) return { value: doc as T, etag: out.ETag };
  const parsed = schema.safeParse(doc);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(document)'}: ${i.message}`).join('; ');
    throw new CorruptObjectError(`s3://${bucket}/${key}: ${problems}`, { cause: parsed.error });
  }
  return { value: parsed.data, etag: out.ETag };
}

/** Options of a conditional write. */
export interface PutCondition {
  /** Write only if the object still has this ETag. */
  ifMatch?: string;
  /** `'*'`: write only if the object does not exist yet. */
  ifNoneMatch?: '*';
}

/** Write an object. @returns its new ETag */
export async function putBody(
  s3: S3Client,
  bucket: string,
  key: string,
  body: string | Uint8Array,
  contentType: string,
  condition: PutCondition = {},
): Promise<string | undefined> {
  const out = await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: body,
      ContentType: contentType,
      IfMatch: condition.ifMatch,
      IfNoneMatch: condition.ifNoneMatch,
    }),
  );
  return out.ETag;
}

/** Write a JSON document (pretty-printed: people read these in the console and the bucket). */
export function putJson(
  s3: S3Client,
  bucket: string,
  key: string,
  value: unknown,
  condition: PutCondition = {},
): Promise<string | undefined> {
  return putBody(s3, bucket, key, `${JSON.stringify(value, null, 2)}\n`, 'application/json', condition);
}

/**
 * A conditional JSON write that reports a lost race instead of throwing.
 * @returns `{ written: true, etag }` or `{ written: false }` when the precondition failed
 */
export async function putJsonIf(
  s3: S3Client,
  bucket: string,
  key: string,
  value: unknown,
  condition: PutCondition,
): Promise<{ written: true; etag: string | undefined } | { written: false }> {
  try {
    return { written: true, etag: await putJson(s3, bucket, key, value, condition) };
  } catch (err) {
    // S3 answers If-Match on a key that no longer exists with 404 NoSuchKey: also a lost race.
    if (isPreconditionFailed(err) || (condition.ifMatch !== undefined && isNotFound(err))) return { written: false };
    throw err;
  }
}

/** An object's ETag; `undefined` when it does not exist. */
export async function headEtag(s3: S3Client, bucket: string, key: string): Promise<string | undefined> {
  try {
    return (await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).ETag ?? '';
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** Stream an object's non-blank lines without holding the whole object; nothing when it does not exist. */
export async function* readLines(s3: S3Client, bucket: string, key: string): AsyncGenerator<string> {
  for await (const { text } of readNumberedLines(s3, bucket, key)) if (text.trim() !== '') yield text;
}

/**
 * Stream an object's lines with their 1-based line numbers (blank ones included, so a parse error can
 * name the line as an editor counts it); nothing when the object does not exist.
 */
export async function* readNumberedLines(s3: S3Client, bucket: string, key: string): AsyncGenerator<{ text: string; line: number }> {
  let body: Readable;
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    if (!out.Body) return;
    body = out.Body as Readable;
  } catch (err) {
    if (isNotFound(err)) return;
    throw err;
  }
  let line = 0;
  for await (const text of createInterface({ input: body, crlfDelay: Infinity })) yield { text, line: ++line };
}

/** One listed object. */
export interface ListedObject {
  key: string;
  lastModified: Date | undefined;
  size: number;
}

/** List every object under a prefix, page by page. */
export async function* listObjects(s3: S3Client, bucket: string, prefix: string, startAfter?: string): AsyncGenerator<ListedObject> {
  let token: string | undefined;
  do {
    const out = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token, StartAfter: token ? undefined : startAfter }),
    );
    for (const o of out.Contents ?? []) {
      if (o.Key) yield { key: o.Key, lastModified: o.LastModified, size: o.Size ?? 0 };
    }
    token = out.IsTruncated ? out.NextContinuationToken : undefined;
  } while (token);
}
