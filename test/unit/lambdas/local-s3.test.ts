import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startS3Server, type S3Server } from '../../../lib/local/s3/server';
import { decideApproval, listApprovals } from '../../../lambdas/request-approval/decide';
import { createS3Client } from '../../../lambdas/shared/clients';
import { ConcurrentUpdateError } from '../../../lambdas/shared/errors';
import { createVersion, readVersion, updateVersion } from '../../../lambdas/shared/registry';
import { putBody, putJson, putJsonIf, readLines } from '../../../lambdas/shared/s3json';
import { approvalRecord, versionRecord } from './fixtures';

/**
 * The S3 helpers against the local cloud's S3 server (s3rver), which ignores conditional
 * headers and needs path-style addressing: what the fakes of the other tests cannot show.
 */
describe('Module: s3json and registry against the local S3 server', () => {
  const bucket = 'mlship-artifacts';
  let dir: string;
  let server: S3Server;
  let s3: ReturnType<typeof createS3Client>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mlship-s3-'));
    server = await startS3Server(dir, bucket);
    // As the local cloud runs the tasks: only AWS_ENDPOINT_URL says where S3 is; the factory
    // adds path-style addressing and the checksum options.
    vi.stubEnv('AWS_ENDPOINT_URL', server.url);
    s3 = createS3Client({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates a registry record once and refuses a second execution, despite the ignored If-None-Match', async () => {
    const deps = { s3, bucket };
    await createVersion(deps, versionRecord());
    await expect(createVersion(deps, versionRecord({ execution: { arn: 'other', name: 'o' } }))).rejects.toThrow(ConcurrentUpdateError);
    await updateVersion(deps, 'delivery-time', 'abcdef1-0a0b', (r) => ({ ...r, status: 'built' }));
    expect((await readVersion(deps, 'delivery-time', 'abcdef1-0a0b')).value.status).toBe('built');
  });

  it('refuses a replace with a stale ETag', async () => {
    await putJson(s3, bucket, 'registry/x/production.json', { version: 'a' });
    await expect(putJsonIf(s3, bucket, 'registry/x/production.json', { version: 'b' }, { ifMatch: '"0000"' })).resolves.toEqual({ written: false });
  });

  it('records an approval once and streams capture lines', async () => {
    // Prepare
    const sfnMock = mockClient(SFNClient);
    sfnMock.on(SendTaskSuccessCommand).resolves({});
    await putJson(s3, bucket, 'approvals/delivery-time/e1.json', approvalRecord({ expiresAt: '2999-01-01T00:00:00.000Z' }));
    await putBody(s3, bucket, 'capture/delivery-time/x.jsonl', '{"a":1}\n\n{"a":2}\n', 'application/jsonl');
    const deps = { s3, sfn: new SFNClient({ region: 'us-east-1' }), bucket };

    // Act
    const decided = await decideApproval(deps, { id: 'delivery-time/e1', decision: 'approve', by: 'alice' });
    const second = decideApproval(deps, { id: 'delivery-time/e1', decision: 'reject', by: 'bob' });

    // Assess
    expect(decided.status).toBe('approved');
    await expect(second).rejects.toMatchObject({ name: 'ApprovalAlreadyDecidedError' });
    expect((await listApprovals({ s3, bucket })).map((a) => [a.id, a.status])).toEqual([['delivery-time/e1', 'approved']]);
    const lines: string[] = [];
    for await (const l of readLines(s3, bucket, 'capture/delivery-time/x.jsonl')) lines.push(l);
    expect(lines).toEqual(['{"a":1}', '{"a":2}']);
    sfnMock.restore();
  });
});
