import { RemovalPolicy } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as codecommit from 'aws-cdk-lib/aws-codecommit';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as cpactions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { DiscoveredModel } from '../../config';
import { MAX_PATH_GLOBS } from '../../config';
import { acknowledgeCodeBuildDefaults, nagSpelling } from '../iam';
import { acknowledge } from '../nag';

/** Where the pipelines read the repository from. */
export type PipelineSource =
  | {
      readonly provider: 'codeconnections';
      /** The CodeConnections (CodeStar Connections) connection ARN. */
      readonly connectionArn: string;
      readonly owner: string;
      readonly repo: string;
    }
  | {
      readonly provider: 'codecommit';
      readonly repositoryName: string;
    };

/** Properties of {@link ModelPipeline}. */
export interface ModelPipelineProps {
  readonly model: DiscoveredModel;
  readonly source: PipelineSource;
  /**
   * The branch whose pushes release the model.
   * @default the manifest's `branch`
   */
  readonly branch?: string;
  /** CodePipeline's artifact store (with its encryption key set). */
  readonly artifactBucket: s3.IBucket;
  /** Encrypts the test project's output and logs. */
  readonly encryptionKey: kms.IKey;
  /** The release stage's function (see ReleaseStarter). */
  readonly releaseStarter: lambda.IFunction;
  /** Name of the test CodeBuild project. */
  readonly testProjectName: string;
  /** Name of the pipeline; the release stage passes it to the release function, which asks what started the execution. */
  readonly pipelineName: string;
  /**
   * How a push that arrives while a release stage runs is handled.
   * @default codepipeline.ExecutionMode.QUEUED
   */
  readonly executionMode?: codepipeline.ExecutionMode;
  /**
   * Retention of the test project's logs.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * A model's CodePipeline V2: Source (a push to the branch that touches the manifest's
 * `paths`) -> Test (the model's tests in CodeBuild) -> Release (copy the source zip and
 * start the release execution, without waiting for it).
 */
export class ModelPipeline extends Construct {
  readonly pipeline: codepipeline.Pipeline;
  readonly testProject: codebuild.PipelineProject;

  constructor(scope: Construct, id: string, props: ModelPipelineProps) {
    super(scope, id);
    const { manifest } = props.model;
    const branch = props.branch ?? manifest.branch;
    if (!branch) throw new Error(`${this.node.path}: branch must not be empty`);
    if (manifest.paths.length > MAX_PATH_GLOBS) {
      throw new Error(
        `${props.model.file}: paths: at most ${MAX_PATH_GLOBS} globs (the CodePipeline V2 limit), got ${manifest.paths.length}`,
      );
    }
    if (props.executionMode === codepipeline.ExecutionMode.PARALLEL) {
      throw new Error(`${this.node.path}: executionMode PARALLEL would start two releases of one model at once; use QUEUED or SUPERSEDED`);
    }

    const sourceOutput = new codepipeline.Artifact('Source');
    const sourceAction = this.sourceAction(props, branch, sourceOutput);
    this.testProject = this.newTestProject(props);
    this.pipeline = new codepipeline.Pipeline(this, 'Pipeline', {
      pipelineName: props.pipelineName,
      pipelineType: codepipeline.PipelineType.V2,
      executionMode: props.executionMode ?? codepipeline.ExecutionMode.QUEUED,
      artifactBucket: props.artifactBucket,
      restartExecutionOnUpdate: false,
      stages: [
        { stageName: 'Source', actions: [sourceAction] },
        {
          stageName: 'Test',
          actions: [new cpactions.CodeBuildAction({ actionName: 'Test', project: this.testProject, input: sourceOutput })],
        },
        {
          stageName: 'Release',
          actions: [
            new cpactions.LambdaInvokeAction({
              actionName: 'StartRelease',
              lambda: props.releaseStarter,
              inputs: [sourceOutput],
              userParameters: {
                model: manifest.name,
                commitId: sourceAction.variables.commitId,
                pipelineExecutionId: '#{codepipeline.PipelineExecutionId}',
                // CodePipeline has no variable for the pipeline's own name.
                pipelineName: props.pipelineName,
              },
            }),
          ],
        },
      ],
      // Only a push to the branch that touches one of the model's paths starts it; a
      // CodeCommit source has no file-path filters, so there every push to the branch does.
      triggers:
        sourceAction instanceof cpactions.CodeStarConnectionsSourceAction
          ? [
              {
                providerType: codepipeline.ProviderType.CODE_STAR_SOURCE_CONNECTION,
                gitConfiguration: { sourceAction, pushFilter: [{ branchesIncludes: [branch], filePathsIncludes: [...manifest.paths] }] },
              },
            ]
          : undefined,
    });

    this.acknowledgeGrants(props);
  }

  /** The Source action of the pipeline's provider, with its own role. */
  private sourceAction(
    props: ModelPipelineProps,
    branch: string,
    sourceOutput: codepipeline.Artifact,
  ): cpactions.CodeStarConnectionsSourceAction | cpactions.CodeCommitSourceAction {
    const { manifest } = props.model;
    // An explicit action role, so that the connection grant below lands where the source
    // action runs. CDK grants codestar-connections:UseConnection; a connection created since
    // the service's rename has a codeconnections ARN, and IAM matches the prefix of the ARN.
    const sourceRole = new iam.Role(this, 'SourceRole', {
      assumedBy: new iam.AccountRootPrincipal(),
      description: `mlship: source action of ${manifest.name}`,
    });
    if (props.source.provider === 'codeconnections') {
      sourceRole.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: ['codeconnections:UseConnection'], resources: [props.source.connectionArn] }),
      );
    }
    return props.source.provider === 'codeconnections'
      ? new cpactions.CodeStarConnectionsSourceAction({
          actionName: 'Source',
          connectionArn: props.source.connectionArn,
          owner: props.source.owner,
          repo: props.source.repo,
          branch,
          output: sourceOutput,
          variablesNamespace: 'SourceVariables',
          role: sourceRole,
        })
      : new cpactions.CodeCommitSourceAction({
          actionName: 'Source',
          repository: codecommit.Repository.fromRepositoryName(this, 'Repository', props.source.repositoryName),
          branch,
          output: sourceOutput,
          variablesNamespace: 'SourceVariables',
          trigger: cpactions.CodeCommitTrigger.EVENTS,
          role: sourceRole,
        });
  }

  /** The Test stage's CodeBuild project: the model's node:test suites. */
  private newTestProject(props: ModelPipelineProps): codebuild.PipelineProject {
    const { manifest, dir } = props.model;
    const testLogs = new logs.LogGroup(this, 'TestLogs', {
      retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    return new codebuild.PipelineProject(this, 'Test', {
      projectName: props.testProjectName,
      description: `mlship: tests of ${manifest.name} (${dir}/test)`,
      environment: { buildImage: codebuild.LinuxBuildImage.STANDARD_7_0, computeType: codebuild.ComputeType.SMALL },
      encryptionKey: props.encryptionKey,
      logging: { cloudWatch: { logGroup: testLogs } },
      buildSpec: codebuild.BuildSpec.fromObject({
        version: '0.2',
        phases: {
          // The models' tests are dependency-free node:test files (as their buildspecs
          // run them), so the stage needs no npm install.
          install: { 'runtime-versions': { nodejs: 22 } },
          build: { commands: [`node --test ${dir}/test/*.test.mjs`] },
        },
      }),
    });
  }

  /** What CDK grants the pipeline and its actions on run-time keys, acknowledged by name. */
  private acknowledgeGrants(props: ModelPipelineProps): void {
    const objects = 'The pipeline artifact store holds run-time object keys; CDK grants its standard artifact read/write set on it.';
    acknowledgeCodeBuildDefaults(this.testProject);
    acknowledge(this.testProject.role!, {
      'AwsSolutions-IAM5[Action::s3:GetObject*]': objects,
      'AwsSolutions-IAM5[Action::s3:GetBucket*]': objects,
      'AwsSolutions-IAM5[Action::s3:List*]': objects,
      [`AwsSolutions-IAM5[Resource::${nagSpelling(this, `${props.artifactBucket.bucketArn}/*`)}]`]: objects,
    });
    // The pipeline's role, the source role and the roles CDK makes for the other actions.
    acknowledge(this, {
      [`AwsSolutions-IAM5[Resource::${nagSpelling(this, `${props.artifactBucket.bucketArn}/*`)}]`]: objects,
      [`AwsSolutions-IAM5[Resource::${nagSpelling(this, `${props.releaseStarter.functionArn}:*`)}]`]:
        'CDK grants the invoke action lambda:InvokeFunction on the release function and its versions; the pipeline calls the unqualified function.',
      'AwsSolutions-IAM5[Resource::*]':
        'CodePipeline invokes the release function through an action role whose CDK default policy includes lambda:ListFunctions, which has no resource-level permissions.',
      'AwsSolutions-IAM5[Action::s3:GetObject*]': objects,
      'AwsSolutions-IAM5[Action::s3:GetBucket*]': objects,
      'AwsSolutions-IAM5[Action::s3:List*]': objects,
      'AwsSolutions-IAM5[Action::s3:DeleteObject*]': objects,
      'AwsSolutions-IAM5[Action::s3:Abort*]': objects,
      'AwsSolutions-IAM5[Action::kms:ReEncrypt*]':
        'Artifacts are encrypted with the platform key; CDK grants the pipeline its encrypt/decrypt set on that one key.',
      'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]':
        'Artifacts are encrypted with the platform key; CDK grants the pipeline its encrypt/decrypt set on that one key.',
    });
  }
}
