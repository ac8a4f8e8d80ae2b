import { BatchGetBuildsCommand, type Build, type CodeBuildClient } from '@aws-sdk/client-codebuild';
import type { S3Client } from '@aws-sdk/client-s3';
import { BuildFailedError } from '../shared/errors';
import { updateVersion } from '../shared/registry';

export interface CheckBuildDeps {
  s3: S3Client;
  codebuild: CodeBuildClient;
  bucket: string;
  now: () => Date;
}

/** The statuses the IsBuildDone Choice knows; every one but IN_PROGRESS ends the loop. */
export const BUILD_STATUSES = ['IN_PROGRESS', 'SUCCEEDED', 'FAILED', 'FAULT', 'STOPPED', 'TIMED_OUT'] as const;
export type BuildStatus = (typeof BUILD_STATUSES)[number];

export interface CheckBuildResult {
  status: BuildStatus;
  /** The first phase that did not succeed; `EXPORTED_VARIABLES` when a build succeeded without exporting IMAGE_URI. */
  failedPhase: string | null;
  logLink: string | null;
  imageUri: string | null;
}

/** `arn:aws:s3:::bucket/key` (CodeBuild's artifact location) to `s3://bucket/key/`. */
function artifactsUri(build: Build): string | null {
  const location = build.artifacts?.location;
  if (!location) return null;
  const path = location.startsWith('arn:aws:s3:::') ? location.slice('arn:aws:s3:::'.length) : location.replace(/^s3:\/\//, '');
  return `s3://${path.replace(/\/?$/, '/')}`;
}

function failedPhaseOf(build: Build): string | null {
  const phase = build.phases?.find((p) => p.phaseStatus !== undefined && p.phaseStatus !== 'SUCCEEDED' && p.phaseStatus !== 'IN_PROGRESS');
  return phase?.phaseType ?? null;
}

/**
 * Map BatchGetBuilds to the small status the state machine's Choice reads, and record the
 * image and bundle on the version once the build has succeeded.
 */
export async function checkBuild(
  deps: CheckBuildDeps,
  input: { model: string; version: string; buildId: string },
): Promise<CheckBuildResult> {
  const out = await deps.codebuild.send(new BatchGetBuildsCommand({ ids: [input.buildId] }));
  const build = out.builds?.[0];
  if (!build) throw new BuildFailedError(`CodeBuild has no build ${input.buildId}${out.buildsNotFound?.length ? ' (not found)' : ''}`);
  const raw = build.buildStatus ?? 'IN_PROGRESS';
  if (!(BUILD_STATUSES as readonly string[]).includes(raw))
    throw new BuildFailedError(`build ${input.buildId} has an unknown status ${raw}`);
  let status = raw as BuildStatus;
  let failedPhase = status === 'SUCCEEDED' || status === 'IN_PROGRESS' ? null : failedPhaseOf(build);
  const logLink = build.logs?.deepLink ?? null;
  if (status === 'IN_PROGRESS') return { status, failedPhase, logLink, imageUri: null };

  const exported = new Map((build.exportedEnvironmentVariables ?? []).map((v) => [v.name, v.value]));
  const imageUri = exported.get('IMAGE_URI') || null;
  const imageDigest = exported.get('IMAGE_DIGEST') || null;
  if (status === 'SUCCEEDED' && !imageUri) {
    // The buildspec must export IMAGE_URI: without it nothing can be deployed, which is a
    // failed build, not an error of the workflow.
    status = 'FAILED';
    failedPhase = 'EXPORTED_VARIABLES';
  }
  await updateVersion(
    deps,
    input.model,
    input.version,
    (r, at) => ({
      ...r,
      status: status === 'SUCCEEDED' ? 'built' : r.status,
      build: {
        projectName: r.build?.projectName ?? build.projectName ?? '',
        buildId: input.buildId,
        startedAt: r.build?.startedAt ?? build.startTime?.toISOString() ?? at,
        status,
        imageUri,
        imageDigest,
        artifactsUri: artifactsUri(build) ?? r.build?.artifactsUri ?? null,
        logLink,
        failedPhase,
        finishedAt: build.endTime?.toISOString() ?? at,
      },
    }),
    deps.now,
  );
  return { status, failedPhase, logLink, imageUri };
}
