import { Validations, type App, type Environment } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { assertUniqueNames, type DiscoveredModel } from '../config';
import type { AppConfig } from './app-config';
import { resourceNames } from './naming';
import { ModelsStack, type ModelsStackProps } from './stacks/models-stack';
import { PlatformStack } from './stacks/platform-stack';
import { StatefulStack, type StatefulExports } from './stacks/stateful-stack';

/** What {@link buildApp} needs; bin/app.ts gathers it from context and the environment. */
export interface BuildAppProps {
  /** Repository root: handlers, state machines, lock file. */
  readonly repoRoot: string;
  /** The models to deliver. */
  readonly models: readonly DiscoveredModel[];
  /** Checked deployment settings (see `resolveAppConfig`). */
  readonly config: AppConfig;
  /**
   * Add cdk-nag's AwsSolutions checks as a validation plugin, so that any finding not
   * acknowledged fails the synthesis.
   * @default true
   */
  readonly nag?: boolean;
}

/** The two stacks of an mlship deployment. */
export interface MlshipStacks {
  readonly stateful: StatefulStack;
  readonly platform: PlatformStack;
  /** Each model's drift schedule and rollback alarms; the delivery pipeline deploys it when a manifest changes. */
  readonly modelsStack: ModelsStack;
}

/** Compose the stateful and platform stacks on `app`. */
export function buildApp(app: App, props: BuildAppProps): MlshipStacks {
  // The same check as `mlship up` and a push, so a caller that did not go through
  // discoverModels cannot deploy two manifests under one name either.
  assertUniqueNames(props.models);
  const { config } = props;
  const env: Environment | undefined = config.account || config.region ? { account: config.account, region: config.region } : undefined;
  const names = resourceNames();
  const stateful = new StatefulStack(app, 'mlship-stateful', {
    env,
    description: 'mlship: artifact bucket, key, image repositories, notifications (retained)',
    names,
    notificationEmail: config.notificationEmail,
  });
  const platform = new PlatformStack(app, 'mlship-platform', {
    env,
    description: 'mlship: task functions, release and drift workflows, the delivery pipeline and build project of every model',
    repoRoot: props.repoRoot,
    models: props.models,
    names,
    stateful: stateful.exportNames,
    source: {
      provider: config.sourceProvider,
      connectionArn: config.connectionArn,
      repository: config.repository,
      codecommitRepository: config.codecommitRepository,
      branch: config.branch,
    },
    cdkContextArgs: contextArgs(config),
  });
  platform.addStackDependency(stateful, 'imports the named exports of the stateful stack');
  const models = new ModelsStack(app, names.modelsStack, {
    env,
    description: "mlship: each model's drift schedule and rollback alarms (deployed by the delivery pipeline)",
    models: props.models,
    names,
    topicArnExport: stateful.exportNames.topicArn,
    driftCheckArnExport: platform.driftCheckArnExport,
    pullRequestChecks: pullRequestChecks(config, stateful.exportNames),
  });
  models.addStackDependency(platform, 'imports the drift-check state machine');
  if (props.nag ?? true) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { stateful, platform, modelsStack: models };
}

/**
 * Pull-request checks need a GitHub repository through a CodeConnections connection, known at
 * synth (the models stack has no RequiredValues placeholders): without them, no checks.
 */
function pullRequestChecks(config: AppConfig, exports: StatefulExports): ModelsStackProps['pullRequestChecks'] {
  if ((config.sourceProvider ?? 'codeconnections') !== 'codeconnections' || !config.connectionArn || !config.repository) return undefined;
  const [owner, repo] = config.repository.split('/') as [string, string];
  return {
    connectionArn: config.connectionArn,
    owner,
    repo,
    branch: config.branch,
    artifactBucketNameExport: exports.artifactBucketName,
    keyArnExport: exports.keyArn,
  };
}

/**
 * The context the delivery pipeline's `cdk deploy` of the models stack needs to land where
 * this deployment is: the values given here, spelled as `-c key=value` (none are secrets).
 */
function contextArgs(config: AppConfig): string {
  const values: Record<string, string | undefined> = {
    account: config.account,
    region: config.region,
    branch: config.branch,
    sourceProvider: config.sourceProvider,
    connectionArn: config.connectionArn,
    repository: config.repository,
    codecommitRepository: config.codecommitRepository,
  };
  return Object.entries(values)
    .filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== '')
    .map(([k, v]) => `-c ${k}=${/^[\w:/.@+=,-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`}`)
    .join(' ');
}
