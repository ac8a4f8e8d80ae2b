import { ArnFormat, Stack } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { DiscoveredModel } from '../../config';
import { allow } from '../iam';

/** Properties of {@link TrainingPermissions}. */
export interface TrainingPermissionsProps {
  /** The release state machine's role: it starts, waits on and stops the training jobs (createTrainingJob.sync). */
  readonly releaseRole: iam.IRole;
  /** The SageMaker execution role the jobs run with (and the only role the release may pass). */
  readonly sagemakerRole: iam.Role;
  /** Training jobs are named `<sagemakerPrefix><model>-<version>`. */
  readonly sagemakerPrefix: string;
  readonly artifactBucketArn: string;
  /** The models; those with `training.mode: sagemaker` name the S3 channels and checkpoint paths granted. */
  readonly models: readonly DiscoveredModel[];
}

/** `s3://bucket/prefix` to the bucket and the key prefix. */
function splitS3(uri: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri)!;
  return { bucket: m[1]!, prefix: m[2]! };
}

/**
 * The IAM of the release's training stage (issue 23).
 *
 * The release machine may create, describe, stop and tag only `mlship-*` training jobs, pass
 * only the SageMaker role and only to SageMaker, and manage the EventBridge rule Step
 * Functions uses to learn that a job ended (AWS's documented policy for the .sync
 * integration). The SageMaker role gets, beyond the endpoints' grants, read access to
 * exactly the S3 channels the manifests declare (the build-output channels are under
 * `builds/`, which it reads already), its own output under `training/`, the checkpoint
 * paths, and its log group.
 */
export class TrainingPermissions extends Construct {
  constructor(scope: Construct, id: string, props: TrainingPermissionsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const training = props.models.map((m) => m.manifest.training).filter((t) => t.mode === 'sagemaker');
    if (training.length === 0) return;
    const jobs = stack.formatArn({
      service: 'sagemaker',
      resource: 'training-job',
      resourceName: `${props.sagemakerPrefix}*`,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    allow(
      props.releaseRole,
      {
        actions: ['sagemaker:CreateTrainingJob', 'sagemaker:DescribeTrainingJob', 'sagemaker:StopTrainingJob', 'sagemaker:AddTags'],
        resources: [jobs],
      },
      'Training jobs are created per model version at run time, all named with the mlship- prefix.',
    );
    allow(
      props.releaseRole,
      {
        actions: ['iam:PassRole'],
        resources: [props.sagemakerRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
      },
      'no wildcard',
    );
    allow(
      props.releaseRole,
      {
        actions: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
        resources: [
          stack.formatArn({ service: 'events', resource: 'rule', resourceName: 'StepFunctionsGetEventsForSageMakerTrainingJobsRule' }),
        ],
      },
      'no wildcard',
    );
    this.grantJobRole(props, training);
  }

  private grantJobRole(props: TrainingPermissionsProps, training: DiscoveredModel['manifest']['training'][]): void {
    const role = props.sagemakerRole;
    const channels = [...new Set(training.flatMap((t) => Object.values(t.channels).flatMap((c) => ('s3' in c ? [c.s3] : []))))].sort();
    const checkpoints = [...new Set(training.flatMap((t) => (t.spot.checkpointPath ? [t.spot.checkpointPath] : [])))].sort();
    const objects = (uri: string) => `arn:aws:s3:::${splitS3(uri).bucket}/${splitS3(uri).prefix}*`;
    const why = 'A training channel or checkpoint path is an S3 prefix the manifest declares; its objects are only known at run time.';
    const own = `${props.artifactBucketArn}/training/*`;
    allow(role, { actions: ['s3:GetObject'], resources: [...channels, ...checkpoints].map(objects).concat(own) }, why);
    allow(role, { actions: ['s3:PutObject'], resources: [...checkpoints.map(objects), own] }, why);
    // ListBucket, as SageMaker lists an S3Prefix channel, only under the declared prefixes.
    const byBucket = new Map<string, string[]>();
    for (const uri of [...channels, ...checkpoints]) {
      const { bucket, prefix } = splitS3(uri);
      byBucket.set(bucket, [...(byBucket.get(bucket) ?? []), `${prefix}*`]);
    }
    for (const [bucket, prefixes] of byBucket) {
      allow(
        role,
        { actions: ['s3:ListBucket'], resources: [`arn:aws:s3:::${bucket}`], conditions: { StringLike: { 's3:prefix': prefixes } } },
        why,
      );
    }
    const stack = Stack.of(this);
    allow(
      role,
      {
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:CreateLogGroup', 'logs:DescribeLogStreams'],
        resources: [
          stack.formatArn({
            service: 'logs',
            resource: 'log-group',
            resourceName: '/aws/sagemaker/TrainingJobs:*',
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      },
      'SageMaker writes one log stream per training job, named at run time, in the /aws/sagemaker/TrainingJobs group.',
    );
  }
}
