import { ArnFormat, CfnOutput, Fn, Stack, type StackProps } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import type { DiscoveredModel } from '../../config';
import { SAGEMAKER_NAME_PREFIX } from '../../../lambdas/shared/names';
import { WORKFLOWS } from '../../tasks';
import { PLACEHOLDERS } from '../app-config';
import { ApproverPolicy } from '../constructs/approver-policy';
import { DriftSchedule } from '../constructs/drift-schedule';
import { ModelBuildProject } from '../constructs/model-build-project';
import { ModelPipeline, type PipelineSource } from '../constructs/model-pipeline';
import { ReleaseStarter } from '../constructs/release-starter';
import { RequiredValues } from '../constructs/required-values';
import { RollbackAlarms } from '../constructs/rollback-alarms';
import { SageMakerExecutionRole } from '../constructs/sagemaker-execution-role';
import { TrainingPermissions } from '../constructs/training-permissions';
import { SageMakerTeardown } from '../constructs/sagemaker-teardown';
import { TaskFunctions } from '../constructs/task-functions';
import { TaskPermissions } from '../constructs/task-permissions';
import { Workflow } from '../constructs/workflow';
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
}

/**
 * Everything stateless: the task functions, the release and drift state machines, and per
 * model a pipeline, a build project, a drift schedule and rollback alarms; plus the
 * SageMaker execution role and the approvers' policy. It only composes constructs.
 */
export class PlatformStack extends Stack {
  readonly release: Workflow;
  readonly driftCheck: Workflow;
  readonly approverPolicy: ApproverPolicy;

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id, props);
    if (!props.models.length) throw new Error(`${id}: no models to deliver; add models/<name>/model.yaml`);
    const { names } = props;
    const stateful = this.importStateful(props);
    const { keyArn, artifactBucketArn, artifactBucketName, topicArn } = stateful;

    // The release machine has a fixed name: tasks and the approver policy address it, and
    // the functions it calls cannot depend on it (that would be a cycle).
    const releaseName = `${names.prefix}-release`;
    const releaseArn = this.formatArn({
      service: 'states',
      resource: 'stateMachine',
      resourceName: releaseName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });

    const sagemaker = new SageMakerExecutionRole(this, 'SageMaker', { repositories: stateful.repositories, artifactBucketArn, keyArn });
    const functions = new TaskFunctions(this, 'Tasks', {
      repoRoot: props.repoRoot,
      environment: {
        artifactBucket: artifactBucketName,
        notificationTopicArn: topicArn,
        releaseStateMachineArn: releaseArn,
        buildProjectPrefix: names.buildProjectPrefix,
        sagemakerRoleArn: sagemaker.role.roleArn,
        imageRepositoryPrefix: names.imageRepositoryPrefix,
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
      sagemakerRoleArn: sagemaker.role.roleArn,
      rollbackAlarmPrefix: names.rollbackAlarmPrefix,
    });

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
      pipelineNames: props.models.map((m) => names.pipeline(m.manifest.name)),
    });
    this.addModels(props, stateful, this.pipelineSource(props.source), starter);
    this.approverPolicy = this.addApprovers(functions, { artifactBucketArn, keyArn, releaseArn, releaseName });
    new CfnOutput(this, 'ReleaseStateMachineArn', {
      value: this.release.stateMachine.stateMachineArn,
      description: 'mlship console --aws --state-machine <this>',
    });
    new CfnOutput(this, 'DriftCheckStateMachineArn', { value: this.driftCheck.stateMachine.stateMachineArn });
    new CfnOutput(this, 'SageMakerRoleArn', { value: sagemaker.role.roleArn });
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
    const repositories = props.models.map((m) =>
      ecr.Repository.fromRepositoryName(this, `Image-${m.manifest.name}`, props.names.imageRepository(m.manifest.name)),
    );
    return { keyArn, artifactBucketArn, artifactBucketName, topicArn, key, artifactBucket, pipelineArtifactBucket, topic, repositories };
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

  /** Per model: its pipeline, build project, drift schedule and rollback alarms. */
  private addModels(
    props: PlatformStackProps,
    stateful: ReturnType<PlatformStack['importStateful']>,
    source: PipelineSource,
    starter: ReleaseStarter,
  ): void {
    const { names } = props;
    props.models.forEach((model, i) => {
      const name = model.manifest.name;
      new ModelPipeline(this, `Pipeline-${name}`, {
        model,
        source,
        branch: props.source.branch,
        artifactBucket: stateful.pipelineArtifactBucket,
        encryptionKey: stateful.key,
        releaseStarter: starter.function,
        testProjectName: names.testProject(name),
        pipelineName: names.pipeline(name),
      });
      new ModelBuildProject(this, `Build-${name}`, {
        model,
        projectName: names.buildProject(name),
        artifactBucket: stateful.artifactBucket,
        encryptionKey: stateful.key,
        imageRepository: stateful.repositories[i]!,
      });
      new DriftSchedule(this, `Drift-${name}`, {
        model: name,
        schedule: model.manifest.drift.schedule,
        stateMachine: this.driftCheck.stateMachine,
      });
      new RollbackAlarms(this, `Rollback-${name}`, {
        manifest: model.manifest,
        alarmPrefix: names.rollbackAlarmPrefix,
        topic: stateful.topic,
      });
    });
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
