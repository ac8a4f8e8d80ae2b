/**
 * Read-only access to the artifact bucket for the console: JSON and text objects, key and
 * prefix listings. Everything the console shows comes through here (or Step Functions), so
 * it works with an approver's read-only credentials on AWS.
 */
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';

/** An object exists but is not the JSON the console expects; names the key. */
export class ConsoleDataError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConsoleDataError';
  }
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}

export class S3Store {
  constructor(
    readonly s3: S3Client,
    readonly bucket: string,
  ) {}

  /** The object's text, or undefined when it does not exist. */
  async text(key: string): Promise<string | undefined> {
    try {
      const res = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return (await res.Body?.transformToString('utf-8')) ?? '';
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** The object parsed as JSON, or undefined when it does not exist. */
  async json<T = unknown>(key: string): Promise<T | undefined> {
    const text = await this.text(key);
    if (text === undefined) return undefined;
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new ConsoleDataError(`s3://${this.bucket}/${key} is not valid JSON: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Every key under a prefix (all pages), with its last-modified time. */
  async keys(prefix: string): Promise<{ key: string; lastModified?: Date }[]> {
    const out: { key: string; lastModified?: Date }[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }));
      for (const o of page.Contents ?? []) if (o.Key) out.push({ key: o.Key, lastModified: o.LastModified });
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  /** The next path segment of every key under a prefix, e.g. model names under `registry/`. */
  async children(prefix: string): Promise<string[]> {
    const out = new Set<string>();
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token }),
      );
      for (const p of page.CommonPrefixes ?? []) if (p.Prefix) out.add(p.Prefix.slice(prefix.length).replace(/\/$/, ''));
      // Some S3-compatible servers answer a delimited listing with plain keys only.
      for (const o of page.Contents ?? []) {
        const rest = o.Key?.slice(prefix.length) ?? '';
        if (rest.includes('/')) out.add(rest.split('/')[0]!);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return [...out].filter(Boolean).sort();
  }
}

/** `s3://bucket/key` -> key, when the URI points into this bucket. */
export function keyOfUri(uri: string | undefined, bucket: string): string | undefined {
  if (!uri) return undefined;
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!m) return undefined;
  return m[1] === bucket ? m[2] : undefined;
}
