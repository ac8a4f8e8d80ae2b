import { StartBuildCommand, type CodeBuildClient, type EnvironmentVariable } from '@aws-sdk/client-codebuild';
import { sha256Hex } from '../shared/bundle';
import { BuildFailedError } from '../shared/errors';
import { keys, parseS3Uri } from '../shared/names';
import { readVersion, updateVersion } from '../shared/registry';
import type { S3Client } from '@aws-sdk/client-s3';

export interface StartBuildDeps {
  s3: S3Client;
  codebuild: CodeBuildClient;
  bucket: string;
  /** `IMAGE_REPOSITORY_PREFIX`; the build pushes to `<prefix><model>` when set. */
  imageRepositoryPrefix: string | undefined;
  now: () => Date;
}

export interface StartBuildInput {
  model: string;
  version: string;
  executionId: string;
  projectName: string;
}

/**
 * Start the model's CodeBuild build from the commit's source archive, with the model's
 * buildspec and the version's artifact folder. The idempotency token makes a retried
 * invocation return the build the first attempt started.
 */
export async function startBuild(deps: StartBuildDeps, input: StartBuildInput): Promise<{ buildId: string }> {
  const { value: record } = await readVersion(deps, input.model, input.version);
  const source = parseS3Uri(record.source.uri);
  const env: EnvironmentVariable[] = [
    { name: 'MODEL_NAME', value: input.model, type: 'PLAINTEXT' },
    { name: 'MODEL_VERSION', value: input.version, type: 'PLAINTEXT' },
    // The image tag is `<commit>-<build number>`: the ECR repositories are IMMUTABLE, and a
    // retraining release, a pipeline "Release change" or a retry rebuilds a commit that was
    // pushed already. CodeBuild assigns the number only when the build starts and does not
    // expand variables in overrides, so the buildspec appends $CODEBUILD_BUILD_NUMBER.
    { name: 'IMAGE_TAG_PREFIX', value: record.commitId, type: 'PLAINTEXT' },
    { name: 'MODEL_DIR', value: `models/${input.model}`, type: 'PLAINTEXT' },
    // Why the release runs (push | drift | manual): a model's build may train on the most
    // recent labelled data when drift started it, instead of its pinned snapshot.
    { name: 'MLSHIP_TRIGGER', value: record.trigger, type: 'PLAINTEXT' },
  ];
  if (deps.imageRepositoryPrefix)
    env.push(
      { name: 'IMAGE_REPOSITORY', value: `${deps.imageRepositoryPrefix}${input.model}`, type: 'PLAINTEXT' },
      // What the buildspecs push to; with one build project for every model (issue 17) it
      // can no longer be a variable of the project.
      { name: 'IMAGE_REPOSITORY_URI', value: `${deps.imageRepositoryPrefix}${input.model}`, type: 'PLAINTEXT' },
    );

  const out = await deps.codebuild.send(
    new StartBuildCommand({
      projectName: input.projectName,
      sourceTypeOverride: 'S3',
      sourceLocationOverride: `${source.bucket}/${source.key}`,
      buildspecOverride: `models/${input.model}/${record.manifest.build.buildspec}`,
      environmentVariablesOverride: env,
      computeTypeOverride: record.manifest.build.computeType,
      // Whole minutes in CodeBuild's 5-2160 range, checked when the manifest loaded: never
      // silently raised or cut here.
      timeoutInMinutesOverride: record.manifest.build.timeout / 60,
      artifactsOverride: {
        type: 'S3',
        location: deps.bucket,
        path: `builds/${input.model}`,
        name: input.version,
        namespaceType: 'NONE',
        packaging: 'NONE',
        overrideArtifactName: false,
      },
      idempotencyToken: sha256Hex(`${input.executionId}/${input.version}`).slice(0, 32),
    }),
  );
  const buildId = out.build?.id;
  if (!buildId) throw new BuildFailedError(`CodeBuild StartBuild of ${input.projectName} returned no build id`);
  await updateVersion(
    deps,
    input.model,
    input.version,
    (r, at) => ({
      ...r,
      build: {
        projectName: input.projectName,
        buildId,
        status: 'IN_PROGRESS',
        imageUri: null,
        imageDigest: null,
        artifactsUri: `s3://${deps.bucket}/${keys.build(input.model, input.version)}`,
        logLink: out.build?.logs?.deepLink ?? null,
        failedPhase: null,
        startedAt: at,
        finishedAt: null,
      },
    }),
    deps.now,
  );
  return { buildId };
}
