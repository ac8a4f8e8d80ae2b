import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

/** Properties of {@link NotificationTopic}. */
export interface NotificationTopicProps {
  /** Encrypts messages at rest. */
  readonly encryptionKey: kms.IKey;
  /**
   * An e-mail address subscribed to release, approval, drift and alarm notifications.
   * @default no subscription
   */
  readonly email?: string;
}

/**
 * The SNS topic for approvals, release outcomes, drift and alarms: KMS-encrypted, and its
 * resource policy refuses publishing over plain HTTP.
 */
export class NotificationTopic extends Construct {
  readonly topic: sns.Topic;

  constructor(scope: Construct, id: string, props: NotificationTopicProps) {
    super(scope, id);
    if (props.email !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(props.email)) {
      throw new Error(`${this.node.path}: email "${props.email}" is not an e-mail address`);
    }
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'mlship notifications',
      masterKey: props.encryptionKey,
      enforceSSL: true,
    });
    if (props.email) this.topic.addSubscription(new subscriptions.EmailSubscription(props.email));
  }
}
