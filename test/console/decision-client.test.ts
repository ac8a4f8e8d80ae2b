import { createHash, createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import { awsDecider, signV4 } from '../../lib/console/decision-client';

/** The SDK's own signer (a transitive dependency, used here only to check ours against it). */
class NodeSha256 {
  private readonly hash;
  constructor(secret?: string | Uint8Array) {
    this.hash = secret ? createHmac('sha256', secret) : createHash('sha256');
  }
  update(data: string | Uint8Array): void {
    this.hash.update(data);
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {}
}

describe('Function: signV4 (the function URL request of mlship approve --aws)', () => {
  it.each([
    ['long-term keys', { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' }],
    ['temporary keys', { accessKeyId: 'ASIAEXAMPLE', secretAccessKey: 'secret', sessionToken: 'FwoGZXIvYXdzEJr//////////wEaD token' }],
  ])('signs a POST exactly as the AWS SDK does, with %s', async (_label, credentials) => {
    // Prepare
    const now = new Date('2026-12-06T12:00:00.000Z');
    const url = new URL('https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-west-1.on.aws/');
    const body = JSON.stringify({ id: 'delivery-time/release-1', decision: 'approve', comment: 'looks right' });
    const sdk = new SignatureV4({
      credentials,
      region: 'eu-west-1',
      service: 'lambda',
      sha256: NodeSha256 as never,
      uriEscapePath: true,
      applyChecksum: true,
    });

    // Act
    const ours = signV4({
      method: 'POST',
      url,
      body,
      headers: { 'content-type': 'application/json' },
      region: 'eu-west-1',
      service: 'lambda',
      credentials,
      now,
    });
    const theirs = await sdk.sign(
      {
        method: 'POST',
        protocol: 'https:',
        hostname: url.hostname,
        path: '/',
        query: {},
        headers: { 'content-type': 'application/json', host: url.hostname, 'x-amz-content-sha256': ours['x-amz-content-sha256']! },
        body,
      } as never,
      { signingDate: now },
    );

    // Assess
    expect(ours.authorization).toBe((theirs as unknown as { headers: Record<string, string> }).headers.authorization);
  });
});

describe('Function: awsDecider', () => {
  it('posts the decision signed, never with an approver name of its own, and reads the answer', async () => {
    // Prepare: a stand-in for the function URL that records what arrives
    let seen: { headers: IncomingHttpHeaders; body: string } | undefined;
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen = { headers: req.headers, body };
        res.writeHead(409, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ok: false, error: 'ApprovalAlreadyDecidedError', message: 'already approved by x' }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const decide = awsDecider(url, 'eu-west-1', async () => ({
      accessKeyId: 'AKIDEXAMPLE',
      secretAccessKey: 'secret',
      sessionToken: 'tok',
    }));

    // Act
    const answer = await decide({ id: 'delivery-time/r1', decision: 'reject', comment: 'no', by: 'someone-else' }).finally(() =>
      server.close(),
    );

    // Assess
    expect(answer).toMatchObject({ ok: false, status: 409, error: 'ApprovalAlreadyDecidedError', message: 'already approved by x' });
    expect(JSON.parse(seen!.body)).toEqual({ id: 'delivery-time/r1', decision: 'reject', comment: 'no' });
    expect(seen!.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/lambda\/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/,
    );
    expect(seen!.headers['x-amz-security-token']).toBe('tok');
  });
});
