import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putData } from '../../lib/cli/commands/data';
import { resolveTarget } from '../../lib/console/target';
import { startTestCloud, type TestCloud } from './helpers';

/**
 * `mlship data put`: training data into the local S3 under the URI a manifest's training
 * channel names, so the same manifest trains locally and on AWS.
 */
let t: TestCloud;
let dir: string;
beforeAll(async () => {
  t = await startTestCloud();
  dir = mkdtempSync(join(tmpdir(), 'mlship-data-'));
  mkdirSync(join(dir, 'train', 'part'), { recursive: true });
  writeFileSync(join(dir, 'train', 'a.csv'), 'x,y\n1,3\n');
  writeFileSync(join(dir, 'train', 'part', 'b.csv'), 'x,y\n2,5\n');
});
afterAll(async () => {
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('Function: putData', () => {
  it('uploads a folder under an S3 prefix of a bucket the local cloud did not have, keeping relative paths', async () => {
    // Act
    const target = resolveTarget({ endpoint: t.cloud.endpoint });
    const result = await putData(target, join(dir, 'train'), 's3://team-datasets/tiny/train/');

    // Assess
    expect(result).toEqual({ files: 2, uri: 's3://team-datasets/tiny/train/' });
    const listed = await t.s3.send(new ListObjectsV2Command({ Bucket: 'team-datasets', Prefix: 'tiny/train/' }));
    expect((listed.Contents ?? []).map((o) => o.Key).sort()).toEqual(['tiny/train/a.csv', 'tiny/train/part/b.csv']);
    const body = await (
      await t.s3.send(new GetObjectCommand({ Bucket: 'team-datasets', Key: 'tiny/train/part/b.csv' }))
    ).Body!.transformToString();
    expect(body).toBe('x,y\n2,5\n');
  });

  it('uploads one file to a key, or under a prefix ending in /', async () => {
    const target = resolveTarget({ endpoint: t.cloud.endpoint });
    expect(await putData(target, join(dir, 'train', 'a.csv'), 's3://team-datasets/one/a-copy.csv')).toEqual({
      files: 1,
      uri: 's3://team-datasets/one/a-copy.csv',
    });
    expect(await putData(target, join(dir, 'train', 'a.csv'), 's3://team-datasets/two/')).toEqual({
      files: 1,
      uri: 's3://team-datasets/two/',
    });
    const listed = await t.s3.send(new ListObjectsV2Command({ Bucket: 'team-datasets', Prefix: 'two/' }));
    expect((listed.Contents ?? []).map((o) => o.Key)).toEqual(['two/a.csv']);
  });

  it('refuses a destination that is not an s3:// URI and a path that does not exist, naming them', async () => {
    const target = resolveTarget({ endpoint: t.cloud.endpoint });
    await expect(putData(target, dir, 'team-datasets/x/')).rejects.toThrow('team-datasets/x/: not an S3 URI (s3://bucket/prefix/)');
    await expect(putData(target, join(dir, 'missing'), 's3://team-datasets/x/')).rejects.toThrow(
      `${join(dir, 'missing')}: no such file or folder`,
    );
  });
});
