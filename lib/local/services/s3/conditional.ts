import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';

/**
 * Conditional writes for the local S3 server, enforced at the edge.
 *
 * s3rver ignores `If-None-Match` and `If-Match` on PutObject, so a "create only" or
 * "replace only what I read" write would silently overwrite. S3 checks the precondition and
 * writes atomically; here every write to one key (conditional or not, PUT, POST, DELETE) is
 * serialized in one queue per key, and a conditional PUT first reads the object's ETag
 * with a HEAD to the same server. Since no other write to that key can run in between, the
 * check and the write are atomic as on S3. Reads are not queued: the child writes each
 * object with a rename, so a read sees the old or the new object, never a torn one.
 */

/** What a failed precondition answers, in S3's XML error shape. */
export interface S3Refusal {
  status: number;
  code: string;
  message: string;
}

const xmlEscape = (s: string) => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** An S3 REST error body. */
export function s3ErrorXml(code: string, message: string, resource = ''): string {
  return `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message><Resource>${xmlEscape(resource)}</Resource><RequestId>local</RequestId></Error>`;
}

/** The bucket and key of a path-style request path (`/bucket/key?query`), decoded; key '' for bucket-level requests. */
export function objectOf(url: string): { bucket: string; key: string } {
  const path = url.split('?')[0] ?? '/';
  const slash = path.indexOf('/', 1);
  if (slash < 0) return { bucket: safeDecode(path.slice(1)), key: '' };
  return { bucket: safeDecode(path.slice(1, slash)), key: safeDecode(path.slice(slash + 1)) };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

const normalizeEtag = (e: string | undefined) => (e ?? '').trim().replace(/^W\//, '').replace(/^"|"$/g, '');

/**
 * Decide a conditional PUT against the object's current ETag (`undefined` = no such object),
 * as S3 does: `If-None-Match: *` fails with 412 when the object exists; `If-Match` fails with
 * 412 on another ETag and with 404 NoSuchKey when there is no object.
 */
export function checkPrecondition(headers: IncomingHttpHeaders, current: string | undefined): S3Refusal | undefined {
  const ifNoneMatch = first(headers['if-none-match']);
  const ifMatch = first(headers['if-match']);
  if (ifNoneMatch !== undefined && current !== undefined) {
    const tags = ifNoneMatch.split(',').map((t) => t.trim());
    if (tags.includes('*') || tags.map(normalizeEtag).includes(normalizeEtag(current))) {
      return { status: 412, code: 'PreconditionFailed', message: 'At least one of the pre-conditions you specified did not hold' };
    }
  }
  if (ifMatch !== undefined) {
    if (current === undefined) return { status: 404, code: 'NoSuchKey', message: 'The specified key does not exist.' };
    const tags = ifMatch.split(',').map((t) => t.trim());
    if (!tags.includes('*') && !tags.map(normalizeEtag).includes(normalizeEtag(current))) {
      return { status: 412, code: 'PreconditionFailed', message: 'At least one of the pre-conditions you specified did not hold' };
    }
  }
  return undefined;
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Whether a request replaces or removes an object (and so joins its key's queue): PutObject,
 * CopyObject, DeleteObject and CompleteMultipartUpload. The other multipart steps (create,
 * upload part, abort) leave the object as it is and run in parallel, as clients expect.
 */
export function isObjectWrite(method: string | undefined, url: string): boolean {
  if (method !== 'PUT' && method !== 'POST' && method !== 'DELETE') return false;
  if (objectOf(url).key === '') return false;
  const query = new URLSearchParams(url.includes('?') ? url.slice(url.indexOf('?') + 1) : '');
  return method === 'POST' ? query.has('uploadId') : !query.has('uploadId');
}

/** Whether a write carries a precondition the edge must check (PutObject and CompleteMultipartUpload). */
export function isConditional(method: string | undefined, headers: IncomingHttpHeaders): boolean {
  return (method === 'PUT' || method === 'POST') && (headers['if-none-match'] !== undefined || headers['if-match'] !== undefined);
}

/**
 * A readers-writer lock per object key, granted in arrival order: reads of a key share it, a
 * write holds it alone. Writes must not overlap (check-and-write is one step), and a read
 * must not overlap a write either: s3rver renames an object's metadata and its bytes into
 * place one after the other, so a read during an overwrite can pair the new ETag with the
 * old body, and an `If-Match` on that ETag then replaces what the reader never saw (two
 * releases both took the model lease, 1 trial in 20, in release-lease.test.ts). Written by
 * hand: a few lines, and no small library locks by key.
 */
export class KeyLock {
  private readonly keys = new Map<string, LockState>();

  async run<T>(key: string, mode: 'read' | 'write', work: () => Promise<T>): Promise<T> {
    const write = mode === 'write';
    let st = this.keys.get(key);
    if (!st) this.keys.set(key, (st = { readers: 0, writing: false, waiting: [] }));
    // Granted at once only when nothing waits ahead, so a stream of reads cannot starve a write.
    if (st.writing || st.waiting.length > 0 || (write && st.readers > 0)) await new Promise<void>((go) => st.waiting.push({ write, go }));
    else if (write) st.writing = true;
    else st.readers++;
    try {
      return await work();
    } finally {
      if (write) st.writing = false;
      else st.readers--;
      this.grant(key, st);
    }
  }

  private grant(key: string, st: LockState): void {
    while (st.waiting.length > 0 && !st.writing) {
      const next = st.waiting[0]!;
      if (next.write && st.readers > 0) break;
      st.waiting.shift();
      if (next.write) st.writing = true;
      else st.readers++;
      next.go();
    }
    // The last holder of a key removes it, so the map does not grow with every key ever touched.
    if (!st.writing && st.readers === 0 && st.waiting.length === 0) this.keys.delete(key);
  }
}

interface LockState {
  readers: number;
  writing: boolean;
  waiting: Array<{ write: boolean; go: () => void }>;
}

/** Whether a request reads one object (GetObject, HeadObject and their sub-resources). */
export function isObjectRead(method: string | undefined, url: string): boolean {
  return (method === 'GET' || method === 'HEAD') && objectOf(url).key !== '';
}

/** The ETag of an object on the S3 server, `undefined` when it does not exist. */
export function headEtag(s3Url: string, path: string, headers: IncomingHttpHeaders): Promise<string | undefined> {
  const target = new URL(s3Url);
  // The caller's own Host and Authorization: s3rver accepts any signature, and the object
  // is addressed exactly as the write addresses it.
  const pass: Record<string, string> = {};
  for (const name of ['host', 'authorization', 'x-amz-date', 'x-amz-content-sha256', 'x-amz-security-token']) {
    const v = first(headers[name]);
    if (v !== undefined) pass[name] = v;
  }
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: target.hostname, port: target.port, method: 'HEAD', path: path.split('?')[0], headers: pass },
      (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 404) resolve(undefined);
          else if (res.statusCode && res.statusCode < 300) resolve(first(res.headers.etag) ?? '');
          else reject(new Error(`HEAD ${path}: local S3 server answered ${res.statusCode}`));
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}
