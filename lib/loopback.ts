/**
 * Guards for servers that bind 127.0.0.1 (the local cloud's edge, the approval console).
 *
 * Binding loopback keeps other machines out, not web pages: a page on any site can send
 * requests to 127.0.0.1, and one whose DNS name is rebound to 127.0.0.1 reads the answers
 * too. Such a request still carries the page's own host name in `Host` (and its origin in
 * `Origin`), so both servers answer only requests addressed to a loopback name and port.
 */

/** The `Host` values a loopback server on `port` answers to (port 80 may also go unnamed). */
export function loopbackHosts(port: number): string[] {
  const hosts = [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`];
  return port === 80 ? [...hosts, '127.0.0.1', 'localhost', '[::1]'] : hosts;
}

/** The origins of pages served by a loopback server on `port`. */
export function loopbackOrigins(port: number): string[] {
  return [`http://127.0.0.1:${port}`, `http://localhost:${port}`, `http://[::1]:${port}`];
}

/** Why a request's `Host` is not this loopback server's, or undefined when it is. */
export function foreignHost(host: string | undefined, port: number): string | undefined {
  if (!host) return 'the request has no Host header';
  // Host names compare case-insensitively (RFC 9110 section 4.2.3).
  if (loopbackHosts(port).includes(host.toLowerCase())) return undefined;
  return `Host ${JSON.stringify(host.slice(0, 200))} is not this server's: address it as ${loopbackHosts(port).slice(0, 3).join(', ')}`;
}

/**
 * A state-changing request must not come from another site: a browser sends Origin on POST
 * (it must be one of `ownOrigins`) and Sec-Fetch-Site (it must be same-origin). Clients that
 * send neither (curl, a git hook, an SDK) are judged by their credentials alone.
 */
export function sameOriginRequest(
  headers: Record<string, string | string[] | undefined>,
  ownOrigins: readonly string[],
): { ok: boolean; reason?: string } {
  const origin = headers.origin;
  if (typeof origin === 'string' && origin !== 'null' && !ownOrigins.includes(origin)) {
    return { ok: false, reason: `cross-origin request from ${origin}` };
  }
  if (origin === 'null') return { ok: false, reason: 'request from an opaque origin' };
  const site = headers['sec-fetch-site'];
  if (typeof site === 'string' && site !== 'same-origin') return { ok: false, reason: `Sec-Fetch-Site is ${site}` };
  return { ok: true };
}
