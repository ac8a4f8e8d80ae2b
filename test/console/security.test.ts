import { describe, expect, it } from 'vitest';
import { redactTokens, REDACTED, TokenGuard } from '../../lib/console/redact';
import { ConsoleAuth, pageHeaders, sameOriginRequest } from '../../lib/console/security';

describe('Class: ConsoleAuth', () => {
  describe('Method: checkToken', () => {
    it('accepts only its own token', () => {
      // Prepare
      const auth = new ConsoleAuth();
      // Act + Assess
      expect(auth.token.length).toBeGreaterThanOrEqual(43);
      expect(auth.checkToken(auth.token)).toBe(true);
      expect(auth.checkToken(`${auth.token}x`)).toBe(false);
      expect(auth.checkToken('')).toBe(false);
      expect(auth.checkToken(undefined)).toBe(false);
      expect(new ConsoleAuth().checkToken(auth.token)).toBe(false);
      expect(auth.checkBearer(`Bearer ${auth.token}`)).toBe(true);
      expect(auth.checkBearer(`Basic ${auth.token}`)).toBe(false);
    });
  });

  describe('Method: verifySession', () => {
    it('accepts sessions it signed and refuses forged or foreign ones', () => {
      // Prepare
      const auth = new ConsoleAuth();
      const other = new ConsoleAuth();
      const session = auth.newSession();
      const [id] = session.split('.');
      // Act + Assess
      expect(auth.verifySession(session)).toBe(id);
      expect(auth.verifySession(`${id}.AAAA`)).toBeUndefined();
      expect(auth.verifySession(other.newSession())).toBeUndefined();
      expect(auth.verifySession(`${session}.x`)).toBeUndefined();
      expect(auth.verifySession(undefined)).toBeUndefined();
    });
  });

  describe('Method: verifyCsrf', () => {
    it('binds the CSRF token to the session', () => {
      // Prepare
      const auth = new ConsoleAuth();
      const a = auth.verifySession(auth.newSession())!;
      const b = auth.verifySession(auth.newSession())!;
      // Act + Assess
      expect(auth.verifyCsrf(a, auth.csrfFor(a))).toBe(true);
      expect(auth.verifyCsrf(a, auth.csrfFor(b))).toBe(false);
      expect(auth.verifyCsrf(a, '')).toBe(false);
      expect(auth.verifyCsrf(a, undefined)).toBe(false);
    });
  });
});

describe('Function: sameOriginRequest', () => {
  const own = ['http://127.0.0.1:4000'];
  it.each([
    [{}, true],
    [{ origin: 'http://127.0.0.1:4000', 'sec-fetch-site': 'same-origin' }, true],
    [{ origin: 'http://127.0.0.1:4001' }, false],
    [{ origin: 'null' }, false],
    [{ 'sec-fetch-site': 'same-site' }, false],
    [{ 'sec-fetch-site': 'none' }, false],
  ])('headers %j -> %s', (headers, ok) => {
    // Act + Assess
    expect(sameOriginRequest(headers, own).ok).toBe(ok);
  });
});

describe('Function: pageHeaders', () => {
  it('allows inline style and script only by nonce and forbids framing', () => {
    // Act
    const h = pageHeaders('abc');
    // Assess
    expect(h['content-security-policy']).toContain("script-src 'nonce-abc'");
    expect(h['content-security-policy']).not.toContain('unsafe-inline');
    expect(h['x-frame-options']).toBe('DENY');
  });
});

describe('Function: redactTokens', () => {
  it('redacts token properties, tokens inside JSON strings and known token values, but keeps JSONPath selectors', () => {
    // Prepare
    const token = 'AAAAKgAAAAIAAAAAAAAAAsecret-token-value==';
    const value = {
      taskToken: token,
      Payload: { 'taskToken.$': '$$.Task.Token' },
      parameters: JSON.stringify({ Payload: { TaskToken: token, model: 'm' } }),
      cause: `failed for ${token}`,
      list: [{ task_token: 'x' }],
    };
    // Act
    const out = redactTokens(value, new Set([token])) as Record<string, unknown>;
    // Assess
    const text = JSON.stringify(out);
    expect(text).not.toContain(token);
    expect(out.taskToken).toBe(REDACTED);
    expect(out.Payload).toEqual({ 'taskToken.$': '$$.Task.Token' });
    expect(JSON.parse(out.parameters as string)).toEqual({ Payload: { TaskToken: REDACTED, model: 'm' } });
    expect(out.cause).toBe(`failed for ${REDACTED}`);
  });
});

describe('Class: TokenGuard', () => {
  describe('Method: scrub', () => {
    it('finds remembered tokens, also escaped, and replaces them', () => {
      // Prepare
      const guard = new TokenGuard();
      const token = 'tok/en+with"quotes<and>more';
      guard.remember(token);
      // Act
      const plain = guard.scrub(`a ${token} b`);
      const escaped = guard.scrub(`a ${JSON.stringify(token)} b ${encodeURIComponent(token)}`);
      const clean = guard.scrub('nothing here');
      // Assess
      expect(plain).toEqual({ body: `a ${REDACTED} b`, leaked: true });
      expect(escaped.leaked).toBe(true);
      expect(escaped.body).not.toContain('with');
      expect(clean.leaked).toBe(false);
    });
  });
});
