import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { foreignHost, loopbackOrigins, sameOriginRequest } from '../../loopback';
import type { TaskCredentials } from './access';
import { checkPrecondition, headEtag, isConditional, isObjectRead, isObjectWrite, KeyLock, objectOf, s3ErrorXml } from '../services/s3';
import { RequestChecks } from './request-check';
import { AwsServiceError, type JsonService } from './service';
import { LocalSns } from '../services/sns';
import { CLOUDWATCH_API_VERSION, type CloudWatchService } from '../services/cloudwatch';
import type { InvokeEndpointRequest, InvokeEndpointResponse } from '../services/sagemaker';

/**
 * The edge: the one HTTP port every client of the local cloud talks to, on 127.0.0.1.
 *
 * - AWS JSON protocol (`X-Amz-Target: <prefix>.<Operation>`) -> the JsonService with that prefix
 * - SageMaker Runtime REST (`POST /endpoints/<name>/invocations`) -> the endpoint host
 * - AWS query protocol (`POST /`, form-encoded `Action=...`) -> CloudWatch when `Version=2010-08-01`, else SNS
 * - `/_mlship/*` -> the local cloud's own routes (the git hook)
 * - everything else is S3 REST, streamed through to the s3rver child unchanged (Host header
 *   included, so a SigV4 signature over it stays valid); writes to one key are queued and
 *   `If-None-Match` / `If-Match` enforced, which s3rver ignores (services/s3/conditional.ts)
 * - with `taskCredentials`, what only the tasks may do is refused to everyone else (access.ts)
 * - every request to an emulated operation is checked against AWS's service model first, and
 *   refused as that service refuses it (request-check.ts)
 *
 * Every request must be addressed to a loopback name and this port (lib/loopback): a web
 * page rebinding its DNS name to 127.0.0.1 still sends its own name, and is refused with
 * 421 in the shape of the protocol it spoke. The `/_mlship/*` routes also need a JSON body
 * and no foreign Origin, and all but the open ones (`openInternal`) the internal secret as a
 * bearer token.
 */

export interface InternalResponse {
  status: number;
  body: string;
  contentType?: string;
}

export interface EdgeOptions {
  /** 0 picks a free port. */
  port: number;
  services: JsonService[];
  /** The S3 server everything unrouted is proxied to, e.g. http://127.0.0.1:41234. */
  s3Url: string;
  /**
   * Whether the S3 server serves: true, or a promise that resolves when it is back (true) or
   * has not come back in time (false). Requests wait for it, then get 503 SlowDown so SDK
   * retries cover a restart. @default always serving
   */
  s3Ready?: () => true | Promise<boolean>;
  sns: LocalSns;
  /** GetMetricData in the query protocol (the aws CLI); its JSON protocol comes through `services`. */
  cloudWatch?: CloudWatchService;
  invokeEndpoint?: (req: InvokeEndpointRequest) => Promise<InvokeEndpointResponse>;
  /** `/_mlship/<route>` handlers; the body is the raw request body. */
  internal?: Record<string, (body: Buffer, headers: IncomingHttpHeaders) => Promise<InternalResponse>>;
  /**
   * The bearer token the `/_mlship/*` routes must carry (the git hook reads it from the data
   * dir), except the `openInternal` ones. Without one, those routes answer nothing.
   */
  internalSecret?: string;
  /**
   * Routes any local client may call without the secret (still JSON, same origin, loopback
   * Host): the approval decision, the local stand-in for a function URL that approvers call
   * with their own identity. @default none
   */
  openInternal?: readonly string[];
  /** When set, SendTask*, the approval-token objects and writes to approval records are refused unless signed with these (access.ts). */
  taskCredentials?: TaskCredentials;
  /** The check of every request against AWS's service models. @default checks, records nothing */
  requestChecks?: RequestChecks;
  /** Where unexpected errors are reported. @default stderr */
  onError?: (err: unknown, where: string) => void;
}

const MAX_BODY = 256 * 1024 * 1024;
/** The git hook's ref updates are a few hundred bytes per branch. */
const MAX_INTERNAL_BODY = 1024 * 1024;
const INVOCATIONS = /^\/endpoints\/([^/?]+)\/invocations\/?(\?.*)?$/;

function readBody(req: IncomingMessage, limit = MAX_BODY): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new AwsServiceError('RequestEntityTooLargeException', 'request body too large', 413));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const header = (req: IncomingMessage, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

/** Constant-time comparison; hashing first hides the length and gives timingSafeEqual equal sizes. */
function secretEqual(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

const xmlEscape = (s: string): string => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

export class Edge {
  private server?: Server;
  /** The port listened on: the only one a request's Host may name. */
  private port = -1;
  private readonly byPrefix = new Map<string, JsonService>();
  /** Writes to one S3 key, one at a time: what makes a conditional write atomic (services/s3/conditional.ts). */
  private readonly s3Keys = new KeyLock();
  private readonly checks: RequestChecks;

  constructor(private readonly opts: EdgeOptions) {
    this.checks = opts.requestChecks ?? new RequestChecks();
    for (const s of opts.services) this.byPrefix.set(s.targetPrefix, s);
  }

  /** Listen on 127.0.0.1; resolves with the port. */
  async listen(): Promise<number> {
    const server = createServer((req, res) => {
      this.route(req, res).catch((err) => this.fail(res, err, 'edge'));
    });
    // Keep-alive connections from SDK clients would otherwise hold close() open.
    server.keepAliveTimeout = 5000;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    return this.port;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private report(err: unknown, where: string): void {
    if (this.opts.onError) this.opts.onError(err, where);
    else process.stderr.write(`mlship edge: ${where}: ${(err as Error)?.stack ?? String(err)}\n`);
  }

  private fail(res: ServerResponse, err: unknown, where: string): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const e =
      err instanceof AwsServiceError
        ? err
        : new AwsServiceError('InternalFailure', `internal error: ${(err as Error)?.message ?? String(err)}`, 500);
    if (!(err instanceof AwsServiceError)) this.report(err, where);
    res.writeHead(e.status, { 'content-type': 'application/json', 'x-amzn-errortype': e.type, 'x-amzn-requestid': randomUUID() });
    res.end(JSON.stringify({ __type: e.type, message: e.message }));
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = header(req, 'x-amz-target');
    const url = req.url ?? '/';
    const hostProblem = foreignHost(header(req, 'host'), this.port);
    if (hostProblem)
      return this.refuse(
        req,
        res,
        new AwsServiceError('MisdirectedRequest', `${hostProblem} (the local cloud answers loopback names only)`, 421),
      );
    if (target && req.method === 'POST') return this.json(req, res, target);
    const invocation = req.method === 'POST' ? INVOCATIONS.exec(url) : null;
    if (invocation) return this.invoke(req, res, decodeURIComponent(invocation[1]!));
    if (url.startsWith('/_mlship/')) return this.internal(req, res, url.slice('/_mlship/'.length).split('?')[0]!);
    const type = header(req, 'content-type') ?? '';
    if (req.method === 'POST' && (url === '/' || url.startsWith('/?')) && type.startsWith('application/x-www-form-urlencoded')) {
      return this.query(req, res);
    }
    return this.proxyS3(req, res);
  }

  /** Answer a request before it is routed, in the error shape of the protocol it spoke. */
  private refuse(req: IncomingMessage, res: ServerResponse, err: AwsServiceError): void {
    const url = req.url ?? '/';
    const type = header(req, 'content-type') ?? '';
    const requestId = randomUUID();
    // The body is not read: close the connection rather than parse what follows it.
    const base = { 'x-amzn-requestid': requestId, connection: 'close' };
    if (header(req, 'x-amz-target') || INVOCATIONS.test(url)) {
      const contentType = type.startsWith('application/x-amz-json-1.1')
        ? 'application/x-amz-json-1.1'
        : type.startsWith('application/x-amz-json')
          ? 'application/x-amz-json-1.0'
          : 'application/json';
      res.writeHead(err.status, { ...base, 'content-type': contentType, 'x-amzn-errortype': err.type });
      res.end(JSON.stringify({ __type: err.type, message: err.message }));
    } else if (url.startsWith('/_mlship/')) {
      res.writeHead(err.status, { ...base, 'content-type': 'text/plain; charset=utf-8' });
      res.end(`mlship: ${err.message}\n`);
    } else if (req.method === 'POST' && (url === '/' || url.startsWith('/?')) && type.startsWith('application/x-www-form-urlencoded')) {
      res.writeHead(err.status, { ...base, 'content-type': 'text/xml' });
      res.end(LocalSns.errorXml(err));
    } else {
      res.writeHead(err.status, { ...base, 'content-type': 'application/xml', 'x-amz-request-id': requestId });
      res.end(
        `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${xmlEscape(err.type)}</Code><Message>${xmlEscape(err.message)}</Message><RequestId>${requestId}</RequestId></Error>`,
      );
    }
  }

  private async json(req: IncomingMessage, res: ServerResponse, target: string): Promise<void> {
    const contentType = header(req, 'content-type')?.startsWith('application/x-amz-json-1.1')
      ? 'application/x-amz-json-1.1'
      : 'application/x-amz-json-1.0';
    const requestId = randomUUID();
    const send = (status: number, body: unknown, errorType?: string): void => {
      const headers: Record<string, string> = { 'content-type': contentType, 'x-amzn-requestid': requestId };
      if (errorType) headers['x-amzn-errortype'] = errorType;
      res.writeHead(status, headers);
      res.end(JSON.stringify(body ?? {}));
    };
    const dot = target.indexOf('.');
    const prefix = dot < 0 ? target : target.slice(0, dot);
    const operation = dot < 0 ? '' : target.slice(dot + 1);
    try {
      const service = this.byPrefix.get(prefix);
      const denied = this.opts.taskCredentials?.refuseJson(target, req.headers);
      if (denied) throw denied;
      if (!service) throw new AwsServiceError('UnknownOperationException', `no local service answers X-Amz-Target ${target}`);
      const raw = (await readBody(req)).toString('utf8');
      let input: Record<string, unknown>;
      try {
        input = raw.trim() ? (JSON.parse(raw) as Record<string, unknown>) : {};
      } catch {
        throw new AwsServiceError('SerializationException', `${target}: request body is not valid JSON`);
      }
      if (!input || typeof input !== 'object' || Array.isArray(input))
        throw new AwsServiceError('SerializationException', `${target}: request body must be a JSON object`);
      this.checks.json(prefix, operation, input, req.headers);
      send(200, await service.handle(operation, input));
    } catch (err) {
      if (err instanceof AwsServiceError) {
        send(err.status, { __type: err.type, message: err.message }, err.type);
      } else {
        this.report(err, target);
        send(500, { __type: 'InternalFailure', message: `${target}: ${(err as Error)?.message ?? String(err)}` }, 'InternalFailure');
      }
    }
  }

  private async invoke(req: IncomingMessage, res: ServerResponse, endpointName: string): Promise<void> {
    if (!this.opts.invokeEndpoint)
      throw new AwsServiceError('ServiceUnavailable', 'SageMaker Runtime is not running in this local cloud', 503);
    const body = await readBody(req);
    try {
      this.checks.invokeEndpoint(endpointName, req.headers, body);
      const out = await this.opts.invokeEndpoint({
        endpointName,
        body,
        contentType: header(req, 'content-type'),
        accept: header(req, 'accept'),
        targetVariant: header(req, 'x-amzn-sagemaker-target-variant'),
        inferenceId: header(req, 'x-amzn-sagemaker-inference-id'),
        customAttributes: header(req, 'x-amzn-sagemaker-custom-attributes'),
      });
      const headers: Record<string, string> = {
        'content-type': out.contentType,
        'x-amzn-invoked-production-variant': out.invokedVariant,
        'x-amzn-requestid': randomUUID(),
      };
      if (out.customAttributes) headers['x-amzn-sagemaker-custom-attributes'] = out.customAttributes;
      res.writeHead(out.status, headers);
      res.end(out.body);
    } catch (err) {
      if (!(err instanceof AwsServiceError)) throw err;
      // REST-JSON error shape: the type in a header (and body), extra fields (ModelError's
      // OriginalStatusCode, ...) in the body.
      const extra = (err as AwsServiceError & { extra?: Record<string, unknown> }).extra ?? {};
      res.writeHead(err.status, { 'content-type': 'application/json', 'x-amzn-errortype': err.type, 'x-amzn-requestid': randomUUID() });
      res.end(JSON.stringify({ __type: err.type, message: err.message, ...extra }));
    }
  }

  private async query(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const form = new URLSearchParams((await readBody(req)).toString('utf8'));
    const cloudWatch = form.get('Version') === CLOUDWATCH_API_VERSION ? this.opts.cloudWatch : undefined;
    if (cloudWatch) return this.queryCloudWatch(cloudWatch, form, req, res);
    try {
      this.checks.query(form, req.headers);
      const xml = this.opts.sns.handle(form);
      res.writeHead(200, { 'content-type': 'text/xml', 'x-amzn-requestid': randomUUID() });
      res.end(xml);
    } catch (err) {
      if (!(err instanceof AwsServiceError)) throw err;
      res.writeHead(err.status, { 'content-type': 'text/xml' });
      res.end(LocalSns.errorXml(err));
    }
  }

  private queryCloudWatch(cloudWatch: CloudWatchService, form: URLSearchParams, req: IncomingMessage, res: ServerResponse): void {
    try {
      const input = this.checks.query(form, req.headers, 'cloudwatch');
      const xml = cloudWatch.handleQuery(form.get('Action') ?? '', input);
      res.writeHead(200, { 'content-type': 'text/xml', 'x-amzn-requestid': randomUUID() });
      res.end(xml);
    } catch (err) {
      if (!(err instanceof AwsServiceError)) throw err;
      res.writeHead(err.status, { 'content-type': 'text/xml' });
      res.end(cloudWatch.errorXml(err));
    }
  }

  private async internal(req: IncomingMessage, res: ServerResponse, route: string): Promise<void> {
    const handler = this.opts.internal?.[route];
    if (!handler || req.method !== 'POST') {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end(`no such local cloud route: ${route}\n`);
      return;
    }
    const refusal = this.internalRefusal(req, route);
    if (refusal) return this.refuse(req, res, refusal);
    const out = await handler(await readBody(req, MAX_INTERNAL_BODY), req.headers);
    res.writeHead(out.status, { 'content-type': out.contentType ?? 'text/plain; charset=utf-8' });
    res.end(out.body);
  }

  /**
   * Why an internal request is refused, or undefined. A browser can send a cross-site POST
   * with a text/plain body and no preflight; requiring JSON forces a preflight the edge
   * never grants, and the Origin check and the secret stop what gets through anyway.
   */
  private internalRefusal(req: IncomingMessage, route: string): AwsServiceError | undefined {
    const origin = sameOriginRequest(req.headers, loopbackOrigins(this.port));
    if (!origin.ok) return new AwsServiceError('AccessDenied', `refused: ${origin.reason}`, 403);
    const type = (header(req, 'content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json')
      return new AwsServiceError(
        'UnsupportedMediaType',
        `refused: the body must be application/json, not ${JSON.stringify(type || '(none)')}`,
        415,
      );
    if (this.opts.openInternal?.includes(route)) return undefined;
    const secret = this.opts.internalSecret;
    const bearer = /^Bearer\s+(\S+)$/i.exec(header(req, 'authorization') ?? '')?.[1];
    if (!secret || !bearer || !secretEqual(bearer, secret)) {
      return new AwsServiceError('Unauthorized', 'refused: missing or wrong push secret (the git hook reads it from the data dir)', 401);
    }
    return undefined;
  }

  private async proxyS3(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // While the S3 child restarts, wait for it; if it does not come back, 503 for SDK retries.
    const ready = this.opts.s3Ready?.() ?? true;
    if (ready !== true && !(await ready)) return s3Unavailable(res, 'the local S3 server is restarting');
    const url = req.url ?? '/';
    const refusal = this.opts.taskCredentials?.refuseS3(req.method, url, req.headers);
    if (refusal) {
      req.resume();
      res.writeHead(refusal.status, { 'content-type': 'application/xml' });
      res.end(s3ErrorXml(refusal.code, refusal.message, url.split('?')[0]));
      return;
    }
    const write = isObjectWrite(req.method, url);
    if (!write && !isObjectRead(req.method, url)) return this.forwardS3(req, res);
    const { bucket, key } = objectOf(url);
    await this.s3Keys.run(`${bucket}/${key}`, write ? 'write' : 'read', async () => {
      if (write && isConditional(req.method, req.headers)) {
        const failed = checkPrecondition(req.headers, await headEtag(this.opts.s3Url, url, req.headers));
        if (failed) {
          req.resume();
          res.writeHead(failed.status, { 'content-type': 'application/xml' });
          res.end(s3ErrorXml(failed.code, failed.message, url.split('?')[0]));
          return;
        }
      }
      // The key is held until this response is complete.
      await new Promise<void>((resolve) => {
        res.once('close', resolve);
        res.once('finish', resolve);
        this.forwardS3(req, res);
      });
    });
  }

  private forwardS3(req: IncomingMessage, res: ServerResponse): void {
    const target = new URL(this.opts.s3Url);
    const headers = { ...req.headers };
    // Node's server already answered `100 Continue` to the client; the body follows as a stream.
    delete headers.expect;
    const upstream = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.statusMessage, up.headers);
      up.pipe(res);
      up.on('error', () => res.destroy());
    });
    upstream.on('error', (err) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      s3Unavailable(res, `local S3 server unreachable: ${err.message}`);
    });
    req.pipe(upstream);
    req.on('error', () => upstream.destroy());
  }
}

/** 503 with S3's throttling code: the SDKs retry it with backoff, which covers an S3 server restart. */
function s3Unavailable(res: ServerResponse, message: string): void {
  res.writeHead(503, { 'content-type': 'application/xml', 'retry-after': '1' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>${message}</Message></Error>`);
}
