import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCloud, type TestCloud } from './helpers';

let t: TestCloud;
beforeAll(async () => {
  t = await startTestCloud({ console: true });
});
afterAll(async () => {
  await t?.close();
});

describe('Class: LocalCloud', () => {
  describe('Method: start (console: true)', () => {
    it('serves the approval console on loopback behind its access token and records its URL in cloud.json', async () => {
      // Act
      const url = t.cloud.consoleUrl!;
      const withToken = await fetch(url, { redirect: 'manual' });
      const withoutToken = await fetch(new URL(url).origin);
      const cloudFile = JSON.parse(readFileSync(join(t.dataDir, 'cloud.json'), 'utf8'));

      // Assess
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=/);
      // The token is exchanged for a session cookie (a redirect) or the page itself.
      expect([200, 302, 303]).toContain(withToken.status);
      expect(withToken.status === 200 || withToken.headers.get('set-cookie') !== null).toBe(true);
      expect(withoutToken.status).toBeGreaterThanOrEqual(400);
      expect(cloudFile).toMatchObject({ endpoint: t.cloud.endpoint, consoleUrl: url, pid: process.pid });
    });
  });
});
