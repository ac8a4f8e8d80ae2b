/**
 * The console's access control. It binds 127.0.0.1, but any local process or web page can
 * reach a loopback port, so every request must carry the per-start access token: once in
 * the URL (`?token=`), which is exchanged for an HttpOnly SameSite=Strict session cookie,
 * or as `Authorization: Bearer` for scripts. Decisions are POSTs guarded against cross-site
 * requests by a per-session CSRF token and the Origin / Sec-Fetch-Site headers.
 *
 * Sessions and CSRF tokens are HMACs under a per-start key, so nothing is stored and every
 * comparison is constant-time.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The session cookie's name. Cookies are not scoped by port, so two consoles on one machine
 * (say local and AWS) would overwrite each other's session under one name.
 */
export const sessionCookieName = (port: number | undefined): string => `mlship_console_${port ?? 0}`;

function digestEqual(a: string, b: string): boolean {
  // Hash both sides first: timingSafeEqual needs equal lengths, and the hash hides the length.
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

export class ConsoleAuth {
  /** The access token printed in the console URL. */
  readonly token: string;
  private readonly key: Buffer;

  constructor(token = randomBytes(32).toString('base64url')) {
    this.token = token;
    this.key = randomBytes(32);
  }

  checkToken(candidate: unknown): boolean {
    return typeof candidate === 'string' && candidate.length > 0 && candidate.length < 512 && digestEqual(candidate, this.token);
  }

  /** `Authorization: Bearer <token>`. */
  checkBearer(header: unknown): boolean {
    if (typeof header !== 'string') return false;
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    return !!m && this.checkToken(m[1]);
  }

  private mac(purpose: string, id: string): string {
    return createHmac('sha256', this.key).update(`${purpose}:${id}`).digest('base64url');
  }

  /** A new signed session id for the cookie. */
  newSession(): string {
    const id = randomBytes(18).toString('base64url');
    return `${id}.${this.mac('session', id)}`;
  }

  /** The session id of a valid cookie value, else undefined. */
  verifySession(cookie: unknown): string | undefined {
    if (typeof cookie !== 'string') return undefined;
    const [id, sig, extra] = cookie.split('.');
    if (!id || !sig || extra !== undefined) return undefined;
    return digestEqual(sig, this.mac('session', id)) ? id : undefined;
  }

  csrfFor(sessionId: string): string {
    return this.mac('csrf', sessionId);
  }

  verifyCsrf(sessionId: string, candidate: unknown): boolean {
    return typeof candidate === 'string' && candidate.length > 0 && digestEqual(candidate, this.csrfFor(sessionId));
  }
}

/**
 * A state-changing request must come from the console's own pages (Origin and
 * Sec-Fetch-Site); shared with the local cloud's edge, so it lives in lib/loopback.
 */
export { sameOriginRequest } from '../loopback';

/** Headers for the console's own pages; `nonce` allows exactly the inline style and script it wrote. */
export function pageHeaders(nonce: string): Record<string, string> {
  return {
    'content-security-policy': [
      "default-src 'self'",
      `script-src 'nonce-${nonce}'`,
      `style-src 'nonce-${nonce}'`,
      "img-src 'self' data:",
      "frame-src 'self'",
      "connect-src 'self'",
      "object-src 'none'",
      "base-uri 'none'",
      "form-action 'self'",
      "frame-ancestors 'none'",
    ].join('; '),
    'x-frame-options': 'DENY',
    ...commonHeaders,
  };
}

/**
 * Headers for a stored report shown inside the approval page's sandboxed iframe: it may
 * carry its own inline styles and SVG, but no scripts, no network and no same-origin access.
 */
export function artifactHeaders(): Record<string, string> {
  return {
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; sandbox",
    'x-frame-options': 'SAMEORIGIN',
    ...commonHeaders,
  };
}

const commonHeaders = {
  'x-content-type-options': 'nosniff',
  // same-origin, not no-referrer: with no-referrer a browser sends `Origin: null` on the console's own form POSTs.
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

export function newNonce(): string {
  return randomBytes(16).toString('base64');
}
