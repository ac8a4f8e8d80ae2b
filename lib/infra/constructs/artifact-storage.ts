import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledge } from '../nag';

/** Properties of {@link ArtifactStorage}. */
export interface ArtifactStorageProps {
  /**
   * What happens to the key and buckets when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Days after which captured inference data (`capture/`) moves to Infrequent Access.
   * @default 30
   */
  readonly captureTransitionDays?: number;
  /**
   * Days after which captured inference data (`capture/`) and ground truth expire.
   * @default 365
   */
  readonly captureExpirationDays?: number;
  /**
   * Days a noncurrent object version is kept.
   * @default 90
   */
  readonly noncurrentVersionDays?: number;
  /**
   * Days pipeline artifacts (source zips handed between pipeline actions) are kept.
   * @default 30
   */
  readonly pipelineArtifactDays?: number;
  /**
   * Days server access logs are kept.
   * @default 365
   */
  readonly accessLogDays?: number;
}

/** The retention settings, refused up front when S3 would refuse them at deploy time. */
function checkRetention(path: string, props: ArtifactStorageProps): { transition: number; expiration: number } {
  const transition = props.captureTransitionDays ?? 30;
  const expiration = props.captureExpirationDays ?? 365;
  for (const [name, value] of Object.entries({
    captureTransitionDays: transition,
    captureExpirationDays: expiration,
    noncurrentVersionDays: props.noncurrentVersionDays ?? 90,
    pipelineArtifactDays: props.pipelineArtifactDays ?? 30,
    accessLogDays: props.accessLogDays ?? 365,
  })) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`${path}: ${name} must be a whole number of days >= 1, got ${value}`);
  }
  // S3 moves objects to Infrequent Access no earlier than 30 days and expiry must follow it.
  if (transition < 30) throw new Error(`${path}: captureTransitionDays must be >= 30 (S3's minimum for STANDARD_IA), got ${transition}`);
  if (expiration <= transition) {
    throw new Error(`${path}: captureExpirationDays (${expiration}) must be greater than captureTransitionDays (${transition})`);
  }
  return { transition, expiration };
}

/**
 * The platform's storage: one customer-managed KMS key, the artifact bucket that holds
 * every release's files (see the S3 layout in DESIGN.md), a bucket for the pipelines'
 * own artifacts, and a server-access-log bucket for both.
 */
export class ArtifactStorage extends Construct {
  /** Encrypts the buckets, the topic, the image repositories and the build outputs. */
  readonly key: kms.Key;
  /** `source/`, `builds/`, `reports/`, `approvals/`, `registry/`, `capture/`, ... */
  readonly artifactBucket: s3.Bucket;
  /** CodePipeline's artifact store: the zip a source action hands to the next actions. */
  readonly pipelineArtifactBucket: s3.Bucket;
  /** Server access logs of the two buckets above. */
  readonly accessLogBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: ArtifactStorageProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const { transition, expiration } = checkRetention(this.node.path, props);

    this.key = new kms.Key(this, 'Key', {
      description: 'mlship: artifacts, images, notifications and build outputs',
      enableKeyRotation: true,
      removalPolicy,
    });
    // CloudWatch alarms publish to the KMS-encrypted notification topic; the service needs
    // the key for that, limited to this account's alarms.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublishEncrypted',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': this.key.stack.account } },
      }),
    );

    // Access-log delivery does not support SSE-KMS targets, hence S3-managed keys here.
    this.accessLogBucket = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ id: 'expire-logs', expiration: Duration.days(props.accessLogDays ?? 365) }],
      removalPolicy,
    });
    acknowledge(this.accessLogBucket, {
      'AwsSolutions-S1':
        'This is the server-access-log target bucket; logging it to itself would loop, and a second log bucket only moves the finding.',
    });

    const noncurrent = Duration.days(props.noncurrentVersionDays ?? 90);
    this.artifactBucket = new s3.Bucket(this, 'Artifacts', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      versioned: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogBucket,
      serverAccessLogsPrefix: 'artifacts/',
      lifecycleRules: [
        {
          id: 'capture-data',
          prefix: 'capture/',
          transitions: [{ storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(transition) }],
          expiration: Duration.days(expiration),
        },
        { id: 'ground-truth', prefix: 'ground-truth/', expiration: Duration.days(expiration) },
        { id: 'noncurrent-versions', noncurrentVersionExpiration: noncurrent, abortIncompleteMultipartUploadAfter: Duration.days(7) },
      ],
      removalPolicy,
    });

    this.pipelineArtifactBucket = new s3.Bucket(this, 'PipelineArtifacts', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogBucket,
      serverAccessLogsPrefix: 'pipeline-artifacts/',
      lifecycleRules: [
        {
          id: 'expire-artifacts',
          expiration: Duration.days(props.pipelineArtifactDays ?? 30),
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
      ],
      removalPolicy,
    });
  }
}
