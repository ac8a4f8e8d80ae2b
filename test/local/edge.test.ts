import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  paginateListObjectsV2,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { PublishCommand } from '@aws-sdk/client-sns';
import { SageMakerRuntimeClient, InvokeEndpointCommand } from '@aws-sdk/client-sagemaker-runtime';
import { CodeBuildClient, BatchGetBuildsCommand } from '@aws-sdk/client-codebuild';
import { SageMakerClient, ListEndpointsCommand } from '@aws-sdk/client-sagemaker';
import { ListStateMachinesCommand } from '@aws-sdk/client-sfn';
import { clientConfig, rawRequest, startTestCloud, type TestCloud } from './helpers';

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
      await Promise.all(
        keys.map((Key, i) =>
          t.s3.send(new PutObjectCommand({ Bucket, Key, Body: JSON.stringify({ i }), ContentType: 'application/json' })),
        ),
      );

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
        new PublishCommand({
          TopicArn: 'arn:aws:sns:us-east-1:000000000000:mlship-notifications',
          Subject: 'Release approved',
          Message: '{"model":"m"}',
        }),
      );

      // Assess
      const feed = readFileSync(join(t.dataDir, 'notifications.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(feed.at(-1)).toMatchObject({ messageId: out.MessageId, subject: 'Release approved', message: '{"model":"m"}' });
    });

    it('raises NotFound for an unknown topic', async () => {
      await expect(
        t.sns.send(new PublishCommand({ TopicArn: 'arn:aws:sns:us-east-1:000000000000:other', Message: 'x' })),
      ).rejects.toMatchObject({ name: 'NotFoundException', $metadata: { httpStatusCode: 404 } });
    });
  });

  describe('Method: route (JSON protocol errors)', () => {
    it('returns AWS error shapes the SDK maps to named exceptions', async () => {
      // Prepare
      const cb = new CodeBuildClient(clientConfig(t.cloud.endpoint));
      const rt = new SageMakerRuntimeClient(clientConfig(t.cloud.endpoint));

      // Act
      const unknownBuild = await cb.send(new BatchGetBuildsCommand({ ids: ['mlship-build-none:00000000-0000-0000-0000-000000000000'] }));
      const invoke = rt.send(
        new InvokeEndpointCommand({ EndpointName: 'mlship-none-production', Body: Buffer.from('{}'), ContentType: 'application/json' }),
      );

      // Assess
      expect(unknownBuild.buildsNotFound).toEqual(['mlship-build-none:00000000-0000-0000-0000-000000000000']);
      await expect(invoke).rejects.toMatchObject({ name: 'ValidationError', $metadata: { httpStatusCode: 400 } });
      cb.destroy();
      rt.destroy();
    });

    it('answers an unknown target and malformed JSON with UnknownOperationException and SerializationException', async () => {
      const post = (target: string, body: string) =>
        fetch(t.cloud.endpoint, {
          method: 'POST',
          headers: { 'x-amz-target': target, 'content-type': 'application/x-amz-json-1.0' },
          body,
        });
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

  describe('Method: route (Host allow-list against DNS rebinding)', () => {
    const port = () => new URL(t.cloud.endpoint).port;
    const sfnList = (host: string) =>
      rawRequest(t.cloud.endpoint, {
        method: 'POST',
        headers: { host, 'x-amz-target': 'AWSStepFunctions.ListStateMachines', 'content-type': 'application/x-amz-json-1.0' },
        body: '{}',
      });

    it('refuses Step Functions, SageMaker and SageMaker Runtime calls addressed to another host, in their JSON error shape', async () => {
      // Prepare: what a page at http://rebound.evil.example:<port> makes its browser send
      const host = `rebound.evil.example:${port()}`;

      // Act
      const sfn = await sfnList(host);
      const sm = await rawRequest(t.cloud.endpoint, {
        method: 'POST',
        headers: { host, 'x-amz-target': 'SageMaker.ListEndpoints', 'content-type': 'application/x-amz-json-1.1' },
        body: '{}',
      });
      const runtime = await rawRequest(t.cloud.endpoint, {
        method: 'POST',
        path: '/endpoints/mlship-none-production/invocations',
        headers: { host, 'content-type': 'application/json' },
        body: '{}',
      });

      // Assess
      for (const res of [sfn, sm, runtime]) {
        expect(res.status).toBe(421);
        expect(res.headers['x-amzn-errortype']).toBe('MisdirectedRequest');
        expect(JSON.parse(res.body)).toMatchObject({
          __type: 'MisdirectedRequest',
          message: expect.stringContaining('rebound.evil.example'),
        });
      }
      expect(sm.headers['content-type']).toBe('application/x-amz-json-1.1');
    });

    it('refuses S3 reads and writes addressed to another host, in the S3 XML error shape, and stores nothing', async () => {
      // Prepare
      const host = `rebound.evil.example:${port()}`;

      // Act
      const list = await rawRequest(t.cloud.endpoint, { path: `/${Bucket}?list-type=2`, headers: { host } });
      const put = await rawRequest(t.cloud.endpoint, {
        method: 'PUT',
        path: `/${Bucket}/rebound/planted.json`,
        headers: { host, 'content-type': 'application/json' },
        body: '{"x":1}',
      });
      const noHost = await rawRequest(t.cloud.endpoint, { path: `/${Bucket}?list-type=2`, headers: { host: '' } });

      // Assess
      expect(list.status).toBe(421);
      expect(list.body).toMatch(/<Code>MisdirectedRequest<\/Code>/);
      expect(put.status).toBe(421);
      expect(noHost.status).toBeGreaterThanOrEqual(400);
      expect(noHost.status).toBeLessThan(500);
      await expect(t.s3.send(new HeadObjectCommand({ Bucket, Key: 'rebound/planted.json' }))).rejects.toMatchObject({
        $metadata: { httpStatusCode: 404 },
      });
    });

    it('refuses a loopback name on another port and an SNS publish addressed to another host', async () => {
      // Act
      const otherPort = await sfnList('127.0.0.1:1');
      const sns = await rawRequest(t.cloud.endpoint, {
        method: 'POST',
        headers: { host: `evil.example:${port()}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'Action=Publish&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A000000000000%3Amlship-notifications&Message=x',
      });

      // Assess
      expect(otherPort.status).toBe(421);
      expect(sns.status).toBe(421);
      expect(sns.body).toContain('<Code>MisdirectedRequest</Code>');
    });

    it('answers 127.0.0.1, localhost and [::1] on its port, and SDK clients with either endpoint', async () => {
      // Prepare
      const viaLocalhost = new SageMakerClient(clientConfig(`http://localhost:${port()}`));

      // Act
      const hosts = await Promise.all(
        [`127.0.0.1:${port()}`, `localhost:${port()}`, `[::1]:${port()}`, `LOCALHOST:${port()}`].map((h) => sfnList(h)),
      );
      const machines = await t.sfn.send(new ListStateMachinesCommand({}));
      const endpoints = await viaLocalhost.send(new ListEndpointsCommand({}));

      // Assess
      expect(hosts.map((r) => r.status)).toEqual([200, 200, 200, 200]);
      expect(machines.stateMachines!.length).toBeGreaterThan(0);
      expect(endpoints.$metadata.httpStatusCode).toBe(200);
      viaLocalhost.destroy();
    });
  });
});
