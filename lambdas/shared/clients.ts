import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { SFNClient, type SFNClientConfig } from '@aws-sdk/client-sfn';
import { CodeBuildClient, type CodeBuildClientConfig } from '@aws-sdk/client-codebuild';
import { SageMakerClient, type SageMakerClientConfig } from '@aws-sdk/client-sagemaker';
import { SageMakerRuntimeClient, type SageMakerRuntimeClientConfig } from '@aws-sdk/client-sagemaker-runtime';
import { SNSClient, type SNSClientConfig } from '@aws-sdk/client-sns';
import { CloudWatchClient, type CloudWatchClientConfig } from '@aws-sdk/client-cloudwatch';
import { tracer } from './tracer';

/**
 * The one factory of AWS clients for the task functions (and anything else that wants the
 * same behaviour).
 *
 * Region, credentials and `AWS_ENDPOINT_URL` are the SDK's own business: it reads them from
 * the environment. What it does not know is that an endpoint override usually means an
 * S3-compatible server without virtual-host buckets or the new default checksums, so when
 * an endpoint is set, S3 gets path-style addressing and checksums only when required (a
 * streamed upload is otherwise silently corrupted by such servers). That is keyed on "an
 * endpoint is set", never on "local": a VPC or FIPS endpoint gets the same safe options.
 * One function per client, so a bundle only pulls in the clients its handler uses. Every
 * client is instrumented by the Powertools Tracer (a subsegment per call on Lambda; as is elsewhere).
 */

/** The endpoint override the SDK will use for S3, if any. */
function s3EndpointOverride(env: NodeJS.ProcessEnv): string | undefined {
  return env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined;
}

/** What an S3 client pointed at an endpoint override needs (the local cloud's S3 server among them). */
const ENDPOINT_OVERRIDE_S3_OPTIONS = {
  forcePathStyle: true,
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
} as const satisfies S3ClientConfig;

/** S3 client options implied by the environment; exported for tests and other S3 users. */
export function s3ConfigFromEnv(env: NodeJS.ProcessEnv = process.env): S3ClientConfig {
  return s3EndpointOverride(env) ? { ...ENDPOINT_OVERRIDE_S3_OPTIONS } : {};
}

/**
 * An S3 client; an endpoint in `config` (the CLI, the console and the local cloud pass the
 * edge's or the S3 server's) gets the same safe options as one from the environment.
 */
export const createS3Client = (config: S3ClientConfig = {}): S3Client =>
  tracer.captureAWSv3Client(new S3Client({ ...(config.endpoint ? ENDPOINT_OVERRIDE_S3_OPTIONS : s3ConfigFromEnv()), ...config }));
export const createSfnClient = (config: SFNClientConfig = {}): SFNClient => tracer.captureAWSv3Client(new SFNClient(config));
export const createCodeBuildClient = (config: CodeBuildClientConfig = {}): CodeBuildClient =>
  tracer.captureAWSv3Client(new CodeBuildClient(config));
export const createSageMakerClient = (config: SageMakerClientConfig = {}): SageMakerClient =>
  tracer.captureAWSv3Client(new SageMakerClient(config));
export const createSageMakerRuntimeClient = (config: SageMakerRuntimeClientConfig = {}): SageMakerRuntimeClient =>
  tracer.captureAWSv3Client(new SageMakerRuntimeClient(config));
export const createSnsClient = (config: SNSClientConfig = {}): SNSClient => tracer.captureAWSv3Client(new SNSClient(config));
export const createCloudWatchClient = (config: CloudWatchClientConfig = {}): CloudWatchClient =>
  tracer.captureAWSv3Client(new CloudWatchClient(config));

/**
 * `values` plus one property per factory that creates its client on first read (then keeps
 * it). A handler module builds its deps at import, which is the cold start; constructing SDK
 * clients there (runtime config, credential chain, HTTP handler) was ~10-20 ms of it, while
 * the first invocation needs them anyway. Environment variables are still read at import,
 * so a missing one still fails the cold start with its name.
 */
export function withLazyClients<V extends object, F extends Record<string, () => object>>(
  values: V,
  factories: F,
): V & { readonly [K in keyof F]: ReturnType<F[K]> } {
  const deps = { ...values };
  for (const [key, create] of Object.entries(factories)) {
    let client: object | undefined;
    Object.defineProperty(deps, key, { enumerable: true, get: () => (client ??= create()) });
  }
  return deps as V & { readonly [K in keyof F]: ReturnType<F[K]> };
}
