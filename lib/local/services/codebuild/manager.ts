import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AwsServiceError, epochSeconds } from '../../core/service';
import { readJsonIfExists, writeJsonAtomic } from '../../core/fsutil';
import type { DiscoveredModel } from '../../../config';
import type { CodeBuildServiceOptions } from './options';
import { ImageIndex } from '../ecr';
import { BuildJournal, closePhase, type BuildRecord } from './journal';
import { executeBuild, stopBuild, type BuildHandle, type BuildPlan } from './run';

/** The service's options, with the project prefix and image repository prefix settled. */
export type BuildManagerOptions = Omit<CodeBuildServiceOptions, 'timeScale' | 'imageRepositoryPrefix'> & {
  projectPrefix: string;
  imageRepositoryPrefix: string;
};

const BASE_ENV_NAMES = [
  'PATH',
  'HOME',
  'LANG',
  'TMPDIR',
  'AWS_ENDPOINT_URL',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
];
/**
 * The developer's pip settings reach the build, as a CodeBuild project's environment would
 * carry them: a mirror, proxy or offline index set for pip in the shell works in the local
 * build too. (npm's are not passed: `npm run` fills the environment with npm_config_* of its own.)
 */
const BASE_ENV_PREFIXES = ['PIP_'];
const inheritedEnv = (): Record<string, string> =>
  Object.fromEntries(
    Object.entries(process.env).filter(
      (e): e is [string, string] =>
        e[1] !== undefined && (BASE_ENV_NAMES.includes(e[0]) || BASE_ENV_PREFIXES.some((p) => e[0].startsWith(p))),
    ),
  );

const invalid = (message: string) => new AwsServiceError('InvalidInputException', message);

/** Split `bucket/key`, `s3://bucket/key` or `arn:aws:s3:::bucket/key`. */
function splitS3Location(location: string, field: string): { bucket: string; key: string } {
  const rest = location.replace(/^arn:aws:s3:::/, '').replace(/^s3:\/\//, '');
  if (!rest || rest.startsWith('/')) throw invalid(`${field}: expected <bucket>/<key>, got "${location}"`);
  const slash = rest.indexOf('/');
  if (slash < 0) return { bucket: rest, key: '' };
  return { bucket: rest.slice(0, slash), key: rest.slice(slash + 1).replace(/\/+$/, '') };
}

/** StartBuild's timeoutInMinutesOverride, refused out of CodeBuild's range, or the manifest's build timeout. */
function buildTimeoutMinutes(input: Record<string, unknown>, model: DiscoveredModel): number {
  const timeoutMinutes =
    typeof input.timeoutInMinutesOverride === 'number'
      ? input.timeoutInMinutesOverride
      : Math.max(1, Math.ceil(model.manifest.build.timeout / 60));
  // CodeBuild's BuildTimeOut is 5..2160 minutes (botocore's model): refused, not rounded into range.
  if (input.timeoutInMinutesOverride !== undefined && (!Number.isInteger(timeoutMinutes) || timeoutMinutes < 5 || timeoutMinutes > 2160)) {
    const bound = timeoutMinutes < 5 ? 'greater than or equal to 5' : 'less than or equal to 2160';
    throw invalid(
      `1 validation error detected: Value '${String(input.timeoutInMinutesOverride)}' at 'timeoutInMinutesOverride' failed to satisfy constraint: Member must have value ${bound}`,
    );
  }
  return timeoutMinutes;
}

/** The CodeBuild API over the journal and the running builds. */
export class BuildManager {
  private readonly journal: BuildJournal;
  private readonly images: ImageIndex;
  private readonly running = new Map<string, { handle: BuildHandle; done: Promise<void>; timer: NodeJS.Timeout }>();
  private readonly root: string;
  /** Builds journaled IN_PROGRESS: their processes went with the cloud that ran them. */
  private interrupted: BuildRecord[];

  constructor(private readonly opts: BuildManagerOptions) {
    this.root = join(opts.dataDir, 'codebuild');
    this.journal = new BuildJournal(join(this.root, 'builds'));
    this.images = new ImageIndex(opts.dataDir);
    this.interrupted = this.journal.all().filter((b) => b.buildStatus === 'IN_PROGRESS');
  }

  private inputFile(id: string): string {
    return join(this.root, 'inputs', `${id.split(':').at(-1)}.json`);
  }

  /**
   * Run the builds the last run was cut off in again, under the same id, from their StartBuild
   * input: CodeBuild does not lose a build when its caller goes away, so a release polling it
   * (or redriven) sees it finish. One whose input is gone, or whose project no longer exists,
   * ends FAILED with BUILD_INTERRUPTED.
   */
  resumeInterrupted(): void {
    const builds = this.interrupted;
    this.interrupted = [];
    for (const rec of builds) {
      const input = readJsonIfExists<Record<string, unknown>>(this.inputFile(rec.id));
      let why = 'The local cloud stopped while this build was running';
      if (input) {
        try {
          this.start(input, rec);
          continue;
        } catch (err) {
          why = `${why}, and it could not run again: ${(err as Error).message}`;
        }
      }
      const phase = rec.phases.at(-1);
      if (phase && phase.phaseStatus === undefined) closePhase(phase, 'FAILED', { statusCode: 'BUILD_INTERRUPTED', message: why });
      rec.buildStatus = 'FAILED';
      rec.buildComplete = true;
      rec.endTime = epochSeconds();
      this.journal.save(rec);
    }
  }

  private models(): DiscoveredModel[] {
    return typeof this.opts.models === 'function' ? this.opts.models() : this.opts.models;
  }

  projectNames(): string[] {
    return this.models()
      .map((m) => `${this.opts.projectPrefix}${m.manifest.name}`)
      .sort();
  }

  private projectArn(name: string): string {
    return `arn:aws:codebuild:${this.opts.region}:${this.opts.accountId}:project/${name}`;
  }

  private modelOf(projectName: string): DiscoveredModel {
    const model = this.models().find((m) => `${this.opts.projectPrefix}${m.manifest.name}` === projectName);
    if (!model) throw new AwsServiceError('ResourceNotFoundException', `Project cannot be found: ${this.projectArn(projectName)}`);
    return model;
  }

  batchGetProjects(names: string[]) {
    const projects = [];
    const projectsNotFound = [];
    for (const name of names) {
      const model = this.models().find((m) => `${this.opts.projectPrefix}${m.manifest.name}` === name);
      if (!model) {
        projectsNotFound.push(name);
        continue;
      }
      projects.push({
        name,
        arn: this.projectArn(name),
        source: {
          type: 'S3',
          location: `${this.opts.bucket}/source/${model.manifest.name}/`,
          buildspec: `${model.dir}/${model.manifest.build.buildspec}`,
        },
        artifacts: { type: 'S3', location: this.opts.bucket, path: `builds/${model.manifest.name}` },
        environment: { type: 'LINUX_CONTAINER', image: 'local', computeType: model.manifest.build.computeType },
        timeoutInMinutes: Math.ceil(model.manifest.build.timeout / 60),
      });
    }
    return { projects, projectsNotFound };
  }

  /** StartBuild; `resumed` is a build of the last run to run again under its id (see resumeInterrupted). */
  start(input: Record<string, unknown>, resumed?: BuildRecord): BuildRecord {
    const projectName = typeof input.projectName === 'string' ? input.projectName : '';
    if (!projectName) throw invalid('projectName is required');
    const model = this.modelOf(projectName);
    const name = model.manifest.name;
    const { source, sourceVersion, commit } = this.sourceOf(input, name);

    const uuid = resumed?.id.split(':').at(-1) ?? randomUUID();
    const id = `${projectName}:${uuid}`;
    const arn = `arn:aws:codebuild:${this.opts.region}:${this.opts.accountId}:build/${id}`;
    const buildNumber = resumed?.buildNumber ?? this.journal.nextBuildNumber(projectName);
    const version = commit ?? `build-${buildNumber}`;
    const artifacts = this.artifactTarget(input.artifactsOverride, name, version);
    // `<commit>-<build number>`, as the AWS buildspecs tag: the repository's tags are
    // immutable, and a retraining release or a retry rebuilds a commit already pushed.
    const imageUri = `${this.opts.accountId}.dkr.ecr.${this.opts.region}.amazonaws.com/${this.opts.imageRepositoryPrefix}${name}:${version}-${buildNumber}`;

    const overrides = this.envOverrides(input.environmentVariablesOverride);
    const timeoutMinutes = buildTimeoutMinutes(input, model);
    const logPath = join(this.root, 'logs', projectName, `${uuid}.log`);
    const startTime = resumed?.startTime ?? epochSeconds();
    const workspaceRoot = join(this.root, 'workspaces', uuid);
    // A rerun starts from a clean workspace, as a new container would.
    if (resumed) {
      rmSync(workspaceRoot, { recursive: true, force: true });
      mkdirSync(dirname(logPath), { recursive: true });
      appendFileSync(
        logPath,
        `[Container] ${new Date().toISOString()} The local cloud stopped while this build was running; running it again\n`,
      );
    }
    const codebuildEnv: Record<string, string> = {
      ...Object.fromEntries(overrides.map((v) => [v.name, v.value])),
      ...this.codebuildVariables({ id, arn, buildNumber, uuid, workspaceRoot, sourceVersion, commit, source, startTime, logPath }),
    };
    const record: BuildRecord = {
      id,
      arn,
      buildNumber,
      projectName,
      buildStatus: 'IN_PROGRESS',
      currentPhase: 'SUBMITTED',
      buildComplete: false,
      startTime,
      sourceVersion,
      resolvedSourceVersion: commit,
      initiator: 'mlship-local',
      source: {
        type: 'S3',
        location: `${source.bucket}/${source.key}`,
        buildspec: typeof input.buildspecOverride === 'string' ? input.buildspecOverride : `${model.dir}/${model.manifest.build.buildspec}`,
      },
      environment: {
        type: 'LINUX_CONTAINER',
        image: 'mlship/local',
        computeType: model.manifest.build.computeType,
        environmentVariables: overrides,
      },
      timeoutInMinutes: timeoutMinutes,
      phases: [],
      logs: { groupName: `/aws/codebuild/${projectName}`, streamName: uuid, deepLink: pathToFileURL(logPath).href },
    };
    this.journal.save(record);
    if (!resumed) writeJsonAtomic(this.inputFile(id), input);
    this.launch(
      {
        record,
        model,
        source,
        buildspecOverride: typeof input.buildspecOverride === 'string' && input.buildspecOverride ? input.buildspecOverride : undefined,
        artifacts,
        env: this.opts.env ?? inheritedEnv(),
        overrides: codebuildEnv,
        imageUri,
        commit: version,
        workspaceRoot,
        logPath,
        cacheRoot: join(this.root, 'cache', projectName),
        toolsDir: join(this.root, 'tools'),
      },
      timeoutMinutes,
    );
    return structuredClone(record);
  }

  /** The source zip StartBuild names (sourceLocationOverride, or the model's zip of sourceVersion) and its commit. */
  private sourceOf(input: Record<string, unknown>, name: string) {
    if (input.sourceTypeOverride !== undefined && input.sourceTypeOverride !== 'S3') {
      throw invalid(`sourceTypeOverride: the local cloud builds from S3 source zips only, got ${String(input.sourceTypeOverride)}`);
    }
    const sourceVersion = typeof input.sourceVersion === 'string' && input.sourceVersion ? input.sourceVersion : undefined;
    let sourceLocation = typeof input.sourceLocationOverride === 'string' ? input.sourceLocationOverride : undefined;
    if (!sourceLocation) {
      if (!sourceVersion)
        throw invalid('sourceLocationOverride (<bucket>/source/<model>/<commit>.zip) or sourceVersion (the commit) is required');
      sourceLocation = `${this.opts.bucket}/source/${name}/${sourceVersion}.zip`;
    }
    const source = splitS3Location(sourceLocation, 'sourceLocationOverride');
    if (!source.key) throw invalid(`sourceLocationOverride: expected <bucket>/<key>, got "${sourceLocation}"`);
    const zipCommit = /([^/]+)\.zip$/.exec(source.key)?.[1];
    return { source, sourceVersion, commit: sourceVersion ?? zipCommit };
  }

  /** The variables CodeBuild sets in every build. */
  private codebuildVariables(b: {
    id: string;
    arn: string;
    buildNumber: number;
    uuid: string;
    workspaceRoot: string;
    sourceVersion: string | undefined;
    commit: string | undefined;
    source: { bucket: string; key: string };
    startTime: number;
    logPath: string;
  }): Record<string, string> {
    return {
      AWS_REGION: this.opts.region,
      AWS_DEFAULT_REGION: this.opts.region,
      CODEBUILD_BUILD_ID: b.id,
      CODEBUILD_BUILD_ARN: b.arn,
      CODEBUILD_BUILD_NUMBER: String(b.buildNumber),
      CODEBUILD_BUILD_IMAGE: 'mlship/local',
      CODEBUILD_BUILD_SUCCEEDING: '1',
      CODEBUILD_INITIATOR: 'mlship-local',
      CODEBUILD_LOG_PATH: b.uuid,
      CODEBUILD_SRC_DIR: join(b.workspaceRoot, 'src'),
      CODEBUILD_SOURCE_VERSION: b.sourceVersion ?? `arn:aws:s3:::${b.source.bucket}/${b.source.key}`,
      CODEBUILD_RESOLVED_SOURCE_VERSION: b.commit ?? '',
      CODEBUILD_SOURCE_REPO_URL: `${b.source.bucket}/${b.source.key}`,
      CODEBUILD_START_TIME: String(Math.round(b.startTime * 1000)),
      CODEBUILD_PUBLIC_BUILD_URL: pathToFileURL(b.logPath).href,
    };
  }

  /** Run the build in the background under its timeout, and tidy up after it. */
  private launch(plan: BuildPlan, timeoutMinutes: number): void {
    const id = plan.record.id;
    const handle: BuildHandle = {};
    const timer = setTimeout(() => stopBuild(handle, 'TIMED_OUT'), timeoutMinutes * 60_000);
    timer.unref();
    const done = executeBuild(plan, { s3: this.opts.s3, journal: this.journal, images: this.images }, handle).finally(() => {
      clearTimeout(timer);
      this.running.delete(id);
      const rec = this.journal.get(id);
      if (handle.stopReason === 'SHUTDOWN' && rec) {
        // A clean stop leaves the build as a crash would: running, to run again at the next start.
        Object.assign(rec, { buildStatus: 'IN_PROGRESS', buildComplete: false, endTime: undefined });
        this.journal.save(rec);
      } else if (rec?.buildStatus !== 'IN_PROGRESS') {
        // Kept while the build runs only: a build that ended has nothing to run again.
        rmSync(this.inputFile(id), { force: true });
      }
    });
    this.running.set(id, { handle, done, timer });
  }

  private artifactTarget(override: unknown, model: string, version: string): BuildPlan['artifacts'] {
    const o = (override ?? {}) as { type?: string; location?: string; path?: string; name?: string };
    if (o.type === 'NO_ARTIFACTS') return undefined;
    if (o.type !== undefined && o.type !== 'S3')
      throw invalid(`artifactsOverride.type: the local cloud supports S3 and NO_ARTIFACTS, got ${o.type}`);
    if (!o.location) return { bucket: this.opts.bucket, prefix: `builds/${model}/${version}` };
    const { bucket, key } = splitS3Location(o.location, 'artifactsOverride.location');
    // CodeBuild's key is <path>/<name>; a name like bundle.tar names the bundle, not a folder.
    const name = o.name && !/\.(tar|zip)$/.test(o.name) ? o.name : undefined;
    const prefix = [key, o.path, name]
      .filter((p): p is string => !!p)
      .map((p) => p.replace(/^\/+|\/+$/g, ''))
      .join('/');
    if (!prefix) throw invalid('artifactsOverride: location/path must name a prefix such as <bucket>/builds/<model>/<version>');
    return { bucket, prefix };
  }

  private envOverrides(raw: unknown): { name: string; value: string; type: 'PLAINTEXT' }[] {
    if (raw === undefined) return [];
    if (!Array.isArray(raw)) throw invalid('environmentVariablesOverride must be a list of {name, value, type}');
    return raw.map((v: { name?: unknown; value?: unknown; type?: unknown }, i) => {
      if (typeof v?.name !== 'string' || !v.name) throw invalid(`environmentVariablesOverride[${i}].name is required`);
      if (v.type !== undefined && v.type !== 'PLAINTEXT') {
        throw invalid(
          `environmentVariablesOverride[${i}] (${v.name}): type ${String(v.type)} is not supported by the local cloud; use PLAINTEXT`,
        );
      }
      return { name: v.name, value: String(v.value ?? ''), type: 'PLAINTEXT' as const };
    });
  }

  batchGet(ids: string[]): { builds: BuildRecord[]; buildsNotFound: string[] } {
    const builds: BuildRecord[] = [];
    const buildsNotFound: string[] = [];
    for (const id of ids) {
      const rec = this.journal.get(id) ?? this.journal.all().find((b) => b.arn === id);
      if (rec) builds.push(structuredClone(rec));
      else buildsNotFound.push(id);
    }
    return { builds, buildsNotFound };
  }

  async stop(id: string): Promise<BuildRecord> {
    const rec = this.journal.get(id);
    if (!rec) throw new AwsServiceError('ResourceNotFoundException', `Build ${id} cannot be found`);
    const run = this.running.get(id);
    if (run) {
      stopBuild(run.handle, 'STOPPED');
      await run.done;
    }
    return structuredClone(this.journal.get(id)!);
  }

  listForProject(projectName: string, order: 'ASCENDING' | 'DESCENDING', nextToken?: string): { ids: string[]; nextToken?: string } {
    this.modelOf(projectName);
    return page(
      this.journal.forProject(projectName).sort((a, b) => a.buildNumber - b.buildNumber),
      order,
      nextToken,
    );
  }

  /**
   * ListBuilds: every project's builds. Ordered by start time (the id's uuid part carries no
   * order), so `mlship logs` and `aws codebuild list-builds` show the newest build first.
   */
  list(order: 'ASCENDING' | 'DESCENDING', nextToken?: string): { ids: string[]; nextToken?: string } {
    return page(
      this.journal.all().sort((a, b) => a.startTime - b.startTime || a.id.localeCompare(b.id)),
      order,
      nextToken,
    );
  }

  async waitFor(id: string): Promise<Record<string, unknown>> {
    await this.running.get(id)?.done;
    const rec = this.journal.get(id);
    if (!rec) throw new AwsServiceError('ResourceNotFoundException', `Build ${id} cannot be found`);
    return structuredClone(rec) as unknown as Record<string, unknown>;
  }

  /** Stop running builds; each is left IN_PROGRESS as after a crash, and runs again at the next start. */
  async close(): Promise<void> {
    const runs = [...this.running.values()];
    for (const r of runs) stopBuild(r.handle, 'SHUTDOWN');
    await Promise.all(runs.map((r) => r.done));
  }
}

/** CodeBuild's list pages: 100 ids, the next token an offset into the same ordering. */
function page(ascending: BuildRecord[], order: 'ASCENDING' | 'DESCENDING', nextToken?: string): { ids: string[]; nextToken?: string } {
  const sorted = order === 'DESCENDING' ? [...ascending].reverse() : ascending;
  const from = nextToken ? Number(nextToken) : 0;
  if (!Number.isInteger(from) || from < 0) throw invalid(`nextToken "${nextToken}" is not valid`);
  const ids = sorted.slice(from, from + 100).map((b) => b.id);
  return { ids, nextToken: from + 100 < sorted.length ? String(from + 100) : undefined };
}
