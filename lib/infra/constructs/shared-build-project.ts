import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledgeCodeBuildDefaults, allow } from '../iam';
import { acknowledge } from '../nag';

/** Properties of {@link SharedBuildProject}. */
export interface SharedBuildProjectProps {
  /** The one project every model's BuildImage state starts (`BUILD_PROJECT_NAME`). */
  readonly projectName: string;
  /** Holds `source/<model>/<commit>.zip` (input) and `builds/<model>/...` (output). */
  readonly artifactBucket: s3.IBucket;
  /** Encrypts build output and logs. */
  readonly encryptionKey: kms.IKey;
  /** `mlship/`: the build pushes `<prefix><model>`; ECR creates the repository on the first push (see ImageRepositories). */
  readonly imageRepositoryPrefix: string;
  /**
   * Retention of the build logs.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * One CodeBuild project for every model's build, so a new model needs no new resource.
 *
 * Everything that differs per model comes with StartBuild (lambdas/start-build): the source
 * zip (`sourceLocationOverride`), the model's buildspec (`buildspecOverride`), its compute
 * type and timeout, its artifact folder and the variables MODEL_NAME, MODEL_DIR and
 * IMAGE_REPOSITORY_URI. The role is scoped by name, not per model: `source/*` to read,
 * `builds/*` to write, image repositories `<prefix>*` to push. The price of sharing: one
 * model's build could write another's prefix; the buildspecs are the repository's own code,
 * reviewed like it (a model's build has always run with the repository's whole source).
 */
export class SharedBuildProject extends Construct {
  readonly project: codebuild.Project;

  constructor(scope: Construct, id: string, props: SharedBuildProjectProps) {
    super(scope, id);
    if (!/^[a-z][a-z0-9-]*\/$/.test(props.imageRepositoryPrefix))
      throw new Error(`${this.node.path}: imageRepositoryPrefix must look like "mlship/", got "${props.imageRepositoryPrefix}"`);
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.project = new codebuild.Project(this, 'Project', {
      projectName: props.projectName,
      description: "mlship: build, smoke-test, train and package a model (every model; StartBuild names the model's buildspec)",
      source: codebuild.Source.s3({ bucket: props.artifactBucket, path: 'source/' }),
      buildSpec: codebuild.BuildSpec.fromSourceFilename('buildspec.yml'),
      environment: {
        buildImage: codebuild.LinuxBuildImage.STANDARD_7_0,
        computeType: codebuild.ComputeType.SMALL,
        privileged: true,
        environmentVariables: { IMAGE_BUILDER: { value: 'docker' } },
      },
      encryptionKey: props.encryptionKey,
      timeout: Duration.hours(1),
      logging: { cloudWatch: { logGroup } },
    });
    this.grant(props);
  }

  private grant(props: SharedBuildProjectProps): void {
    const role = this.project.role!;
    const stack = Stack.of(this);
    const objects =
      'Builds read their commit zip under source/<model>/ and write the bundle under builds/<model>/<version>/; models and keys are known at run time.';
    allow(role, { actions: ['s3:GetObject'], resources: [`${props.artifactBucket.bucketArn}/source/*`] }, objects);
    allow(role, { actions: ['s3:PutObject'], resources: [`${props.artifactBucket.bucketArn}/builds/*`] }, objects);
    const repositories = stack.formatArn({
      service: 'ecr',
      resource: 'repository',
      resourceName: `${props.imageRepositoryPrefix}*`,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    allow(
      role,
      {
        actions: [
          'ecr:BatchCheckLayerAvailability',
          'ecr:BatchGetImage',
          'ecr:GetDownloadUrlForLayer',
          'ecr:InitiateLayerUpload',
          'ecr:UploadLayerPart',
          'ecr:CompleteLayerUpload',
          'ecr:PutImage',
          // A model's first push creates its repository from the creation template (CREATE_ON_PUSH).
          'ecr:CreateRepository',
        ],
        resources: [repositories],
      },
      "One image repository per model, created by ECR on the model's first push under the mlship/ prefix; models are known at run time.",
    );
    allow(
      role,
      { actions: ['ecr:GetAuthorizationToken'], resources: ['*'] },
      'ecr:GetAuthorizationToken (docker login) does not support resource-level permissions.',
    );
    acknowledgeCodeBuildDefaults(this.project);
    acknowledge(this.project, {
      'AwsSolutions-CB3':
        "Privileged mode is required to build the model image with Docker (IMAGE_BUILDER=docker); the build runs only the repository's own buildspec.",
    });
    const sourceWhy =
      "CDK's S3 source grants its read set on the project's source location (source/) and the bucket's metadata, which CodeBuild reads before downloading.";
    acknowledge(role, {
      'AwsSolutions-IAM5[Action::s3:GetObject*]': sourceWhy,
      'AwsSolutions-IAM5[Action::s3:GetBucket*]': sourceWhy,
      'AwsSolutions-IAM5[Action::s3:List*]': sourceWhy,
    });
  }
}
