import { RemovalPolicy, Stack } from 'aws-cdk-lib';
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
import { acknowledgeCodeBuildDefaults, allow, nagSpelling } from '../iam';
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

/** Properties of {@link DeliveryPipeline}. */
export interface DeliveryPipelineProps {
  readonly source: PipelineSource;
  /** Every branch a manifest releases from (the trigger starts on a push to any of them); the first is the source action's default. */
  readonly branches: readonly string[];
  /** Name of the pipeline; the release stage passes it to the release function, which asks what started the execution. */
  readonly pipelineName: string;
  /** CodePipeline's artifact store (with its encryption key set). */
  readonly artifactBucket: s3.IBucket;
  /** Encrypts the reconcile project's output and logs. */
  readonly encryptionKey: kms.IKey;
  /** The release stage's function (see ReleaseStarter). */
  readonly releaseStarter: lambda.IFunction;
  /** The stack of per-model schedules and alarms that the reconcile stage deploys when a manifest changed. */
  readonly modelsStackName: string;
  /** `-c key=value ...` the reconcile stage passes to `cdk deploy` (the deployment's account, region, ...). */
  readonly cdkContextArgs: string;
  /**
   * The CDK bootstrap qualifier, whose deploy, file-publishing and lookup roles the reconcile stage assumes.
   * @default 'hnb659fds' (the CDK default)
   */
  readonly bootstrapQualifier?: string;
}

/**
 * The one CodePipeline V2 of every model: Source (a push to a models' branch) -> Release (the
 * release function finds the models the push touched and starts one release each, see
 * release-starter/changes.ts) -> Reconcile (when a manifest was added, changed or removed:
 * `cdk deploy` of the models stack, so a new model's drift schedule and rollback alarms come
 * and a removed model's go with the push, run by the pipeline, never by a person).
 *
 * Per model it holds nothing: its size, its roles and its trigger do not depend on how many
 * models the repository has (CodePipeline V2 allows 8 file-path globs per filter, so matching
 * each model's `paths` happens in the release stage instead of the trigger).
 */
export class DeliveryPipeline extends Construct {
  readonly pipeline: codepipeline.Pipeline;
  readonly reconcileProject: codebuild.PipelineProject;

  constructor(scope: Construct, id: string, props: DeliveryPipelineProps) {
    super(scope, id);
    const [branch] = props.branches;
    if (!branch || props.branches.some((b) => !b)) throw new Error(`${this.node.path}: branches must be non-empty names`);
    const sourceOutput = new codepipeline.Artifact('Source');
    const sourceAction = this.sourceAction(props, branch, sourceOutput);
    const release = new cpactions.LambdaInvokeAction({
      actionName: 'StartReleases',
      lambda: props.releaseStarter,
      inputs: [sourceOutput],
      variablesNamespace: 'Release',
      userParameters: {
        commitId: sourceAction.variables.commitId,
        branch: sourceAction.variables.branchName,
        pipelineExecutionId: '#{codepipeline.PipelineExecutionId}',
        // CodePipeline has no variable for the pipeline's own name.
        pipelineName: props.pipelineName,
      },
    });
    this.reconcileProject = this.newReconcileProject(props);
    this.pipeline = new codepipeline.Pipeline(this, 'Pipeline', {
      pipelineName: props.pipelineName,
      pipelineType: codepipeline.PipelineType.V2,
      executionMode: codepipeline.ExecutionMode.QUEUED,
      artifactBucket: props.artifactBucket,
      restartExecutionOnUpdate: false,
      stages: [
        { stageName: 'Source', actions: [sourceAction] },
        { stageName: 'Release', actions: [release] },
        {
          stageName: 'Reconcile',
          actions: [
            new cpactions.CodeBuildAction({
              actionName: 'DeployModelsStack',
              project: this.reconcileProject,
              input: sourceOutput,
              environmentVariables: { MANIFESTS_CHANGED: { value: release.variable('manifestsChanged') } },
            }),
          ],
        },
      ],
      // Every push to a models' branch; the release stage decides which models it touches. A
      // CodeCommit source has no trigger filters: every push to the default branch starts it.
      triggers:
        sourceAction instanceof cpactions.CodeStarConnectionsSourceAction
          ? [
              {
                providerType: codepipeline.ProviderType.CODE_STAR_SOURCE_CONNECTION,
                gitConfiguration: { sourceAction, pushFilter: [{ branchesIncludes: [...props.branches] }] },
              },
            ]
          : undefined,
    });
    this.acknowledgeGrants(props);
  }

  /** The Source action of the pipeline's provider, with its own role. */
  private sourceAction(
    props: DeliveryPipelineProps,
    branch: string,
    sourceOutput: codepipeline.Artifact,
  ): cpactions.CodeStarConnectionsSourceAction | cpactions.CodeCommitSourceAction {
    // An explicit action role, so that the connection grant below lands where the source
    // action runs (codeconnections: a connection created since the service's rename).
    const sourceRole = new iam.Role(this, 'SourceRole', {
      assumedBy: new iam.AccountRootPrincipal(),
      description: 'mlship: source action of the delivery pipeline',
    });
    if (props.source.provider === 'codeconnections') {
      sourceRole.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: ['codeconnections:UseConnection'], resources: [props.source.connectionArn] }),
      );
      return new cpactions.CodeStarConnectionsSourceAction({
        actionName: 'Source',
        connectionArn: props.source.connectionArn,
        owner: props.source.owner,
        repo: props.source.repo,
        branch,
        output: sourceOutput,
        variablesNamespace: 'SourceVariables',
        role: sourceRole,
      });
    }
    return new cpactions.CodeCommitSourceAction({
      actionName: 'Source',
      repository: codecommit.Repository.fromRepositoryName(this, 'Repository', props.source.repositoryName),
      branch,
      output: sourceOutput,
      variablesNamespace: 'SourceVariables',
      trigger: cpactions.CodeCommitTrigger.EVENTS,
      role: sourceRole,
    });
  }

  /** `cdk deploy` of the models stack, from the pushed repository, when the release stage says a manifest changed. */
  private newReconcileProject(props: DeliveryPipelineProps): codebuild.PipelineProject {
    const logGroup = new logs.LogGroup(this, 'ReconcileLogs', {
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const deploy = `npm ci --no-audit --no-fund && npx cdk deploy ${props.modelsStackName} --exclusively --require-approval never ${props.cdkContextArgs}`;
    const project = new codebuild.PipelineProject(this, 'Reconcile', {
      description: "mlship: deploy the models stack (drift schedules, rollback alarms) when a push changed a model's manifest",
      environment: { buildImage: codebuild.LinuxBuildImage.STANDARD_7_0, computeType: codebuild.ComputeType.SMALL },
      encryptionKey: props.encryptionKey,
      logging: { cloudWatch: { logGroup } },
      buildSpec: codebuild.BuildSpec.fromObject({
        version: '0.2',
        phases: {
          install: { 'runtime-versions': { nodejs: 22 } },
          build: {
            commands: [
              `if [ "$MANIFESTS_CHANGED" = "true" ]; then ${deploy}; else echo "no manifest changed: the models stack is up to date"; fi`,
            ],
          },
        },
      }),
    });
    // cdk deploy works through the bootstrap roles (CloudFormation, asset publishing, lookups).
    const stack = Stack.of(this);
    const qualifier = props.bootstrapQualifier ?? 'hnb659fds';
    const roles = ['deploy', 'file-publishing', 'lookup'].map((kind) =>
      stack.formatArn({
        service: 'iam',
        region: '',
        resource: 'role',
        resourceName: `cdk-${qualifier}-${kind}-role-${stack.account}-${stack.region}`,
      }),
    );
    allow(project.role as iam.Role, { actions: ['sts:AssumeRole'], resources: roles }, 'no wildcard');
    return project;
  }

  /** What CDK grants the pipeline and its actions on run-time keys, acknowledged by name. */
  private acknowledgeGrants(props: DeliveryPipelineProps): void {
    const objects = 'The pipeline artifact store holds run-time object keys; CDK grants its standard artifact read/write set on it.';
    acknowledgeCodeBuildDefaults(this.reconcileProject);
    acknowledge(this.reconcileProject.role!, {
      'AwsSolutions-IAM5[Action::s3:GetObject*]': objects,
      'AwsSolutions-IAM5[Action::s3:GetBucket*]': objects,
      'AwsSolutions-IAM5[Action::s3:List*]': objects,
      [`AwsSolutions-IAM5[Resource::${nagSpelling(this, `${props.artifactBucket.bucketArn}/*`)}]`]: objects,
    });
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
