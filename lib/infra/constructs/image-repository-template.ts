import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { allow } from '../iam';

/** Properties of {@link ImageRepositoryTemplate}. */
export interface ImageRepositoryTemplateProps {
  /** `mlship/`: a model's repository is `<prefix><model>`. */
  readonly repositoryPrefix: string;
  /** Encrypts the images. */
  readonly encryptionKey: kms.IKey;
  /**
   * Images kept per repository; older ones are expired by a lifecycle rule.
   * @default 100
   */
  readonly maxImages?: number;
}

/**
 * The settings of every model's image repository, as an ECR repository creation template
 * applied on push (CREATE_ON_PUSH): a model's first build pushes `<prefix><model>:<tag>` and
 * ECR creates the repository with these settings, so a new model needs no deployment and the
 * stack holds one template however many models there are.
 *
 * The same settings as the per-model repositories had: immutable tags (a registry version's
 * image URI always means the same image), KMS with the platform key, the newest `maxImages`
 * kept. Scan on push is a registry setting, not a template one (see README-INFRA). ECR uses
 * the template's own role to create a repository encrypted with a customer-managed key.
 * Repositories are retained when a model is removed or the stack deleted, as before.
 */
export class ImageRepositoryTemplate extends Construct {
  readonly template: ecr.CfnRepositoryCreationTemplate;

  constructor(scope: Construct, id: string, props: ImageRepositoryTemplateProps) {
    super(scope, id);
    const maxImages = props.maxImages ?? 100;
    if (!Number.isInteger(maxImages) || maxImages < 1)
      throw new Error(`${this.node.path}: maxImages must be a whole number >= 1, got ${maxImages}`);
    const prefix = props.repositoryPrefix.replace(/\/$/, '');
    if (!/^[a-z][a-z0-9._-]*$/.test(prefix))
      throw new Error(`${this.node.path}: repositoryPrefix "${props.repositoryPrefix}" is not a namespace`);

    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('ecr.amazonaws.com'),
      description: 'mlship: ECR creates model image repositories (KMS-encrypted) from the creation template',
    });
    const repositories = Stack.of(this).formatArn({
      service: 'ecr',
      resource: 'repository',
      resourceName: `${prefix}/*`,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    allow(
      role,
      { actions: ['ecr:CreateRepository', 'ecr:TagResource'], resources: [repositories] },
      'Model repositories are created on their first push under the mlship/ prefix; models are known at run time.',
    );
    allow(
      role,
      { actions: ['kms:CreateGrant', 'kms:RetireGrant', 'kms:DescribeKey'], resources: [props.encryptionKey.keyArn] },
      'no wildcard',
    );
    this.template = new ecr.CfnRepositoryCreationTemplate(this, 'Template', {
      prefix,
      appliedFor: ['CREATE_ON_PUSH'],
      description: 'mlship: one image repository per model, created by its first push',
      imageTagMutability: 'IMMUTABLE',
      encryptionConfiguration: { encryptionType: 'KMS', kmsKey: props.encryptionKey.keyArn },
      lifecyclePolicy: JSON.stringify({
        rules: [
          {
            rulePriority: 1,
            description: `keep the newest ${maxImages} images`,
            selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: maxImages },
            action: { type: 'expire' },
          },
        ],
      }),
      customRoleArn: role.roleArn,
    });
  }
}
