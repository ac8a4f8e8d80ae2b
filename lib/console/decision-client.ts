/**
 * How the console and `mlship approve|reject` reach the DecideApproval function: its function
 * URL on AWS, signed with the approver's own credentials (SigV4, service `lambda`), and the
 * local cloud's `POST /_mlship/decide-approval` with the approver's name. Nothing else can
 * decide: approvers hold no `states:SendTask*` and cannot read the task tokens.
 */
import { createHash, createHmac } from 'node:crypto';

/** The function's answer (lambdas/decide-approval/handler.ts) with its HTTP status. */
export interface DecisionResponse {
  status: number;
  ok: boolean;
  repeated?: boolean;
  approval?: Record<string, unknown>;
  /** The error's name, e.g. ApprovalAlreadyDecidedError. */
  error?: string;
  message?: string;
}

export interface DecisionRequest {
  id: string;
  decision: 'approve' | 'reject';
  comment?: string;
  /** Locally the name recorded; on AWS ignored (the signer's IAM identity is recorded). */
  by?: string;
}

/** Ask the decision function for one decision. */
export type Decider = (request: DecisionRequest) => Promise<DecisionResponse>;

/** AWS credentials as the SDK's providers resolve them. */
export interface SigningCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** The function did not answer with its JSON shape (a proxy, a wrong URL). */
export class DecisionEndpointError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DecisionEndpointError';
  }
}

async function post(url: string, body: string, headers: Record<string, string>): Promise<DecisionResponse> {
  const res = await fetch(url, { method: 'POST', headers, body });
  const text = await res.text();
  let parsed: Partial<DecisionResponse>;
  try {
    parsed = JSON.parse(text) as Partial<DecisionResponse>;
  } catch (err) {
    throw new DecisionEndpointError(`${url} answered ${res.status} without JSON: ${text.slice(0, 200)}`, { cause: err });
  }
  // A function URL's own refusal (403 of IAM) has a body of its own shape: keep its message.
  return {
    ...parsed,
    ok: res.ok && parsed.ok === true,
    status: res.status,
    message: parsed.message ?? (parsed as { Message?: string }).Message,
  };
}

/** The local cloud's decision route; `by` is the name the decision is recorded under. */
export function localDecider(endpoint: string): Decider {
  const url = `${endpoint.replace(/\/$/, '')}/_mlship/decide-approval`;
  return ({ by, ...request }) => post(url, JSON.stringify(request), { 'content-type': 'application/json', 'x-mlship-approver': by ?? '' });
}

/**
 * The function URL on AWS, each request signed with the approver's credentials.
 * @param credentials resolves the approver's credentials (the SDK's default chain or a profile)
 */
export function awsDecider(
  functionUrl: string,
  region: string | (() => Promise<string>),
  credentials: () => Promise<SigningCredentials>,
): Decider {
  return async ({ by: _ignored, ...request }) => {
    const body = JSON.stringify(request);
    const headers = signV4({
      method: 'POST',
      url: new URL(functionUrl),
      body,
      headers: { 'content-type': 'application/json' },
      region: typeof region === 'string' ? region : await region(),
      service: 'lambda',
      credentials: await credentials(),
    });
    // fetch sets Host from the URL itself (the value that was signed).
    delete headers.host;
    return post(functionUrl, body, headers);
  };
}

const sha256Hex = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();
const rfc3986 = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * Signature Version 4 of one request (headers only, no presigning), as the SDK signs: the
 * few lines are kept here rather than pulling the SDK's signer package, a transitive
 * dependency, into the CLI. test/console/decision-client.test.ts checks it against the SDK's.
 * @returns the headers to send: the given ones plus host, x-amz-date, x-amz-content-sha256,
 *   x-amz-security-token (with temporary credentials) and authorization
 */
export function signV4(req: {
  method: string;
  url: URL;
  body: string;
  headers: Record<string, string>;
  region: string;
  service: string;
  credentials: SigningCredentials;
  now?: Date;
}): Record<string, string> {
  const amzDate = (req.now ?? new Date()).toISOString().replace(/[:-]|\.\d{3}/g, '');
  const day = amzDate.slice(0, 8);
  const payloadHash = sha256Hex(req.body);
  const headers: Record<string, string> = {
    ...req.headers,
    host: req.url.host,
    'x-amz-date': amzDate,
    'x-amz-content-sha256': payloadHash,
  };
  if (req.credentials.sessionToken) headers['x-amz-security-token'] = req.credentials.sessionToken;
  const names = Object.keys(headers)
    .map((h) => h.toLowerCase())
    .sort();
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v.trim().replace(/\s+/g, ' ')]));
  const query = [...req.url.searchParams.entries()]
    .map(([k, v]) => [rfc3986(k), rfc3986(v)] as const)
    .sort(([a, x], [b, y]) => (a === b ? (x < y ? -1 : 1) : a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const path =
    req.url.pathname
      .split('/')
      .map((seg) => rfc3986(decodeURIComponent(seg)))
      .join('/') || '/';
  const canonical = [req.method, path, query, names.map((n) => `${n}:${lower[n]}\n`).join(''), names.join(';'), payloadHash].join('\n');
  const scope = `${day}/${req.region}/${req.service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${req.credentials.secretAccessKey}`, day), req.region), req.service), 'aws4_request');
  const signature = createHmac('sha256', key).update(toSign, 'utf8').digest('hex');
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${req.credentials.accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`;
  return headers;
}
