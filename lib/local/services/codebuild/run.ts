import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { loadManifestText, ManifestError, type DiscoveredModel } from '../../../config';
import { ArtifactsError, packBundle, selectArtifacts, uploadAll } from './artifacts';
import { BuildspecError, ignoredKeys, parseBuildspec, PHASE_KEYS, type Buildspec } from './buildspec';
import { installCacheTools, restoreCache, saveCache, type ResolvedCache } from './cache';
import type { ImageIndex, ImageRecord } from '../ecr';
import { closePhase, enterPhase, type BuildJournal, type BuildPhase, type BuildRecord, type BuildStatus, type PhaseType } from './journal';
import { killGroup, runPhase } from './shell';
import { extractZip, SourceArchiveError, workspacePaths } from './workspace';

/** Everything one build needs, resolved by the manager from StartBuild. */
export interface BuildPlan {
  record: BuildRecord;
  model: DiscoveredModel;
  source: { bucket: string; key: string };
  /** `buildspecOverride`: inline YAML or a path inside the source; undefined = the manifest's. */
  buildspecOverride?: string;
  artifacts?: { bucket: string; prefix: string };
  /** The base environment (PATH, HOME, ...), below the buildspec's env.variables. */
  env: Record<string, string>;
  /** StartBuild's environmentVariablesOverride and CodeBuild's own variables, above the buildspec's. */
  overrides: Record<string, string>;
  imageUri: string;
  commit: string;
  workspaceRoot: string;
  logPath: string;
  /** Where this project's buildspec caches live (one folder per key). */
  cacheRoot: string;
  /** Where the build's helper commands (codebuild-hash-files) are written; on PATH. */
  toolsDir: string;
}

export interface RunDeps {
  s3: S3Client;
  journal: BuildJournal;
  images: ImageIndex;
}

/** A running build's handle: the current child (to stop it) and why it was stopped. */
export interface BuildHandle {
  child?: ChildProcess;
  /** Process groups of the phases: what a phase left running in the background dies with the build, as with CodeBuild's container. */
  groups?: number[];
  stopReason?: 'STOPPED' | 'TIMED_OUT' | 'SHUTDOWN';
}

const PHASE_TYPES: Record<(typeof PHASE_KEYS)[number], PhaseType> = {
  install: 'INSTALL',
  pre_build: 'PRE_BUILD',
  build: 'BUILD',
  post_build: 'POST_BUILD',
};

const stamp = () => new Date().toISOString().replace('T', ' ').replace('Z', '').replace(/-/g, '/');

/** One build in progress: its record, workspace, log and the status it will end with. */
interface BuildRun {
  plan: BuildPlan;
  deps: RunDeps;
  handle: BuildHandle;
  rec: BuildRecord;
  ws: ReturnType<typeof workspacePaths>;
  log: ReturnType<typeof createWriteStream>;
  say: (line: string) => void;
  status: BuildStatus;
  start: (type: PhaseType) => BuildPhase;
  finishPhase: (phase: BuildPhase, st: BuildStatus, ctx?: { statusCode: string; message: string }) => void;
}

/** Runs a build to completion, journaling every phase change. Never throws: failures end the build FAILED/FAULT. */
export async function executeBuild(plan: BuildPlan, deps: RunDeps, handle: BuildHandle): Promise<void> {
  const run = openBuildRun(plan, deps, handle);
  try {
    for (const t of ['SUBMITTED', 'QUEUED', 'PROVISIONING'] as const) run.finishPhase(run.start(t), 'SUCCEEDED');
    const source = await downloadSource(run);
    // CodeBuild's precedence: StartBuild overrides > project > buildspec env.variables.
    const env = { ...plan.env, ...(source?.spec.env.variables ?? {}), ...plan.overrides };
    env.PATH = `${installCacheTools(plan.toolsDir)}:${env.PATH ?? '/usr/bin:/bin'}`;
    if (source) await buildAndUpload(run, source.spec, source.serveCommand, env);
  } catch (err) {
    // A bug or an I/O error of the runner itself: CodeBuild calls this FAULT.
    run.say(`Internal error: ${(err as Error).stack ?? err}`);
    run.status = 'FAULT';
  }
  killLeftoverGroups(handle);
  await completeBuild(run);
}

function openBuildRun(plan: BuildPlan, deps: RunDeps, handle: BuildHandle): BuildRun {
  const rec = plan.record;
  const ws = workspacePaths(plan.workspaceRoot);
  mkdirSync(ws.tmp, { recursive: true });
  mkdirSync(dirname(plan.logPath), { recursive: true });
  const log = createWriteStream(plan.logPath, { flags: 'a' });
  const say = (line: string) => log.write(`[Container] ${stamp()} ${line}\n`);
  const save = () => deps.journal.save(rec);
  return {
    plan,
    deps,
    handle,
    rec,
    ws,
    log,
    say,
    status: 'SUCCEEDED',
    start: (type) => {
      const p = enterPhase(rec, type);
      say(`Entering phase ${type}`);
      save();
      return p;
    },
    finishPhase: (phase, st, ctx) => {
      closePhase(phase, st, ctx);
      say(`Phase complete: ${phase.phaseType} State: ${st}`);
      say(`Phase context status code: ${ctx?.statusCode ?? ''} Message: ${ctx?.message ?? ''}`);
      save();
    },
  };
}

/** DOWNLOAD_SOURCE: fetch + extract the zip, read the buildspec and the commit's manifest; undefined when it failed. */
async function downloadSource(run: BuildRun): Promise<{ spec: Buildspec; serveCommand: string } | undefined> {
  const { plan, ws, say } = run;
  const dl = run.start('DOWNLOAD_SOURCE');
  try {
    const obj = await run.deps.s3.send(new GetObjectCommand({ Bucket: plan.source.bucket, Key: plan.source.key }));
    const zip = Buffer.from(await obj.Body!.transformToByteArray());
    const n = await extractZip(zip, ws.src);
    say(`Extracted ${n} files from s3://${plan.source.bucket}/${plan.source.key} into ${ws.src}`);
    const manifestPath = join(ws.src, plan.model.file);
    const serveCommand = existsSync(manifestPath)
      ? loadManifestText(readFileSync(manifestPath, 'utf8'), plan.model.file).serve.command
      : plan.model.manifest.serve.command;
    const { text, file } = readBuildspec(plan, ws.src);
    const spec = parseBuildspec(text, file);
    for (const k of ignoredKeys(spec)) say(`Note: buildspec ${k} is accepted and ignored by the local cloud`);
    run.finishPhase(dl, 'SUCCEEDED');
    return { spec, serveCommand };
  } catch (err) {
    const code = err instanceof BuildspecError ? 'YAML_FILE_ERROR' : 'CLIENT_ERROR';
    const own = err instanceof BuildspecError || err instanceof SourceArchiveError || err instanceof ManifestError;
    const message = own ? `${err.message}` : sourceError(plan, err);
    run.finishPhase(dl, 'FAILED', { statusCode: code, message });
    run.status = 'FAILED';
    return undefined;
  }
}

/** Restore the cache, run INSTALL .. POST_BUILD, then UPLOAD_ARTIFACTS for a build that succeeded. */
async function buildAndUpload(run: BuildRun, spec: Buildspec, serveCommand: string, initialEnv: Record<string, string>): Promise<void> {
  let cache: ResolvedCache | undefined;
  if (spec.cache) {
    try {
      cache = await restoreCache({ spec: spec.cache, store: run.plan.cacheRoot, env: initialEnv, src: run.ws.src, say: run.say });
    } catch (err) {
      // As on CodeBuild, a cache that cannot be used makes a cold build, not a failed one.
      run.say(`Cache: not used: ${(err as Error).message}`);
    }
  }
  const env = await runPhases(run, spec, initialEnv);
  // UPLOAD_ARTIFACTS: only for a build that succeeded, so a failed build never tags an image.
  if (run.status !== 'SUCCEEDED') {
    run.rec.exportedEnvironmentVariables = exportedVariables(spec, env, undefined);
    return;
  }
  const up = run.start('UPLOAD_ARTIFACTS');
  try {
    if (cache) saveCacheSafely(cache, run.ws.src, run.say);
    const image = await uploadArtifacts(run.plan, spec, run.ws, run.deps, serveCommand, run.say);
    run.finishPhase(up, 'SUCCEEDED');
    run.rec.exportedEnvironmentVariables = exportedVariables(spec, env, image);
  } catch (err) {
    const message = err instanceof ArtifactsError ? err.message : `uploading artifacts failed: ${(err as Error).message}`;
    run.finishPhase(up, 'FAILED', { statusCode: 'CLIENT_ERROR', message });
    run.status = 'FAILED';
  }
}

/** INSTALL .. POST_BUILD with CodeBuild's transitions; returns the environment the last phase left. */
async function runPhases(run: BuildRun, spec: Buildspec, initialEnv: Record<string, string>): Promise<Record<string, string>> {
  const { handle } = run;
  let env = initialEnv;
  for (const key of PHASE_KEYS) {
    const type = PHASE_TYPES[key];
    const phase = run.start(type);
    const def = spec.phases[key];
    if (stopBuildIfAsked(run, phase)) break;
    if (!def || (def.commands.length === 0 && def.finally.length === 0)) {
      run.finishPhase(phase, 'SUCCEEDED');
      continue;
    }
    env = { ...env, CODEBUILD_BUILD_SUCCEEDING: run.status === 'SUCCEEDED' ? '1' : '0' };
    const result = await runPhase({
      name: key,
      commands: def.commands,
      finally: def.finally,
      env,
      cwd: run.ws.src,
      tmpDir: run.ws.tmp,
      log: run.log,
      onChild: (c) => {
        handle.child = c;
        if (c.pid !== undefined) (handle.groups ??= []).push(c.pid);
      },
    });
    handle.child = undefined;
    env = result.env;
    if (stopBuildIfAsked(run, phase)) break;
    if (result.exitCode === 0) {
      run.finishPhase(phase, 'SUCCEEDED');
      continue;
    }
    const message = result.failed
      ? `Error while executing command: ${result.failed.command}. Reason: exit status ${result.failed.status}`
      : `Error while executing phase ${type}. Reason: exit status ${result.exitCode}`;
    run.finishPhase(phase, 'FAILED', { statusCode: 'COMMAND_EXECUTION_ERROR', message });
    run.status = 'FAILED';
    // A failed INSTALL/PRE_BUILD skips to FINALIZING; a failed BUILD still runs POST_BUILD.
    if (def['on-failure'] === 'ABORT' && (key === 'install' || key === 'pre_build')) break;
  }
  return env;
}

/** A build stopped (StopBuild, timeout, shutdown) ends its current phase with the stop's status. */
function stopBuildIfAsked(run: BuildRun, phase: BuildPhase): boolean {
  if (run.handle.stopReason === undefined) return false;
  run.status = stopStatus(run.handle);
  run.finishPhase(phase, run.status, stopContext(run.handle, run.rec));
  return true;
}

function killLeftoverGroups(handle: BuildHandle): void {
  for (const pgid of handle.groups ?? []) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // the group is already gone: nothing was left behind
    }
  }
}

async function completeBuild(run: BuildRun): Promise<void> {
  const { rec } = run;
  run.finishPhase(run.start('FINALIZING'), 'SUCCEEDED');
  run.start('COMPLETED');
  rec.buildStatus = run.status;
  rec.buildComplete = true;
  rec.endTime = rec.phases.at(-1)!.startTime;
  run.deps.journal.save(rec);
  await new Promise<void>((res) => run.log.end(res));
  if (run.status === 'SUCCEEDED') rmSync(run.ws.root, { recursive: true, force: true });
}

function saveCacheSafely(cache: ResolvedCache, src: string, say: (l: string) => void): void {
  try {
    saveCache(cache, src, say);
  } catch (err) {
    say(`Cache: not saved: ${(err as Error).message}`);
  }
}

function readBuildspec(plan: BuildPlan, src: string): { text: string; file: string } {
  const override = plan.buildspecOverride;
  if (override !== undefined && (override.includes('\n') || /^\s*version\s*:/.test(override)))
    return { text: override, file: 'buildspecOverride' };
  const file = override ?? posix.join(plan.model.dir, plan.model.manifest.build.buildspec);
  const path = join(src, file);
  if (!existsSync(path)) throw new BuildspecError(`${file}: YAML_FILE_ERROR: the buildspec does not exist in the source`, file);
  return { text: readFileSync(path, 'utf8'), file };
}

function sourceError(plan: BuildPlan, err: unknown): string {
  const name = (err as Error).name;
  if (name === 'NoSuchKey' || name === 'NotFound') return `CLIENT_ERROR: no such key: s3://${plan.source.bucket}/${plan.source.key}`;
  return `CLIENT_ERROR: could not download s3://${plan.source.bucket}/${plan.source.key}: ${(err as Error).message}`;
}

async function uploadArtifacts(
  plan: BuildPlan,
  spec: Buildspec,
  ws: ReturnType<typeof workspacePaths>,
  deps: RunDeps,
  serveCommand: string,
  say: (l: string) => void,
): Promise<ImageRecord | undefined> {
  if (!spec.artifacts || !plan.artifacts) {
    say('No artifacts to upload');
    return undefined;
  }
  const files = selectArtifacts(ws.src, spec.artifacts);
  const stage = join(ws.root, 'bundle');
  const tarPath = join(ws.root, 'bundle.tar');
  const { sha256, size } = await packBundle(files, stage, tarPath);
  const { bucket, prefix } = plan.artifacts;
  const digest = `sha256:${sha256}`;
  const rec = plan.record;
  const created = new Date().toISOString();
  const bundleManifest = {
    schemaVersion: 1,
    model: plan.model.manifest.name,
    commit: plan.commit,
    imageUri: plan.imageUri,
    digest,
    size,
    serve: { command: serveCommand },
    created,
    buildId: rec.id,
    files: files.map((f) => ({ path: f.path, size: f.size })),
  };
  writeFileSync(join(ws.root, 'bundle.json'), JSON.stringify(bundleManifest, null, 2));
  await uploadAll(deps.s3, bucket, [
    { key: `${prefix}/bundle.tar`, body: readFileSync(tarPath), contentType: 'application/x-tar' },
    { key: `${prefix}/bundle.json`, body: Buffer.from(JSON.stringify(bundleManifest, null, 2)), contentType: 'application/json' },
    ...files.map((f) => ({ key: `${prefix}/files/${f.path}`, body: readFileSync(join(stage, f.path)) })),
  ]);
  say(`Uploaded bundle s3://${bucket}/${prefix}/bundle.tar (${files.length} files, ${size} bytes, ${digest})`);
  // As with CodeBuild's packaging NONE, the location is the folder holding the artifact files
  // (the tasks read data/holdout.csv under it); sha256sum is the bundle tar's, next to it.
  rec.artifacts = { location: `arn:aws:s3:::${bucket}/${prefix}/files`, sha256sum: sha256 };
  const [repoPart, tag] = splitImage(plan.imageUri);
  const image: ImageRecord = {
    imageUri: plan.imageUri,
    repository: repoPart,
    tag,
    digest,
    bucket,
    bundleKey: `${prefix}/bundle.tar`,
    manifestKey: `${prefix}/bundle.json`,
    serveCommand,
    model: plan.model.manifest.name,
    commit: plan.commit,
    created,
    buildId: rec.id,
  };
  deps.images.put(image);
  say(`Tagged ${plan.imageUri} -> ${digest}`);
  return image;
}

function splitImage(uri: string): [string, string] {
  const slash = uri.indexOf('/');
  const colon = uri.lastIndexOf(':');
  return [uri.slice(slash + 1, colon), uri.slice(colon + 1)];
}

function exportedVariables(
  spec: Buildspec,
  env: Record<string, string>,
  image: ImageRecord | undefined,
): { name: string; value: string }[] {
  const names = spec.env['exported-variables'];
  const out = names.filter((n) => env[n] !== undefined).map((name) => ({ name, value: env[name]! }));
  if (image) {
    if (!out.some((v) => v.name === 'IMAGE_URI')) out.push({ name: 'IMAGE_URI', value: image.imageUri });
    if (!out.some((v) => v.name === 'IMAGE_DIGEST')) out.push({ name: 'IMAGE_DIGEST', value: image.digest });
  }
  return out;
}

function stopStatus(handle: BuildHandle): BuildStatus {
  return handle.stopReason === 'TIMED_OUT' ? 'TIMED_OUT' : handle.stopReason === 'SHUTDOWN' ? 'FAILED' : 'STOPPED';
}

function stopContext(handle: BuildHandle, rec: BuildRecord): { statusCode: string; message: string } {
  if (handle.stopReason === 'TIMED_OUT')
    return { statusCode: 'BUILD_TIMED_OUT', message: `Build timed out after ${rec.timeoutInMinutes} minutes` };
  if (handle.stopReason === 'SHUTDOWN')
    return { statusCode: 'BUILD_INTERRUPTED', message: 'The local cloud stopped while this build was running' };
  return { statusCode: 'BUILD_STOPPED', message: 'Build was stopped' };
}

/** Stop the build's current phase (StopBuild, timeout, shutdown). */
export function stopBuild(handle: BuildHandle, reason: NonNullable<BuildHandle['stopReason']>): void {
  handle.stopReason ??= reason;
  if (handle.child) killGroup(handle.child);
}
