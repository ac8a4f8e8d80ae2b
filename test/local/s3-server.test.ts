import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import { BUCKET, noSignalPending, startS3, type S3Fixture } from './fixtures/harness';
import { eventually } from './helpers';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('Module: the s3rver child of the local cloud', () => {
  let s3: S3Fixture | undefined;
  afterEach(async () => {
    await s3?.close();
    s3 = undefined;
  });

  it('keeps serving through SIGINT and SIGTERM, so the graceful stop after a Ctrl-C can still write, and exits at close()', async () => {
    // Arrange
    s3 = await startS3();
    const { pid } = s3.server;

    // Act: what a terminal's Ctrl-C (or a kill of the process group) sends, then a write as
    // the graceful stop's last capture flush makes one.
    process.kill(pid, 'SIGINT');
    process.kill(pid, 'SIGTERM');
    await eventually(() => (noSignalPending(pid) ? true : undefined));
    await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'capture/after-signal.jsonl', Body: '{"a":1}\n' }));
    const read = await s3.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'capture/after-signal.jsonl' }));
    const body = await read.Body!.transformToString();
    await s3.server.close();

    // Assess
    expect(body).toBe('{"a":1}\n');
    expect(alive(pid)).toBe(false);
  });
});
