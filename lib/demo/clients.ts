import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { SageMakerClient } from '@aws-sdk/client-sagemaker';
import type { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { createS3Client, createSageMakerClient, createSageMakerRuntimeClient, createSfnClient } from '../../lambdas/shared/clients';
import { localDecider, type Decider } from '../console/decision-client';
import { localClientConfig } from '../local/client';
import { ARTIFACT_BUCKET } from '../local/constants';

/**
 * The SDK v3 clients the demo uses, all pointed at the local cloud's edge, exactly as a
 * person's scripts would be with AWS_ENDPOINT_URL.
 */
export class DemoClients {
  readonly s3: S3Client;
  readonly sfn: SFNClient;
  readonly sagemaker: SageMakerClient;
  readonly runtime: SageMakerRuntimeClient;
  readonly bucket = ARTIFACT_BUCKET;
  /** The DecideApproval function, as `mlship approve|reject` asks it. */
  readonly decide: Decider;

  constructor(readonly endpoint: string) {
    this.decide = localDecider(endpoint);
    const base = localClientConfig(endpoint);
    this.s3 = createS3Client(base);
    this.sfn = createSfnClient(base);
    this.sagemaker = createSageMakerClient(base);
    this.runtime = createSageMakerRuntimeClient({ ...base, maxAttempts: 1 });
  }

  /** An object's text, or undefined when it does not exist. */
  async getText(key: string): Promise<string | undefined> {
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return await out.Body!.transformToString('utf8');
    } catch (err) {
      if ((err as Error).name === 'NoSuchKey' || (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404)
        return undefined;
      throw err;
    }
  }

  async getJson<T>(key: string): Promise<T | undefined> {
    const text = await this.getText(key);
    if (text === undefined) return undefined;
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new Error(`s3://${this.bucket}/${key} is not JSON: ${(err as Error).message}`, { cause: err });
    }
  }

  async put(key: string, body: string, contentType: string): Promise<void> {
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType }));
  }

  /** Every key under a prefix. */
  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }));
      for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }

  destroy(): void {
    this.s3.destroy();
    this.sfn.destroy();
    this.sagemaker.destroy();
    this.runtime.destroy();
  }
}

/** `s3://bucket/key` -> key (the demo only reads the artifact bucket). */
export function keyOf(uri: string, bucket = ARTIFACT_BUCKET): string {
  const prefix = `s3://${bucket}/`;
  if (!uri.startsWith(prefix)) throw new Error(`expected an s3:// URI in ${bucket}, got "${uri}"`);
  return uri.slice(prefix.length);
}
