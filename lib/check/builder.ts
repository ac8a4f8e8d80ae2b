/**
 * How a check gets its candidate bundle: a build of the model's buildspec, through the local
 * cloud's CodeBuild (a branch push, `mlship check`) or in place inside a CodeBuild build (the
 * pull-request project on AWS, `mlship check --in-build`).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BatchGetBuildsCommand, StartBuildCommand, type Build, type CodeBuildClient } from '@aws-sdk/client-codebuild';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ModelManifest } from '../config';
import { parseS3Uri } from '../../lambdas/shared/names';
import { checkKeys } from './records';

export interface CheckInput {
  manifest: ModelManifest;
  /** The commit checked; for `mlship check` on a dirty tree, a snapshot commit on no branch. */
  commit: string;
  /** The branch pushed, or "working tree". */
  ref: string;
  dirty: boolean;
  /** The source archive (git archive --format=zip of `commit`); the CodeBuild builder needs it. */
  zip?: Buffer;
}

/** The candidate's build output on disk: the bundle root (model/, data/, the server). */
export interface BuiltCandidate {
  dir: string;
  buildId?: string;
  buildLog?: string;
}

export interface CheckBuilder {
  /** @throws CheckError when the build fails */
  build(input: CheckInput, checkId: string, workDir: string): Promise<BuiltCandidate>;
}

/** The check could not reach a verdict (the build failed, a model server did not answer). */
export class CheckError extends Error {
  constructor(
    message: string,
    readonly buildId?: string,
    readonly buildLog?: string,
  ) {
    super(message);
    this.name = 'CheckError';
  }
}

/** Every file under an s3:// folder, written below `dir`. */
export async function download(s3: S3Client, folderUri: string, dir: string): Promise<void> {
  const { bucket, key: prefix } = parseS3Uri(folderUri.replace(/\/?$/, '/'));
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) {
      const file = join(dir, o.Key!.slice(prefix.length));
      mkdirSync(dirname(file), { recursive: true });
      const body = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key! }));
      writeFileSync(file, await body.Body!.transformToByteArray());
    }
    token = page.NextContinuationToken;
  } while (token);
}

export interface CodeBuildBuilderDeps {
  s3: S3Client;
  codebuild: CodeBuildClient;
  bucket: string;
  /** CodeBuild project prefix (the local BUILD_PROJECT_PREFIX). @default mlship-build- */
  projectPrefix?: string;
  /** BatchGetBuilds poll interval. @default 1000 */
  pollMs?: number;
}

async function startCheckBuild(deps: CodeBuildBuilderDeps, input: CheckInput, checkId: string): Promise<string> {
  const model = input.manifest.name;
  const sourceKey = `source/${model}/${input.commit}.zip`;
  await deps.s3.send(new PutObjectCommand({ Bucket: deps.bucket, Key: sourceKey, Body: input.zip, ContentType: 'application/zip' }));
  const env = (name: string, value: string) => ({ name, value, type: 'PLAINTEXT' as const });
  const out = await deps.codebuild.send(
    new StartBuildCommand({
      projectName: `${deps.projectPrefix ?? 'mlship-build-'}${model}`,
      sourceTypeOverride: 'S3',
      sourceLocationOverride: `${deps.bucket}/${sourceKey}`,
      buildspecOverride: `models/${model}/${input.manifest.build.buildspec}`,
      environmentVariablesOverride: [
        env('MODEL_NAME', model),
        env('MODEL_VERSION', checkId),
        env('IMAGE_TAG_PREFIX', `check-${input.commit.slice(0, 12)}`),
        env('MODEL_DIR', `models/${model}`),
        // A build may train differently for a drift release; a check trains as a push does.
        env('MLSHIP_TRIGGER', 'push'),
      ],
      timeoutInMinutesOverride: input.manifest.build.timeout / 60,
      artifactsOverride: {
        type: 'S3',
        location: deps.bucket,
        path: checkKeys.folder(model, checkId),
        name: 'build',
        namespaceType: 'NONE',
        packaging: 'NONE',
      },
    }),
  );
  return out.build!.id!;
}

async function waitForBuild(deps: CodeBuildBuilderDeps, id: string): Promise<Build> {
  for (;;) {
    const build = (await deps.codebuild.send(new BatchGetBuildsCommand({ ids: [id] }))).builds?.[0];
    if (build && build.buildStatus !== 'IN_PROGRESS') return build;
    await new Promise((r) => setTimeout(r, deps.pollMs ?? 1000));
  }
}

/** The model's buildspec as a build of its CodeBuild project; the artifacts are downloaded under `workDir/candidate`. */
export function codeBuildBuilder(deps: CodeBuildBuilderDeps): CheckBuilder {
  return {
    async build(input, checkId, workDir) {
      if (!input.zip) throw new CheckError('the CodeBuild builder needs the source archive (zip)');
      const build = await waitForBuild(deps, await startCheckBuild(deps, input, checkId));
      if (build.buildStatus !== 'SUCCEEDED') {
        const phase = build.phases?.find((p) => p.phaseStatus && !['SUCCEEDED', 'IN_PROGRESS'].includes(p.phaseStatus))?.phaseType;
        throw new CheckError(`the build ${build.buildStatus}${phase ? ` in ${phase}` : ''}`, build.id, build.logs?.deepLink);
      }
      const dir = join(workDir, 'candidate');
      // CodeBuild reports the artifacts as arn:aws:s3:::bucket/prefix/files.
      await download(deps.s3, `s3://${build.artifacts!.location!.replace(/^arn:aws:s3:::/, '')}/`, dir);
      return { dir, buildId: build.id, buildLog: build.logs?.deepLink };
    },
  };
}
