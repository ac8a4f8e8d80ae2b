import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { resourceNames } from '../../lib/infra/naming';
import { StatefulStack } from '../../lib/infra/stacks/stateful-stack';
import { nagFindings } from './helpers';

let app: App;
let template: Template;

beforeAll(() => {
  // Prepare + Act: the stateful stack alone is cheap to synthesize.
  app = new App();
  const stack = new StatefulStack(app, 'mlship-stateful', {
    names: resourceNames(),
    notificationEmail: 'ml-team@example.com',
  });
  template = Template.fromStack(stack);
});

const sslOnly = Match.objectLike({
  Statement: Match.arrayWith([
    Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } }, Principal: { AWS: '*' } }),
  ]),
});

describe('Class: StatefulStack', () => {
  describe('Method: constructor', () => {
    it('encrypts the artifact bucket with the rotating CMK, versions it and logs access to the log bucket', () => {
      // Assess
      template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
      template.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
      template.hasResourceProperties('AWS::S3::Bucket', {
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            {
              ServerSideEncryptionByDefault: {
                SSEAlgorithm: 'aws:kms',
                KMSMasterKeyID: { 'Fn::GetAtt': [Match.stringLikeRegexp('^StorageKey'), 'Arn'] },
              },
              BucketKeyEnabled: true,
            },
          ],
        },
        VersioningConfiguration: { Status: 'Enabled' },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        LoggingConfiguration: { DestinationBucketName: { Ref: Match.stringLikeRegexp('^StorageAccessLogs') }, LogFilePrefix: 'artifacts/' },
        LifecycleConfiguration: {
          Rules: Match.arrayWith([
            Match.objectLike({
              Id: 'capture-data',
              Prefix: 'capture/',
              ExpirationInDays: 365,
              Transitions: [{ StorageClass: 'STANDARD_IA', TransitionInDays: 30 }],
            }),
            Match.objectLike({ Id: 'noncurrent-versions', NoncurrentVersionExpiration: { NoncurrentDays: 90 } }),
          ]),
        },
      });
    });

    it('retains every bucket and refuses plain-HTTP requests on each', () => {
      // Assess
      const buckets = template.findResources('AWS::S3::Bucket');
      expect(Object.keys(buckets)).toHaveLength(3);
      for (const b of Object.values(buckets)) expect(b.DeletionPolicy).toBe('Retain');
      const policies = template.findResources('AWS::S3::BucketPolicy', { Properties: { PolicyDocument: sslOnly } });
      expect(Object.keys(policies)).toHaveLength(3);
    });

    it('creates no repository per model but a template that makes each model an immutable, KMS-encrypted one on its first push', () => {
      // Assess
      template.resourceCountIs('AWS::ECR::Repository', 0);
      template.hasResourceProperties('AWS::ECR::RepositoryCreationTemplate', {
        Prefix: 'mlship',
        AppliedFor: ['CREATE_ON_PUSH'],
        ImageTagMutability: 'IMMUTABLE',
        EncryptionConfiguration: { EncryptionType: 'KMS', KmsKey: { 'Fn::GetAtt': [Match.stringLikeRegexp('^StorageKey'), 'Arn'] } },
        CustomRoleArn: Match.anyValue(),
      });
      const policy = JSON.parse(
        Object.values(template.findResources('AWS::ECR::RepositoryCreationTemplate'))[0]!.Properties.LifecyclePolicy as string,
      );
      expect(policy.rules[0].selection).toEqual({ tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 100 });
    });

    it('encrypts the topic, refuses plain-HTTP publishing and subscribes the e-mail address', () => {
      // Assess
      template.hasResourceProperties('AWS::SNS::Topic', {
        KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^StorageKey'), 'Arn'] },
      });
      template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Action: 'sns:Publish', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
      template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ml-team@example.com' });
    });

    it('exports the names the platform stack imports', () => {
      // Assess
      for (const name of [
        'keyArn',
        'artifactBucketName',
        'artifactBucketArn',
        'pipelineArtifactBucketName',
        'pipelineArtifactBucketArn',
        'topicArn',
      ]) {
        template.hasOutput(name, { Export: { Name: `mlship-stateful-${name}` } });
      }
    });

    it('leaves no unacknowledged AwsSolutions finding', () => {
      // Assess
      expect(nagFindings(app).map((f) => f.ruleName)).toEqual([]);
    });
  });
});
