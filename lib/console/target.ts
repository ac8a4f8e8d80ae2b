/**
 * Where the console and the approval commands point: the local cloud's edge or a deployed
 * stack on AWS. Both are reached with the same SDK v3 clients; only the client options differ.
 */
import { userInfo } from 'node:os';
import type { S3Client } from '@aws-sdk/client-s3';
import { ListStateMachinesCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { STSClient, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { createS3Client, createSfnClient } from '../../lambdas/shared/clients';
import { discoverEndpoint, InvalidEndpointError } from '../local/client';
import { awsDecider, localDecider, type Decider } from './decision-client';
import { cloudWatchTraffic, type TrafficReader } from './traffic';

/** Local cloud defaults (see the shared brief): region, bucket and edge port. */
export const LOCAL_DEFAULTS = {
  endpoint: 'http://127.0.0.1:4566',
  region: 'us-east-1',
  bucket: 'mlship-artifacts',
} as const;

/** How a command line or a caller names the target. */
export interface TargetOptions {
  /** Talk to AWS with the caller's own credentials instead of the local cloud. */
  aws?: boolean;
  /** AWS profile (only with `aws`). */
  profile?: string;
  /** AWS region (only with `aws`); @default the SDK's region chain, locally us-east-1. */
  region?: string;
  /** Local cloud edge URL; @default AWS_ENDPOINT_URL, then the running cloud's `<dataDir>/cloud.json`. */
  endpoint?: string;
  /** The data dir of a cloud started with `mlship up`; @default .mlship */
  dataDir?: string;
  /** Artifact bucket; @default MLSHIP_BUCKET or, locally, mlship-artifacts. */
  bucket?: string;
  /**
   * Release state machine ARN (stack output `ReleaseStateMachineArn`); @default MLSHIP_RELEASE_STATE_MACHINE_ARN,
   * then, locally only, the one whose name contains "release".
   */
  stateMachineArn?: string;
  /** The DecideApproval function URL (stack output `DecideApprovalUrl`; only with `aws`); @default MLSHIP_DECIDE_URL. */
  decideUrl?: string;
}

/** The resolved clients and names every console page and approval command uses. */
export interface Target {
  readonly kind: 'local' | 'aws';
  readonly s3: S3Client;
  readonly sfn: SFNClient;
  readonly bucket: string;
  /** A human label for headers and logs, e.g. `local cloud http://127.0.0.1:4566`. */
  readonly label: string;
  /** The release state machine; looked up lazily when not given. */
  releaseStateMachineArn(): Promise<string | undefined>;
  /** Who decides: the caller identity ARN on AWS, the given name or OS user locally. */
  approver(explicit?: string): Promise<string>;
  /** Asks the DecideApproval function for a decision: the only way to decide. */
  readonly decider: Decider;
  /** Live traffic of an endpoint's variants over the last hour (the model page): CloudWatch GetMetricData, on AWS or the local edge. */
  readonly traffic?: TrafficReader;
}

/** Why an AWS target has no release state machine. */
export const MISSING_STATE_MACHINE =
  '--aws needs --state-machine (or MLSHIP_RELEASE_STATE_MACHINE_ARN) to show releases: the stack output ReleaseStateMachineArn';

/** The target options cannot be combined or are missing something only the user knows. */
export class TargetOptionsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TargetOptionsError';
  }
}

/**
 * Client options for a local endpoint. The clients come from the lambdas/shared factory,
 * which adds what the local S3 server needs to an S3 client with an endpoint.
 */
function localClientConfig(endpoint: string, region: string) {
  return {
    endpoint,
    region,
    // Fixed dummy credentials, never the environment's: inside `mlship up` the environment
    // holds the local cloud's task credential, which a console must not act with (lib/local/core/access.ts).
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  };
}

/** Resolve options into clients. Does no I/O; the state machine is found on first use. */
export function resolveTarget(opts: TargetOptions, env: NodeJS.ProcessEnv = process.env): Target {
  if (opts.aws && opts.endpoint) throw new TargetOptionsError('--aws and --endpoint cannot be combined: pick one target');
  if (!opts.aws && opts.profile) throw new TargetOptionsError('--profile only applies with --aws');
  const explicitSm = opts.stateMachineArn ?? env.MLSHIP_RELEASE_STATE_MACHINE_ARN;

  if (opts.aws) {
    const bucket = opts.bucket ?? env.MLSHIP_BUCKET;
    if (!bucket) throw new TargetOptionsError('--aws needs --bucket (or MLSHIP_BUCKET): the artifact bucket of the deployed stack');
    const config = { ...(opts.region ? { region: opts.region } : {}), ...(opts.profile ? { profile: opts.profile } : {}) };
    const sts = new STSClient(config);
    const sfn = createSfnClient(config);
    let identity: Promise<string> | undefined;
    const decideUrl = opts.decideUrl ?? env.MLSHIP_DECIDE_URL;
    const decider: Decider = decideUrl
      ? awsDecider(
          decideUrl,
          () => sts.config.region(),
          () => sts.config.credentials(),
        )
      : () =>
          Promise.reject(
            new TargetOptionsError('deciding with --aws needs --decide-url (or MLSHIP_DECIDE_URL): the stack output DecideApprovalUrl'),
          );
    return {
      kind: 'aws',
      s3: createS3Client(config),
      sfn,
      bucket,
      label: `AWS${opts.profile ? ` profile ${opts.profile}` : ''}${opts.region ? ` ${opts.region}` : ''}, bucket ${bucket}`,
      // Never looked up on AWS: ListStateMachines allows no resource scope (only Resource "*"),
      // so the approver policy does not grant it; the stack outputs the ARN, as it does the bucket.
      releaseStateMachineArn: () =>
        explicitSm ? Promise.resolve(explicitSm) : Promise.reject(new TargetOptionsError(MISSING_STATE_MACHINE)),
      decider,
      traffic: cloudWatchTraffic(new CloudWatchClient(config)),
      // On AWS the decision is recorded under the IAM identity that signs the function URL request,
      // never under a name the approver types: IAM is what decides who may approve.
      approver: (explicit) => {
        if (explicit) {
          return Promise.reject(
            new TargetOptionsError('--as/--approver cannot be used with --aws: the decision is recorded under your IAM identity'),
          );
        }
        identity ??= sts.send(new GetCallerIdentityCommand({})).then((r) => {
          if (!r.Arn) throw new Error('STS GetCallerIdentity returned no ARN');
          return r.Arn;
        });
        return identity;
      },
    };
  }

  // The same discovery as every other command (flag, AWS_ENDPOINT_URL, cloud.json); no cloud
  // found is CloudNotRunningError, which the commands report as unreachable.
  let endpoint: string;
  try {
    endpoint = discoverEndpoint({ endpointUrl: opts.endpoint, dataDir: opts.dataDir }, env).endpoint;
  } catch (err) {
    if (err instanceof InvalidEndpointError) throw new TargetOptionsError(err.message);
    throw err;
  }
  const region = opts.region ?? LOCAL_DEFAULTS.region;
  const base = localClientConfig(endpoint, region);
  const sfn = createSfnClient(base);
  return {
    kind: 'local',
    s3: createS3Client(base),
    sfn,
    bucket: opts.bucket ?? env.MLSHIP_BUCKET ?? LOCAL_DEFAULTS.bucket,
    label: `local cloud ${endpoint}`,
    releaseStateMachineArn: memo(() => explicitSm ?? findReleaseStateMachine(sfn)),
    decider: localDecider(endpoint),
    traffic: cloudWatchTraffic(new CloudWatchClient(base)),
    approver: async (explicit) => explicit?.trim() || env.MLSHIP_APPROVER?.trim() || osUser(),
  };
}

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

function memo<T>(fn: () => Promise<T> | T): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => {
    p ??= Promise.resolve().then(fn);
    // A failed lookup (edge not up yet) is retried on the next page load.
    p.catch(() => (p = undefined));
    return p;
  };
}

/** The release state machine is the one whose name contains "release" (CDK and local both name it so). */
async function findReleaseStateMachine(sfn: SFNClient): Promise<string | undefined> {
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(new ListStateMachinesCommand({ nextToken }));
    const hit = page.stateMachines?.find((m) => /release/i.test(m.name ?? ''));
    if (hit?.stateMachineArn) return hit.stateMachineArn;
    nextToken = page.nextToken;
  } while (nextToken);
  return undefined;
}
