import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import picomatch from 'picomatch';
import type { DiscoveredModel } from '../../config';
import { acknowledgeCodeBuildDefaults, allow } from '../iam';

/** Properties of {@link PullRequestCheck}. */
export interface PullRequestCheckProps {
  readonly model: DiscoveredModel;
  /** The GitHub repository, reached through a CodeConnections connection (the pipelines' own). */
  readonly source: { readonly provider: 'codeconnections'; readonly connectionArn: string; readonly owner: string; readonly repo: string };
  /**
   * Pull requests into this branch are checked.
   * @default the manifest's `branch`
   */
  readonly branch?: string;
  /** Holds production's bundle (`builds/<model>/`), its registry record (`registry/<model>/`) and the check's reports (`checks/<model>/`). */
  readonly artifactBucket: s3.IBucket;
  /** Encrypts the bucket, the build output and the logs. */
  readonly encryptionKey: kms.IKey;
  readonly projectName: string;
  /**
   * Retention of the check's logs (when it has its own log group).
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Shared by every model's check (issue 17: no per-model role or log group). The role is used
   * as given and gets no statement from this construct ({@link PullRequestCheckRole} holds its
   * grants); the log group gets one stream prefix per model.
   * @default a role and a log group of this check's own, scoped to its model
   */
  readonly shared?: { readonly role: iam.IRole; readonly logGroup: logs.ILogGroup };
}

/**
 * CodeBuild's FILE_PATH filter is one regular expression; the manifest's `paths` are globs with
 * the local push trigger's meaning (picomatch, dot files ordinary), so the same files match here.
 */
export function pathsRegex(globs: readonly string[]): string {
  return globs.map((g) => picomatch.makeRe(g.replace(/^\.\//, ''), { dot: true, strictSlashes: false }).source).join('|');
}

/**
 * A model's pull-request check on AWS (issue 21): a CodeBuild project whose GitHub webhook starts
 * a build for a pull request into the release branch that touches the model's paths, and reports
 * the build's status on the pull request (a commit status linking to the build, whose log ends
 * with the verdict and the quality report's location). The build runs `mlship check <model>
 * --in-build`: the model's buildspec (tests, lint, smoke run, training) in the build container,
 * then candidate and production scored by their model servers in the container on the SageMaker
 * contract, judged by the release's evaluation code. It deploys nothing, and its role has no
 * SageMaker permission: it reads production's bundle and record, and writes under `checks/<model>/`.
 *
 * Chosen over CodePipeline V2 pull-request triggers: a webhook build costs only its build
 * minutes and reports status to the pull request itself (README-INFRA compares the two).
 */
export class PullRequestCheck extends Construct {
  readonly project: codebuild.Project;

  constructor(scope: Construct, id: string, props: PullRequestCheckProps) {
    super(scope, id);
    const { manifest } = props.model;
    const branch = props.branch ?? manifest.branch;
    const logGroup =
      props.shared?.logGroup ??
      new logs.LogGroup(this, 'Logs', {
        retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
        removalPolicy: RemovalPolicy.DESTROY,
      });
    const trigger = codebuild.FilterGroup.inEventOf(
      codebuild.EventAction.PULL_REQUEST_CREATED,
      codebuild.EventAction.PULL_REQUEST_UPDATED,
      codebuild.EventAction.PULL_REQUEST_REOPENED,
    )
      // andBaseBranchIs would give the unanchored regex refs/heads/<branch>, which also matches <branch>-old.
      .andBaseRefIs(`^refs/heads/${branch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`)
      .andFilePathIs(pathsRegex(manifest.paths));
    this.project = new codebuild.Project(this, 'Project', {
      projectName: props.projectName,
      description: `mlship: pull-request check of ${manifest.name} (build, tests, training, offline evaluation against production)`,
      source: codebuild.Source.gitHub({
        owner: props.source.owner,
        repo: props.source.repo,
        webhook: true,
        reportBuildStatus: true,
        webhookFilters: [trigger],
      }),
      buildSpec: codebuild.BuildSpec.fromObject({
        version: '0.2',
        phases: {
          install: { 'runtime-versions': { nodejs: 22 }, commands: ['npm ci'] },
          build: { commands: [`npx tsx bin/mlship.ts check ${manifest.name} --in-build --bucket "$ARTIFACT_BUCKET"`] },
        },
      }),
      environment: {
        buildImage: codebuild.LinuxBuildImage.STANDARD_7_0,
        computeType: manifest.build.computeType as codebuild.ComputeType,
        environmentVariables: { ARTIFACT_BUCKET: { value: props.artifactBucket.bucketName } },
      },
      encryptionKey: props.encryptionKey,
      timeout: Duration.seconds(manifest.build.timeout * 2),
      logging: { cloudWatch: { logGroup, prefix: props.shared ? manifest.name : undefined } },
      // Imported immutable: CDK adds no per-project statement to the shared role.
      role: props.shared ? iam.Role.fromRoleArn(this, 'SharedRole', props.shared.role.roleArn, { mutable: false }) : undefined,
    });
    // The GitHub source through the pipelines' CodeConnections connection (no OAuth token in the account).
    (this.project.node.defaultChild as codebuild.CfnProject).addPropertyOverride('Source.Auth', {
      Type: 'CODECONNECTIONS',
      Resource: props.source.connectionArn,
    });
    if (!props.shared) this.grant(props);
  }

  private grant(props: PullRequestCheckProps): void {
    const name = props.model.manifest.name;
    const role = this.project.role!;
    const bucket = props.artifactBucket.bucketArn;
    const why = "The check reads production's record and bundle and writes its report; keys are known at run time.";
    allow(role, { actions: ['s3:GetObject'], resources: [`${bucket}/registry/${name}/*`, `${bucket}/builds/${name}/*`] }, why);
    allow(
      role,
      { actions: ['s3:ListBucket'], resources: [bucket], conditions: { StringLike: { 's3:prefix': [`builds/${name}/*`] } } },
      why,
    );
    allow(role, { actions: ['s3:PutObject'], resources: [`${bucket}/checks/${name}/*`] }, why);
    allow(role, { actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [props.encryptionKey.keyArn] }, why);
    allow(
      role,
      { actions: ['codeconnections:GetConnectionToken', 'codeconnections:GetConnection'], resources: [props.source.connectionArn] },
      'CodeBuild clones the pull request through the connection.',
    );
    acknowledgeCodeBuildDefaults(this.project);
  }
}

/** Properties of {@link PullRequestCheckRole}. */
export interface PullRequestCheckRoleProps {
  readonly artifactBucketArn: string;
  readonly keyArn: string;
  readonly connectionArn: string;
}

/**
 * The one role and log group every model's pull-request check shares (issue 17: IAM roles
 * independent of the model count). The price: a model's check may read every model's
 * production record and bundle and write every model's `checks/` reports, where a role per
 * model was scoped to its own; it still has no SageMaker permission and deploys nothing.
 */
export class PullRequestCheckRole extends Construct {
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: PullRequestCheckRoleProps) {
    super(scope, id);
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('codebuild.amazonaws.com'),
      description: "mlship: every model's pull-request check (no SageMaker permission)",
    });
    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: logs.RetentionDays.THREE_MONTHS, removalPolicy: RemovalPolicy.DESTROY });
    const role = this.role;
    const bucket = props.artifactBucketArn;
    const why = "A check reads production's record and bundle and writes its report; models and keys are known at run time.";
    allow(role, { actions: ['s3:GetObject'], resources: [`${bucket}/registry/*`, `${bucket}/builds/*`] }, why);
    allow(role, { actions: ['s3:ListBucket'], resources: [bucket], conditions: { StringLike: { 's3:prefix': ['builds/*'] } } }, why);
    allow(role, { actions: ['s3:PutObject'], resources: [`${bucket}/checks/*`] }, why);
    allow(role, { actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [props.keyArn] }, why);
    allow(
      role,
      { actions: ['codeconnections:GetConnectionToken', 'codeconnections:GetConnection'], resources: [props.connectionArn] },
      'CodeBuild clones the pull request through the connection.',
    );
    allow(
      role,
      { actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [`${this.logGroup.logGroupArn}`] },
      'Each build writes its own streams, named at run time, in the shared log group.',
    );
  }
}
