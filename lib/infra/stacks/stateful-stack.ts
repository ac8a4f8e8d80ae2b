import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ArtifactStorage } from '../constructs/artifact-storage';
import { ImageRepositoryTemplate } from '../constructs/image-repository-template';
import { NotificationTopic } from '../constructs/notification-topic';
import type { ResourceNames } from '../naming';

/** Properties of {@link StatefulStack}. */
export interface StatefulStackProps extends StackProps {
  readonly names: ResourceNames;
  /**
   * E-mail address subscribed to the notification topic.
   * @default no subscription
   */
  readonly notificationEmail?: string;
}

/** The CloudFormation export names under which the stateful stack publishes its resources. */
export interface StatefulExports {
  readonly keyArn: string;
  readonly artifactBucketName: string;
  readonly artifactBucketArn: string;
  readonly pipelineArtifactBucketName: string;
  readonly pipelineArtifactBucketArn: string;
  readonly topicArn: string;
}

/**
 * Everything that holds data: key, buckets, the image repositories' creation template, topic. Kept apart from the
 * platform so that replacing a function or a pipeline can never touch them, and retained
 * when the stack is deleted.
 *
 * The platform stack reads these through named exports ({@link StatefulExports}) rather
 * than CDK's generated cross-stack references: the names are stable across refactors
 * (a generated export that changes blocks the update), and the IAM findings acknowledged
 * in the platform stack can name the exact resource they apply to.
 */
export class StatefulStack extends Stack {
  readonly exportNames: StatefulExports;
  readonly storage: ArtifactStorage;
  readonly images: ImageRepositoryTemplate;

  constructor(scope: Construct, id: string, props: StatefulStackProps) {
    super(scope, id, props);
    // Deliver server access logs through a bucket policy, which works with
    // BUCKET_OWNER_ENFORCED (ACLs disabled), rather than the legacy log-delivery ACL.
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);

    this.storage = new ArtifactStorage(this, 'Storage', { removalPolicy: RemovalPolicy.RETAIN });
    // One creation template instead of a repository per model: a new model's first build
    // creates its repository (issue 17: a new model needs only a push).
    this.images = new ImageRepositoryTemplate(this, 'Images', {
      repositoryPrefix: props.names.imageRepositoryPrefix,
      encryptionKey: this.storage.key,
    });
    const topic = new NotificationTopic(this, 'Notifications', { encryptionKey: this.storage.key, email: props.notificationEmail }).topic;

    const out = (name: keyof StatefulExports, value: string, description: string): string => {
      const exportName = `${this.stackName}-${name}`;
      new CfnOutput(this, name, { value, description, exportName });
      return exportName;
    };
    this.exportNames = {
      keyArn: out('keyArn', this.storage.key.keyArn, 'KMS key of the artifacts, images and topic'),
      artifactBucketName: out('artifactBucketName', this.storage.artifactBucket.bucketName, 'Artifact bucket (ARTIFACT_BUCKET)'),
      artifactBucketArn: out('artifactBucketArn', this.storage.artifactBucket.bucketArn, 'Artifact bucket ARN'),
      pipelineArtifactBucketName: out(
        'pipelineArtifactBucketName',
        this.storage.pipelineArtifactBucket.bucketName,
        'CodePipeline artifact store',
      ),
      pipelineArtifactBucketArn: out(
        'pipelineArtifactBucketArn',
        this.storage.pipelineArtifactBucket.bucketArn,
        'CodePipeline artifact store ARN',
      ),
      topicArn: out('topicArn', topic.topicArn, 'Notification topic (NOTIFICATION_TOPIC_ARN)'),
    };
  }
}
