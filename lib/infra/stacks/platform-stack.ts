import { ArnFormat, CfnOutput, Fn, Stack, type StackProps } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import type { DiscoveredModel } from '../../config';
import { SAGEMAKER_NAME_PREFIX, VARIANT_NAME } from '../../../lambdas/shared/names';
import { OPTIONAL_TASK_ENV, WORKFLOWS } from '../../tasks';
import { PLACEHOLDERS } from '../app-config';
import { ApproverPolicy } from '../constructs/approver-policy';
import { DeliveryPipeline, type PipelineSource } from '../constructs/delivery-pipeline';
import { ModelDashboard } from '../constructs/model-dashboard';
import { ReleaseStarter } from '../constructs/release-starter';
import { RequiredValues } from '../constructs/required-values';
import { SageMakerExecutionRole } from '../constructs/sagemaker-execution-role';
import { TrainingPermissions } from '../constructs/training-permissions';
import { SageMakerTeardown } from '../constructs/sagemaker-teardown';
import { SharedBuildProject } from '../constructs/shared-build-project';
import { TaskFunctions } from '../constructs/task-functions';
import { TaskPermissions } from '../constructs/task-permissions';
import { ScheduledFunctions } from '../constructs/scheduled-functions';
import { Workflow } from '../constructs/workflow';
import { nagSpelling } from '../iam';
import { acknowledge } from '../nag';
import type { ResourceNames } from '../naming';
import type { StatefulExports } from './stateful-stack';

/** Where the pipelines read the repository from; missing values become placeholders. */
export interface SourceSettings {
  /** @default codeconnections */
  readonly provider?: 'codeconnections' | 'codecommit';
  readonly connectionArn?: string;
  /** `owner/name`. */
  readonly repository?: string;
  readonly codecommitRepository?: string;
  /**
   * Overrides the branch of every manifest.
   * @default each manifest's `branch`
   */
  readonly branch?: string;
}

/** Properties of {@link PlatformStack}. */
export interface PlatformStackProps extends StackProps {
  /** Repository root (handlers, state machines, lock file). */
  readonly repoRoot: string;
  /** The models to deliver (lib/config `discoverModels`). */
  readonly models: readonly DiscoveredModel[];
  readonly names: ResourceNames;
  /** Export names of the stateful stack. */
  readonly stateful: StatefulExports;
  readonly source: SourceSettings;
  /**
   * `-c key=value ...` the delivery pipeline passes to `cdk deploy` of the models stack (the
   * deployment's account, region, ...), so that it deploys where this stack is.
   * @default ''
   */
  readonly cdkContextArgs?: string;
}

/**
 * Everything stateless: the task functions, the release and drift state machines, the one
 * delivery pipeline and the one build project of every model, the SageMaker execution role
 * and the approvers' policy. Nothing in it is per model (issue 17): a model's drift schedule
 * and rollback alarms are in the models stack, which the pipeline deploys. It only composes
 * constructs.
 */
export class PlatformStack extends Stack {
  readonly release: Workflow;
  readonly driftCheck: Workflow;
  readonly approverPolicy: ApproverPolicy;
  readonly delivery: DeliveryPipeline;
  readonly build: SharedBuildProject;

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id, props);
    if (!props.models.length) throw new Error(`${id}: no models to deliver; add models/<name>/model.yaml`);
    const { names } = props;
    const stateful = this.importStateful(props);
    const { keyArn, artifactBucketArn, artifactBucketName } = stateful;

    // The release machine has a fixed name: tasks and the approver policy address it, and
    // the functions it calls cannot depend on it (that would be a cycle).
    const releaseName = `${names.prefix}-release`;
    const releaseArn = this.formatArn({
      service: 'states',
      resource: 'stateMachine',
      resourceName: releaseName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });

    const sagemaker = this.sageMakerRole(stateful);
    const functions = this.addTasks(props, stateful, { releaseArn, releaseName, sagemakerRoleArn: sagemaker.role.roleArn });

    const functionOf = functions.function.bind(functions);
    this.release = new Workflow(this, 'Release', {
      ...WORKFLOWS.release,
      functionOf,
      alarmTopic: stateful.topic,
      stateMachineName: releaseName,
    });
    new TrainingPermissions(this, 'Training', {
      releaseRole: this.release.stateMachine.role,
      sagemakerRole: sagemaker.role,
      sagemakerPrefix: SAGEMAKER_NAME_PREFIX,
      artifactBucketArn,
      models: props.models,
    });
    this.driftCheck = new Workflow(this, 'DriftCheck', { ...WORKFLOWS.driftCheck, functionOf, alarmTopic: stateful.topic });
    // cdk destroy: the endpoints, configs and models the tasks made go too. The release
    // machine depends on it, so it is deleted first and no release makes new ones meanwhile.
    const teardown = new SageMakerTeardown(this, 'SageMakerTeardown', {
      repoRoot: props.repoRoot,
      sagemakerPrefix: SAGEMAKER_NAME_PREFIX,
      releaseStateMachineArn: releaseArn,
    });
    this.release.stateMachine.node.addDependency(teardown.resource);

    const starter = new ReleaseStarter(this, 'ReleaseStarter', {
      repoRoot: props.repoRoot,
      artifactBucketName,
      artifactBucketArn,
      pipelineArtifactBucketArn: stateful.pipelineArtifactBucket.bucketArn,
      keyArn,
      releaseStateMachineArn: releaseArn,
      pipelineNames: [names.deliveryPipeline],
    });
    ({ build: this.build, delivery: this.delivery } = this.addDelivery(
      props,
      stateful,
      this.pipelineSource(props.source),
      starter,
      functions,
    ));
    // One dashboard for every model (issue 20): no per-model resources, see the construct.
    new ModelDashboard(this, 'Dashboard', {
      dashboardName: `${names.prefix}-models`,
      sagemakerPrefix: SAGEMAKER_NAME_PREFIX,
      variantName: VARIANT_NAME,
    });
    this.approverPolicy = this.addApprovers(functions, { artifactBucketArn, keyArn, releaseArn, releaseName });
    this.addOutputs(sagemaker.role.roleArn);
  }

  /** The task functions with their permissions, and the scheduled functions (the weekly report). */
  private addTasks(
    props: PlatformStackProps,
    stateful: ReturnType<PlatformStack['importStateful']>,
    { releaseArn, releaseName, sagemakerRoleArn }: { releaseArn: string; releaseName: string; sagemakerRoleArn: string },
  ): TaskFunctions {
    const { names } = props;
    const { keyArn, artifactBucketArn, artifactBucketName, topicArn } = stateful;
    const functions = new TaskFunctions(this, 'Tasks', {
      repoRoot: props.repoRoot,
      environment: {
        artifactBucket: artifactBucketName,
        notificationTopicArn: topicArn,
        releaseStateMachineArn: releaseArn,
        buildProjectPrefix: names.buildProjectPrefix,
        sagemakerRoleArn: sagemakerRoleArn,
        // The repository URI without the model: the build pushes `<this><model>:<tag>`.
        imageRepositoryPrefix: `${this.account}.dkr.ecr.${this.region}.${this.urlSuffix}/${names.imageRepositoryPrefix}`,
        kmsKeyId: keyArn,
        rollbackAlarmPrefix: names.rollbackAlarmPrefix,
      },
    });
    new TaskPermissions(this, 'TaskPermissions', {
      functions,
      artifactBucketArn,
      keyArn,
      topicArn,
      releaseStateMachineArn: releaseArn,
      releaseStateMachineName: releaseName,
      buildProjectPrefix: names.buildProjectPrefix,
      sagemakerPrefix: SAGEMAKER_NAME_PREFIX,
      sagemakerRoleArn: sagemakerRoleArn,
      rollbackAlarmPrefix: names.rollbackAlarmPrefix,
    });

    // The weekly report (and any other scheduled function): EventBridge rule -> Lambda -> S3 + SNS.
    new ScheduledFunctions(this, 'Scheduled', {
      repoRoot: props.repoRoot,
      artifactBucketName,
      artifactBucketArn,
      keyArn,
      topicArn,
      deployment: this.stackName,
    });
    return functions;
  }

  private addOutputs(sagemakerRoleArn: string): void {
    new CfnOutput(this, 'ReleaseStateMachineArn', {
      value: this.release.stateMachine.stateMachineArn,
      description: 'mlship console --aws --state-machine <this>',
    });
    new CfnOutput(this, 'DriftCheckStateMachineArn', {
      value: this.driftCheck.stateMachine.stateMachineArn,
      // The models stack's drift schedules start it.
      exportName: this.driftCheckArnExport,
    });
    new CfnOutput(this, 'SageMakerRoleArn', { value: sagemakerRoleArn });
  }

  /** The stateful stack's key, buckets and topic (by export), and each model's image repository. */
  private importStateful(props: PlatformStackProps) {
    const imp = (name: string) => Fn.importValue(name);
    const keyArn = imp(props.stateful.keyArn);
    const artifactBucketArn = imp(props.stateful.artifactBucketArn);
    const artifactBucketName = imp(props.stateful.artifactBucketName);
    const topicArn = imp(props.stateful.topicArn);
    const key = kms.Key.fromKeyArn(this, 'Key', keyArn);
    const artifactBucket = s3.Bucket.fromBucketAttributes(this, 'Artifacts', {
      bucketArn: artifactBucketArn,
      bucketName: artifactBucketName,
      encryptionKey: key,
    });
    const pipelineArtifactBucket = s3.Bucket.fromBucketAttributes(this, 'PipelineArtifacts', {
      bucketArn: imp(props.stateful.pipelineArtifactBucketArn),
      bucketName: imp(props.stateful.pipelineArtifactBucketName),
      encryptionKey: key,
    });
    const topic = sns.Topic.fromTopicArn(this, 'Topic', topicArn);
    // Every model's repository (created on its first push), as one name pattern.
    const repositories = [
      ecr.Repository.fromRepositoryAttributes(this, 'Images', {
        repositoryArn: this.formatArn({
          service: 'ecr',
          resource: 'repository',
          resourceName: `${props.names.imageRepositoryPrefix}*`,
          arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
        }),
        repositoryName: `${props.names.imageRepositoryPrefix}*`,
      }),
    ];
    return { keyArn, artifactBucketArn, artifactBucketName, topicArn, key, artifactBucket, pipelineArtifactBucket, topic, repositories };
  }

  /** The endpoints' role: it pulls from every model's repository, created on the model's first push. */
  private sageMakerRole(stateful: ReturnType<PlatformStack['importStateful']>): SageMakerExecutionRole {
    const { artifactBucketArn, keyArn } = stateful;
    const sagemaker = new SageMakerExecutionRole(this, 'SageMaker', { repositories: stateful.repositories, artifactBucketArn, keyArn });
    acknowledge(sagemaker.role, {
      [`AwsSolutions-IAM5[Resource::${nagSpelling(this, stateful.repositories[0]!.repositoryArn)}]`]:
        "Endpoints pull their model's image from mlship/<model>, a repository ECR creates on the model's first push; models are known at run time.",
    });
    return sagemaker;
  }

  /** Where the pipelines read the repository; a value not given is a placeholder that refuses to deploy. */
  private pipelineSource(settings: SourceSettings): PipelineSource {
    const codeconnections = (settings.provider ?? 'codeconnections') === 'codeconnections';
    const required = new RequiredValues(this, 'Required', {
      values: codeconnections
        ? [
            {
              name: 'connectionArn',
              value: settings.connectionArn,
              placeholder: PLACEHOLDERS.connectionArn,
              hint: 'deploy with -c connectionArn=arn:aws:codeconnections:<region>:<account>:connection/<id>',
            },
            {
              name: 'repository',
              value: settings.repository,
              placeholder: PLACEHOLDERS.repository,
              hint: 'deploy with -c repository=<owner>/<name>',
            },
          ]
        : [
            {
              name: 'codecommitRepository',
              value: settings.codecommitRepository,
              placeholder: PLACEHOLDERS.codecommitRepository,
              hint: 'deploy with -c sourceProvider=codecommit -c codecommitRepository=<name>',
            },
          ],
    });
    if (!codeconnections) return { provider: 'codecommit', repositoryName: required.value('codecommitRepository') };
    const repository = required.value('repository');
    return {
      provider: 'codeconnections',
      connectionArn: required.value('connectionArn'),
      owner: Fn.select(0, Fn.split('/', repository)),
      repo: Fn.select(1, Fn.split('/', repository)),
    };
  }

  /** Export name of the drift-check state machine's ARN, which the models stack imports. */
  get driftCheckArnExport(): string {
    return `${this.stackName}-driftCheckStateMachineArn`;
  }

  /**
   * The one delivery pipeline and the one build project of every model. The pipeline's
   * branches are those the manifests name at synth (or the `branch` override); a model on a
   * branch no manifest used before needs one deployment of this stack.
   */
  private addDelivery(
    props: PlatformStackProps,
    stateful: ReturnType<PlatformStack['importStateful']>,
    source: PipelineSource,
    starter: ReleaseStarter,
    functions: TaskFunctions,
  ): { build: SharedBuildProject; delivery: DeliveryPipeline } {
    const { names } = props;
    const branches = props.source.branch ? [props.source.branch] : [...new Set(props.models.map((m) => m.manifest.branch))].sort();
    const build = new SharedBuildProject(this, 'Build', {
      projectName: names.sharedBuildProject,
      artifactBucket: stateful.artifactBucket,
      encryptionKey: stateful.key,
      imageRepositoryPrefix: names.imageRepositoryPrefix,
    });
    functions.function('PrepareRelease').addEnvironment(OPTIONAL_TASK_ENV.buildProject, names.sharedBuildProject);
    const delivery = new DeliveryPipeline(this, 'Delivery', {
      source,
      branches,
      pipelineName: names.deliveryPipeline,
      artifactBucket: stateful.pipelineArtifactBucket,
      encryptionKey: stateful.key,
      releaseStarter: starter.function,
      modelsStackName: names.modelsStack,
      cdkContextArgs: props.cdkContextArgs ?? '',
    });
    return { build, delivery };
  }

  /**
   * Approvers decide through DecideApproval's function URL: IAM authenticates them and
   * passes their identity to the function, the only holder of task tokens and SendTask*.
   */
  private addApprovers(
    functions: TaskFunctions,
    r: { artifactBucketArn: string; keyArn: string; releaseArn: string; releaseName: string },
  ): ApproverPolicy {
    const decide = functions.function('DecideApproval');
    const decideUrl = decide.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM });
    const policy = new ApproverPolicy(this, 'Approvers', {
      artifactBucketArn: r.artifactBucketArn,
      keyArn: r.keyArn,
      releaseStateMachineArn: r.releaseArn,
      releaseStateMachineName: r.releaseName,
      decideFunctionArn: decide.functionArn,
    });
    new CfnOutput(this, 'DecideApprovalUrl', {
      value: decideUrl.url,
      description: 'mlship approve|reject|console --aws --decide-url <this>',
    });
    new CfnOutput(this, 'ApproverPolicyArn', {
      value: policy.policy.managedPolicyArn,
      description: 'Attach to the people who approve releases',
    });
    return policy;
  }
}
