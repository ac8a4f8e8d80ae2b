import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import type * as ecr from 'aws-cdk-lib/aws-ecr';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { posix } from 'node:path';
import type { DiscoveredModel } from '../../config';
import { acknowledgeCodeBuildDefaults, allow } from '../iam';
import { acknowledge } from '../nag';

/** Properties of {@link ModelBuildProject}. */
export interface ModelBuildProjectProps {
  readonly model: DiscoveredModel;
  /** `<buildProjectPrefix><model>`: StartBuild finds the project by this name. */
  readonly projectName: string;
  /** Holds `source/<model>/<commit>.zip` (input) and `builds/<model>/...` (output). */
  readonly artifactBucket: s3.IBucket;
  /** Encrypts build output and logs. */
  readonly encryptionKey: kms.IKey;
  /** The model's image repository; the build pushes `<uri>:<commit>`. */
  readonly imageRepository: ecr.IRepository;
  /**
   * Retention of the build logs.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * The CodeBuild project a release's BuildImage state starts: the model's own buildspec,
 * run on the commit's source zip, privileged so that it can build the Docker image, with
 * the image repository and encryption key in its environment.
 *
 * The project's S3 source names the model's folder of source zips; StartBuild overrides
 * it with the commit's zip (`sourceLocationOverride`) and sets the artifacts to the
 * version's folder (`builds/<model>/<version>/`). The project itself declares no
 * artifacts: CDK's S3 artifacts would grant read/write on the whole bucket.
 */
export class ModelBuildProject extends Construct {
  readonly project: codebuild.Project;

  constructor(scope: Construct, id: string, props: ModelBuildProjectProps) {
    super(scope, id);
    const { manifest, dir } = props.model;
    const buildspec = posix.join(dir, manifest.build.buildspec);
    if (buildspec.startsWith('..') || posix.isAbsolute(manifest.build.buildspec)) {
      throw new Error(`${props.model.file}: build.buildspec must stay inside the model directory, got "${manifest.build.buildspec}"`);
    }
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.project = new codebuild.Project(this, 'Project', {
      projectName: props.projectName,
      description: `mlship: build, smoke-test, train and package ${manifest.name}`,
      source: codebuild.Source.s3({ bucket: props.artifactBucket, path: `source/${manifest.name}/` }),
      buildSpec: codebuild.BuildSpec.fromSourceFilename(buildspec),
      environment: {
        buildImage: codebuild.LinuxBuildImage.STANDARD_7_0,
        computeType: manifest.build.computeType as codebuild.ComputeType,
        privileged: true,
        environmentVariables: {
          IMAGE_BUILDER: { value: 'docker' },
          IMAGE_REPOSITORY_URI: { value: props.imageRepository.repositoryUri },
          MODEL: { value: manifest.name },
          MODEL_DIR: { value: dir },
        },
      },
      encryptionKey: props.encryptionKey,
      timeout: Duration.seconds(manifest.build.timeout),
      logging: { cloudWatch: { logGroup } },
    });
    props.imageRepository.grantPullPush(this.project);

    const role = this.project.role!;
    const objects =
      'The build reads its commit zip under source/<model>/ and writes the bundle under builds/<model>/<version>/; keys are known at run time.';
    allow(role, { actions: ['s3:GetObject'], resources: [`${props.artifactBucket.bucketArn}/source/${manifest.name}/*`] }, objects);
    allow(role, { actions: ['s3:PutObject'], resources: [`${props.artifactBucket.bucketArn}/builds/${manifest.name}/*`] }, objects);
    acknowledgeCodeBuildDefaults(this.project);
    acknowledge(this.project, {
      'AwsSolutions-CB3':
        "Privileged mode is required to build the model image with Docker (IMAGE_BUILDER=docker); the build runs only the repository's own buildspec.",
    });
    const sourceWhy =
      "CDK's S3 source grants its read set on the project's source location (source/<model>/) and the bucket's metadata, which CodeBuild reads before downloading.";
    acknowledge(role, {
      'AwsSolutions-IAM5[Resource::*]': 'ecr:GetAuthorizationToken (docker login) does not support resource-level permissions.',
      'AwsSolutions-IAM5[Action::s3:GetObject*]': sourceWhy,
      'AwsSolutions-IAM5[Action::s3:GetBucket*]': sourceWhy,
      'AwsSolutions-IAM5[Action::s3:List*]': sourceWhy,
    });
  }
}
