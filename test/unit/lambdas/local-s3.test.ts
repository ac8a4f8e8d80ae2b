import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createS3Client } from '../../../lambdas/shared/clients';
import { ConcurrentUpdateError } from '../../../lambdas/shared/errors';
import { createVersion, readVersion, updateVersion } from '../../../lambdas/shared/registry';
import { putBody, putJson, putJsonIf, readLines } from '../../../lambdas/shared/s3json';
import { startTestCloud, type TestCloud } from '../../local/helpers';
import { versionRecord } from './fixtures';

/**
 * The S3 helpers against the local cloud's S3 (s3rver behind the edge, which enforces the
 * conditional headers s3rver ignores; path-style addressing): what the fakes of the other
 * tests cannot show.
 */
describe('Module: s3json and registry against the local S3 server', () => {
  const bucket = 'mlship-artifacts';
  let cloud: TestCloud;
  let s3: ReturnType<typeof createS3Client>;

  beforeAll(async () => {
    cloud = await startTestCloud();
    // As the local cloud runs the tasks: only AWS_ENDPOINT_URL says where S3 is; the factory
    // adds path-style addressing and the checksum options.
    vi.stubEnv('AWS_ENDPOINT_URL', cloud.cloud.endpoint);
    s3 = createS3Client({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    s3?.destroy();
    await cloud?.close();
  });

  it('creates a registry record once and refuses a second execution (If-None-Match)', async () => {
    const deps = { s3, bucket };
    await createVersion(deps, versionRecord());
    await expect(createVersion(deps, versionRecord({ execution: { arn: 'other', name: 'o' } }))).rejects.toThrow(ConcurrentUpdateError);
    await updateVersion(deps, 'delivery-time', 'abcdef1-0a0b', (r) => ({ ...r, status: 'built' }));
    expect((await readVersion(deps, 'delivery-time', 'abcdef1-0a0b')).value.status).toBe('built');
  });

  it('refuses a replace with a stale ETag', async () => {
    await putJson(s3, bucket, 'registry/x/production.json', { version: 'a' });
    await expect(putJsonIf(s3, bucket, 'registry/x/production.json', { version: 'b' }, { ifMatch: '"0000"' })).resolves.toEqual({
      written: false,
    });
  });

  it('streams capture lines', async () => {
    // Prepare
    await putBody(s3, bucket, 'capture/delivery-time/x.jsonl', '{"a":1}\n\n{"a":2}\n', 'application/jsonl');

    // Act
    const lines: string[] = [];
    for await (const l of readLines(s3, bucket, 'capture/delivery-time/x.jsonl')) lines.push(l);

    // Assess
    expect(lines).toEqual(['{"a":1}', '{"a":2}']);
  });
});
