/**
 * The local cloud's CodeBuild (`CodeBuild_20161006.*` over the AWS JSON protocol).
 *
 * One project per model manifest, named `mlship-build-<model>`. A build runs the model's
 * buildspec v0.2 with bash in a fresh workspace extracted from the source zip, as a child
 * process, asynchronously: StartBuild returns at once and BatchGetBuilds follows it. Its
 * artifacts become the model's "image": a deterministic tar bundle uploaded to S3 with its
 * sha256 digest, recorded in the local image index under the ECR image URI the AWS build
 * would push (see `services/ecr/`), and exported as `IMAGE_URI` / `IMAGE_DIGEST`.
 *
 * How a build runs (CodeBuild's semantics unless noted):
 * - Phases SUBMITTED .. COMPLETED are journaled as they happen (`<dataDir>/codebuild/builds/
 *   <project>/<uuid>.json`, written atomically), so BatchGetBuilds answers after a restart; a
 *   build that was running when the cloud stopped (crash or clean stop) runs again under its id
 *   from its saved StartBuild input (`codebuild/inputs/`) once `resumeInterrupted()` is called,
 *   as CodeBuild would have gone on with it; without that input it ends FAILED ("The local
 *   cloud stopped while this build was running").
 * - A bad or missing buildspec fails DOWNLOAD_SOURCE with YAML_FILE_ERROR naming the field.
 * - Each phase's commands run in ONE bash session started in CODEBUILD_SRC_DIR (`cd` and
 *   variables carry from command to command; variables also carry to later phases); the first
 *   failing command fails the phase (COMMAND_EXECUTION_ERROR), then `finally` runs. A failed
 *   INSTALL/PRE_BUILD skips to FINALIZING unless `on-failure: CONTINUE`; a failed BUILD still
 *   runs POST_BUILD with CODEBUILD_BUILD_SUCCEEDING=0.
 * - Environment precedence: environmentVariablesOverride > buildspec env.variables > base env;
 *   CodeBuild's own variables (CODEBUILD_BUILD_ID, _ARN, _NUMBER, _SRC_DIR, _SOURCE_VERSION,
 *   _RESOLVED_SOURCE_VERSION, _INITIATOR, _BUILD_SUCCEEDING, AWS_REGION, ...) are always set.
 * - UPLOAD_ARTIFACTS runs only for a build that has succeeded so far (CodeBuild would try it
 *   after a failed BUILD too; locally a failed build must never tag an image). No files
 *   matching is CLIENT_ERROR "no matching artifact paths found".
 * - The log is `<dataDir>/codebuild/logs/<project>/<uuid>.log` (`logs.deepLink` is its file:
 *   URL). Whatever a phase left running is killed when the build ends, as with the container.
 * - StopBuild kills the phase's process group: the phase and the build end STOPPED. The
 *   manifest's build.timeout (or timeoutInMinutesOverride) ends it TIMED_OUT.
 *
 * Factory options ({@link CodeBuildServiceOptions}):
 * - `dataDir` — the local cloud's data root, shared with the other services. CodeBuild keeps
 *   `<dataDir>/codebuild/{builds,logs,workspaces}` and writes the image index at
 *   `<dataDir>/images/<repo>/<tag>.json`, which SageMaker reads.
 * - `s3` — an S3 client pointed at the local S3 server (path style, checksums WHEN_REQUIRED).
 * - `bucket` — the artifact bucket; the default artifact location is
 *   `<bucket>/builds/<model>/<commit>`.
 * - `models` — the discovered manifests; each one makes a project. A function is accepted so
 *   the edge can hand over a list it refreshes.
 * - `region`, `accountId` — used in ARNs, image URIs and `AWS_REGION` of the build.
 * - `timeScale` — accepted for symmetry with SageMaker; build commands do real work, so
 *   nothing is scaled (the build timeout is the manifest's `build.timeout`).
 * - `env` — the base environment of build commands. @default PATH, HOME, LANG, TMPDIR and the
 *   AWS_* endpoint/credential variables of this process, so a build reaches the local cloud
 *   the way a CodeBuild role reaches AWS.
 * - `imageRepositoryPrefix` — ECR repository prefix. @default `mlship/`
 *
 * StartBuild input honoured: projectName, sourceVersion, sourceTypeOverride (S3),
 * sourceLocationOverride (`<bucket>/source/<model>/<commit>.zip`), buildspecOverride (a path
 * inside the source, or inline YAML), environmentVariablesOverride (PLAINTEXT),
 * artifactsOverride ({ type: S3, location: `<bucket>` or `<bucket>/<prefix>`, path?, name? }),
 * timeoutInMinutesOverride. The artifact prefix receives `bundle.tar`, `bundle.json` (the
 * bundle manifest) and `files/<path>` for every artifact file. BatchGetBuilds reports
 * `artifacts.location` = `arn:aws:s3:::<bucket>/<prefix>/files` (the folder of the files, as
 * CodeBuild reports it for packaging NONE) and `artifacts.sha256sum` = the bundle tar's digest.
 *
 * ListBuilds and ListBuildsForProject page 100 ids with an offset token; sortOrder is
 * DESCENDING (newest first) unless ASCENDING. ListBuilds orders by start time across
 * projects, ListBuildsForProject by build number, as CodeBuild documents.
 */
import { AwsServiceError, unknownOperation, type JsonService } from '../../core/service';
import { BuildManager } from './manager';
import type { CodeBuildServiceOptions } from './options';

export { parseBuildspec, BuildspecError, type Buildspec } from './buildspec';
export type { BuildRecord } from './journal';
export type { CodeBuildServiceOptions } from './options';

/** The local BUILD_PROJECT_PREFIX: project `mlship-build-<model>`. */
export const BUILD_PROJECT_PREFIX = 'mlship-build-';

/** The CodeBuild service, plus a way for the CLI/tests to wait for a build. */
export interface CodeBuildService extends JsonService {
  /** Resolves with the build's final record once it is no longer IN_PROGRESS. */
  waitForBuild(id: string): Promise<Record<string, unknown>>;
  /** Run the builds the last run was cut off in again (call once the edge serves; see BuildManager). */
  resumeInterrupted(): void;
  close(): Promise<void>;
}

/** Create the CodeBuild service; builds journaled by a previous run are loaded (a build cut off by a stop runs again at `resumeInterrupted()`). */
export function createCodeBuildService(opts: CodeBuildServiceOptions): CodeBuildService {
  const manager = new BuildManager({
    ...opts,
    projectPrefix: BUILD_PROJECT_PREFIX,
    imageRepositoryPrefix: opts.imageRepositoryPrefix ?? 'mlship/',
  });
  const str = (input: Record<string, unknown>, field: string): string => {
    const v = input[field];
    if (typeof v !== 'string' || v === '')
      throw new AwsServiceError('InvalidInputException', `${field} is required and must be a non-empty string`);
    return v;
  };
  // SortOrderType is an enum in the service model: AWS refuses anything else, and so do we.
  const sortOrder = (input: Record<string, unknown>): 'ASCENDING' | 'DESCENDING' => {
    const v = input.sortOrder ?? 'DESCENDING';
    if (v !== 'ASCENDING' && v !== 'DESCENDING')
      throw new AwsServiceError('InvalidInputException', `sortOrder must be ASCENDING or DESCENDING, not ${JSON.stringify(v)}`);
    return v;
  };
  return {
    targetPrefix: 'CodeBuild_20161006',
    async handle(operation, input) {
      switch (operation) {
        case 'StartBuild':
          return { build: await manager.start(input) };
        case 'BatchGetBuilds': {
          const ids = input.ids;
          if (!Array.isArray(ids) || ids.length === 0 || ids.length > 100) {
            throw new AwsServiceError('InvalidInputException', 'ids must be a list of 1 to 100 build ids');
          }
          return manager.batchGet(ids.map(String));
        }
        case 'StopBuild':
          return { build: await manager.stop(str(input, 'id')) };
        case 'ListBuildsForProject':
          return manager.listForProject(str(input, 'projectName'), sortOrder(input), input.nextToken as string | undefined);
        case 'ListBuilds':
          return manager.list(sortOrder(input), input.nextToken as string | undefined);
        case 'ListProjects':
          return { projects: manager.projectNames() };
        case 'BatchGetProjects': {
          const names = Array.isArray(input.names) ? input.names.map(String) : [];
          return manager.batchGetProjects(names);
        }
        default:
          throw unknownOperation('CodeBuild', operation);
      }
    },
    waitForBuild: (id) => manager.waitFor(id),
    resumeInterrupted: () => manager.resumeInterrupted(),
    close: () => manager.close(),
  };
}
