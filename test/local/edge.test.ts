import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetObjectCommand, ListObjectsV2Command, NoSuchKey, PutObjectCommand, paginateListObjectsV2 } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { PublishCommand } from '@aws-sdk/client-sns';
import { SageMakerRuntimeClient, InvokeEndpointCommand } from '@aws-sdk/client-sagemaker-runtime';
import { CodeBuildClient, BatchGetBuildsCommand } from '@aws-sdk/client-codebuild';
import { clientConfig, startTestCloud, type TestCloud } from './helpers';

let t: TestCloud;
const Bucket = 'mlship-artifacts';

beforeAll(async () => {
  t = await startTestCloud();
});
afterAll(async () => {
  await t?.close();
});

describe('Class: Edge', () => {
  describe('Method: route (S3 REST through the proxy)', () => {
    it('puts, gets and lists objects with a real SDK v3 client, paginating with MaxKeys', async () => {
      // Prepare
      const keys = Array.from({ length: 25 }, (_, i) => `paging/item-${String(i).padStart(3, '0')}.json`);
      await Promise.all(keys.map((Key, i) => t.s3.send(new PutObjectCommand({ Bucket, Key, Body: JSON.stringify({ i }), ContentType: 'application/json' }))));

      // Act
      const seen: string[] = [];
      let pages = 0;
      for await (const page of paginateListObjectsV2({ client: t.s3, pageSize: 10 }, { Bucket, Prefix: 'paging/' })) {
        pages += 1;
        expect(page.Contents!.length).toBeLessThanOrEqual(10);
        seen.push(...page.Contents!.map((c) => c.Key!));
      }
      const got = await t.s3.send(new GetObjectCommand({ Bucket, Key: keys[7] }));

      // Assess
      expect(pages).toBe(3);
      expect(seen).toEqual(keys);
      expect(JSON.parse(await got.Body!.transformToString())).toEqual({ i: 7 });
      expect(got.ContentType).toBe('application/json');
    });

    it('streams a multipart upload byte for byte', async () => {
      // Prepare: 12 MiB of non-repeating bytes, so a torn or reordered part would show
      const body = Buffer.alloc(12 * 1024 * 1024);
      for (let i = 0; i < body.length; i += 4) body.writeUInt32LE(i, i);

      // Act
      await new Upload({ client: t.s3, params: { Bucket, Key: 'big/blob.bin', Body: body }, partSize: 5 * 1024 * 1024 }).done();
      const got = await t.s3.send(new GetObjectCommand({ Bucket, Key: 'big/blob.bin' }));

      // Assess
      expect(Buffer.from(await got.Body!.transformToByteArray()).equals(body)).toBe(true);
    });

    it('answers a missing key with the S3 NoSuchKey exception', async () => {
      await expect(t.s3.send(new GetObjectCommand({ Bucket, Key: 'nope/never.json' }))).rejects.toBeInstanceOf(NoSuchKey);
    });

    it('lists the bucket created at start', async () => {
      const out = await t.s3.send(new ListObjectsV2Command({ Bucket, MaxKeys: 1 }));
      expect(out.$metadata.httpStatusCode).toBe(200);
    });
  });

  describe('Method: route (SNS query protocol)', () => {
    it('appends a published message to the notifications feed', async () => {
      // Act
      const out = await t.sns.send(
        new PublishCommand({ TopicArn: 'arn:aws:sns:us-east-1:000000000000:mlship-notifications', Subject: 'Release approved', Message: '{"model":"m"}' }),
      );

      // Assess
      const feed = readFileSync(join(t.dataDir, 'notifications.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      expect(feed.at(-1)).toMatchObject({ messageId: out.MessageId, subject: 'Release approved', message: '{"model":"m"}' });
    });

    it('raises NotFound for an unknown topic', async () => {
      await expect(t.sns.send(new PublishCommand({ TopicArn: 'arn:aws:sns:us-east-1:000000000000:other', Message: 'x' }))).rejects.toMatchObject({ name: 'NotFoundException', $metadata: { httpStatusCode: 404 } });
    });
  });

  describe('Method: route (JSON protocol errors)', () => {
    it('returns AWS error shapes the SDK maps to named exceptions', async () => {
      // Prepare
      const cb = new CodeBuildClient(clientConfig(t.cloud.endpoint));
      const rt = new SageMakerRuntimeClient(clientConfig(t.cloud.endpoint));

      // Act
      const unknownBuild = await cb.send(new BatchGetBuildsCommand({ ids: ['mlship-build-none:00000000-0000-0000-0000-000000000000'] }));
      const invoke = rt.send(new InvokeEndpointCommand({ EndpointName: 'mlship-none-production', Body: Buffer.from('{}'), ContentType: 'application/json' }));

      // Assess
      expect(unknownBuild.buildsNotFound).toEqual(['mlship-build-none:00000000-0000-0000-0000-000000000000']);
      await expect(invoke).rejects.toMatchObject({ name: 'ValidationError', $metadata: { httpStatusCode: 400 } });
      cb.destroy();
      rt.destroy();
    });

    it('answers an unknown target and malformed JSON with UnknownOperationException and SerializationException', async () => {
      const post = (target: string, body: string) =>
        fetch(t.cloud.endpoint, { method: 'POST', headers: { 'x-amz-target': target, 'content-type': 'application/x-amz-json-1.0' }, body });
      const unknown = await post('Nope_2020.DoThing', '{}');
      const malformed = await post('AWSStepFunctions.ListStateMachines', '{nope');
      expect(unknown.status).toBe(400);
      expect(await unknown.json()).toMatchObject({ __type: 'UnknownOperationException' });
      expect(malformed.headers.get('content-type')).toBe('application/x-amz-json-1.0');
      expect(await malformed.json()).toMatchObject({ __type: 'SerializationException' });
    });

    it('listens on loopback only', () => {
      expect(t.cloud.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    });
  });
});
