/**
 * Physical-name conventions the task functions rely on.
 *
 * Most resources keep CloudFormation-generated names. These few are looked up by name at
 * run time (a build project per model, an image repository per model, the rollback alarms
 * a deployment watches), so the functions receive the prefix through `TASK_ENV` and append
 * the model name; this module is the one place that spells the prefixes.
 */
export interface ResourceNames {
  /** Prefix of every named resource, e.g. `mlship`. */
  readonly prefix: string;
  /** `BUILD_PROJECT_PREFIX`: project name = prefix + model. */
  readonly buildProjectPrefix: string;
  /** `IMAGE_REPOSITORY_PREFIX`: repository name = prefix + model. */
  readonly imageRepositoryPrefix: string;
  /** `ROLLBACK_ALARM_PREFIX`: alarms `<prefix><model>-5xx` and `<prefix><model>-p99-latency`. */
  readonly rollbackAlarmPrefix: string;
  buildProject(model: string): string;
  imageRepository(model: string): string;
  testProject(model: string): string;
  /**
   * The model's release pipeline. Named, not generated: its release stage asks CodePipeline
   * what started its execution (GetPipelineExecution needs the name, and a pipeline cannot
   * reference its own generated name in its own definition).
   */
  pipeline(model: string): string;
  /** The one pipeline of every model (issue 17): its release stage starts the releases a push asks for. */
  readonly deliveryPipeline: string;
  /** The one build project of every model (issue 17); under `buildProjectPrefix`, so the tasks' grants on `<prefix>*` cover it. */
  readonly sharedBuildProject: string;
  /** The stack of per-model drift schedules and rollback alarms, deployed by the delivery pipeline. */
  readonly modelsStack: string;
}

const PREFIX = /^[a-z][a-z0-9-]{1,19}$/;

/**
 * The names for one deployment of mlship.
 * @param prefix lowercase letters, digits and dashes, 2-20 characters
 * @throws Error when the prefix would make invalid CodeBuild, ECR or CloudWatch names
 */
export function resourceNames(prefix = 'mlship'): ResourceNames {
  if (!PREFIX.test(prefix)) {
    throw new Error(`resource prefix "${prefix}": must be 2-20 lowercase letters, digits and dashes, starting with a letter`);
  }
  const buildProjectPrefix = `${prefix}-build-`;
  const imageRepositoryPrefix = `${prefix}/`;
  return {
    prefix,
    buildProjectPrefix,
    imageRepositoryPrefix,
    rollbackAlarmPrefix: `${prefix}-rollback-`,
    buildProject: (model) => `${buildProjectPrefix}${model}`,
    imageRepository: (model) => `${imageRepositoryPrefix}${model}`,
    testProject: (model) => `${prefix}-test-${model}`,
    pipeline: (model) => `${prefix}-release-${model}`,
    deliveryPipeline: `${prefix}-delivery`,
    sharedBuildProject: `${buildProjectPrefix}models`,
    modelsStack: `${prefix}-models`,
  };
}
