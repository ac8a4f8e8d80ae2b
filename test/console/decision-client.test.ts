import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import { signV4 } from '../../lib/console/decision-client';

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
    const sdk = new SignatureV4({ credentials, region: 'eu-west-1', service: 'lambda', sha256: NodeSha256 as never, uriEscapePath: true, applyChecksum: true });

    // Act
    const ours = signV4({ method: 'POST', url, body, headers: { 'content-type': 'application/json' }, region: 'eu-west-1', service: 'lambda', credentials, now });
    const theirs = await sdk.sign(
      { method: 'POST', protocol: 'https:', hostname: url.hostname, path: '/', query: {}, headers: { 'content-type': 'application/json', host: url.hostname, 'x-amz-content-sha256': ours['x-amz-content-sha256']! }, body } as never,
      { signingDate: now },
    );

    // Assess
    expect(ours.authorization).toBe((theirs as unknown as { headers: Record<string, string> }).headers.authorization);
  });
});
