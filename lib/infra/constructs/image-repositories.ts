import { RemovalPolicy } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

/** Properties of {@link ImageRepositories}. */
export interface ImageRepositoriesProps {
  /** Model names; one repository each. */
  readonly models: readonly string[];
  /** Repository name for a model (see `resourceNames().imageRepository`). */
  readonly repositoryName: (model: string) => string;
  /** Encrypts the images. */
  readonly encryptionKey: kms.IKey;
  /**
   * Images kept per repository; older ones are expired by a lifecycle rule.
   * @default 100
   */
  readonly maxImages?: number;
  /**
   * What happens to the repositories when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * One ECR repository per model. Tags are immutable so that a registry version's image URI
 * always means the same image; each build therefore pushes a tag of its own,
 * `<commit>-<build number>` (see the example buildspecs), since a commit may be built again
 * (a retraining release, a "Release change", a retry). The registry keeps tag and digest.
 */
export class ImageRepositories extends Construct {
  private readonly byModel = new Map<string, ecr.Repository>();

  constructor(scope: Construct, id: string, props: ImageRepositoriesProps) {
    super(scope, id);
    const maxImages = props.maxImages ?? 100;
    if (!Number.isInteger(maxImages) || maxImages < 1)
      throw new Error(`${this.node.path}: maxImages must be a whole number >= 1, got ${maxImages}`);
    const duplicate = props.models.find((m, i) => props.models.indexOf(m) !== i);
    if (duplicate) throw new Error(`${this.node.path}: model "${duplicate}" is listed twice`);

    for (const model of props.models) {
      this.byModel.set(
        model,
        new ecr.Repository(this, model, {
          repositoryName: props.repositoryName(model),
          imageTagMutability: ecr.TagMutability.IMMUTABLE,
          imageScanOnPush: true,
          encryption: ecr.RepositoryEncryption.KMS,
          encryptionKey: props.encryptionKey,
          lifecycleRules: [{ description: `keep the newest ${maxImages} images`, maxImageCount: maxImages }],
          removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
        }),
      );
    }
  }

  /** The repository of a model. @throws Error naming the model when it has none */
  repository(model: string): ecr.IRepository {
    const repo = this.byModel.get(model);
    if (!repo) throw new Error(`${this.node.path}: no image repository for model "${model}"`);
    return repo;
  }

  /** Every repository, in model order. */
  get repositories(): ecr.IRepository[] {
    return [...this.byModel.values()];
  }
}
