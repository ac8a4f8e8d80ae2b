import { ArnFormat, Stack } from 'aws-cdk-lib';
import type * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { allow } from '../iam';
import { acknowledge } from '../nag';

/** Properties of {@link SageMakerExecutionRole}. */
export interface SageMakerExecutionRoleProps {
  /** The model image repositories the endpoints pull from. */
  readonly repositories: readonly ecr.IRepository[];
  readonly artifactBucketArn: string;
  readonly keyArn: string;
}

/**
 * The role SageMaker endpoints run with: pull the model images, read the model bundles
 * under `builds/`, write data capture under `capture/`, use the platform key, and write
 * the endpoints' own logs and metrics.
 */
export class SageMakerExecutionRole extends Construct {
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: SageMakerExecutionRoleProps) {
    super(scope, id);
    if (!props.repositories.length) throw new Error(`${this.node.path}: at least one image repository is needed`);
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com'),
      description: 'mlship: SageMaker endpoints (image pull, model data, data capture)',
    });
    for (const repo of props.repositories) repo.grantPull(this.role);
    const objects = 'Model bundles (builds/<model>/<version>/) and data capture (capture/<model>/<endpoint>/...) have run-time keys.';
    allow(this.role, { actions: ['s3:GetObject'], resources: [`${props.artifactBucketArn}/builds/*`] }, objects);
    allow(this.role, { actions: ['s3:PutObject'], resources: [`${props.artifactBucketArn}/capture/*`] }, objects);
    allow(this.role, { actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'], resources: [props.keyArn] }, 'no wildcard');
    const stack = Stack.of(this);
    allow(
      this.role,
      {
        actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
        resources: [
          stack.formatArn({
            service: 'logs',
            resource: 'log-group',
            resourceName: '/aws/sagemaker/Endpoints/*',
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      },
      'SageMaker creates one log group per endpoint under /aws/sagemaker/Endpoints/; endpoints are created per model at run time.',
    );
    allow(
      this.role,
      {
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': '/aws/sagemaker/Endpoints' } },
      },
      'cloudwatch:PutMetricData has no resource-level permissions; it is limited to the SageMaker endpoint namespace by condition.',
    );
    acknowledge(this.role, {
      'AwsSolutions-IAM5[Resource::*]':
        'ecr:GetAuthorizationToken (image pull) and cloudwatch:PutMetricData do not support resource-level permissions.',
    });
  }
}
