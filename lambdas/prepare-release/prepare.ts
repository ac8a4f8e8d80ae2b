import type { S3Client } from '@aws-sdk/client-s3';
import { loadManifestText, ManifestError, type ModelManifest } from '../../lib/config';
import { sha256Hex } from '../shared/bundle';
import { InvalidManifestError, SourceNotFoundError } from '../shared/errors';
import { buildProjectName, endpointName, keys, parseS3Uri, s3Uri } from '../shared/names';
import { createVersion, readProduction, type Trigger, type VersionRecord } from '../shared/registry';
import { getBytes, putBody } from '../shared/s3json';
import { readZipEntry } from './zip';

export interface PrepareDeps {
  s3: S3Client;
  bucket: string;
  buildProjectPrefix: string;
  /** One build project for every model (OPTIONAL_TASK_ENV.buildProject); unset: `<buildProjectPrefix><model>`. */
  buildProjectName?: string;
  now: () => Date;
}

export interface PrepareInput {
  model: string;
  commitId: string;
  sourceUri: string;
  trigger: Trigger;
  reason?: string;
  /** The commit's author, when known (see the release input). */
  author?: { name: string; email: string };
  pollSeconds: number;
  executionId: string;
  executionName: string;
}

/**
 * The version id: the commit's short hash and four hex digits of the execution, so a retry
 * of the same execution gets the same id and two releases of one commit get two.
 */
export function versionIdOf(commitId: string, executionId: string): string {
  return `${commitId.slice(0, 7).toLowerCase()}-${sha256Hex(executionId).slice(0, 4)}`;
}

/** The manifest inside a source archive, at `models/<model>/model.yaml` (optionally under one top-level folder, as in GitHub archives). */
async function readManifest(zip: Uint8Array, model: string, sourceUri: string): Promise<{ text: string; file: string }> {
  const wanted = `models/${model}/model.yaml`;
  const entry = await readZipEntry(
    zip,
    (p) => p === wanted || (p.endsWith(`/${wanted}`) && p.split('/').length === wanted.split('/').length + 1),
  );
  if (!entry) throw new InvalidManifestError(`${sourceUri}: the archive has no ${wanted}`);
  return { text: entry.data.toString('utf8'), file: wanted };
}

function parseManifest(text: string, file: string, model: string): ModelManifest {
  let manifest: ModelManifest;
  try {
    manifest = loadManifestText(text, file);
  } catch (err) {
    if (err instanceof ManifestError) throw new InvalidManifestError(err.message, { cause: err });
    throw err;
  }
  if (manifest.name !== model) {
    throw new InvalidManifestError(`${file}: name: "${manifest.name}" does not match the released model "${model}"`);
  }
  return manifest;
}

/** What the state machine and the later tasks need from PrepareRelease. */
/**
 * What the release's later states read from PrepareRelease, and all the ASL's ResultSelector
 * keeps: the names the states address and the timings of the Wait states. Everything else
 * about the version (manifest, buildspec, gates, lineage) is in its version record, which
 * every later task reads; the state stays small (Step Functions caps it at 256 KiB).
 */
export interface PrepareResult {
  version: string;
  stagingEndpoint: string;
  productionEndpoint: string;
  buildProject: string;
  /** Seconds the Wait states sleep between two status checks. */
  pollSeconds: number;
  /** The manifest's approval timeout; RequestApproval's TimeoutSecondsPath. */
  approvalTimeoutSeconds: number;
}

/**
 * Read the commit's model.yaml out of its source archive, validate it, snapshot it and
 * create the registry version record (status `building`).
 *
 * @throws SourceNotFoundError when the archive does not exist
 * @throws InvalidManifestError naming the file and field when the manifest is missing or invalid
 */
export async function prepareRelease(deps: PrepareDeps, input: PrepareInput): Promise<PrepareResult> {
  const { bucket: srcBucket, key: srcKey } = parseS3Uri(input.sourceUri);
  const zip = await getBytes(deps.s3, srcBucket, srcKey);
  if (!zip) throw new SourceNotFoundError(`source archive ${input.sourceUri} does not exist`);
  const { text, file } = await readManifest(zip, input.model, input.sourceUri);
  const manifest = parseManifest(text, file, input.model);

  const version = versionIdOf(input.commitId, input.executionId);
  const manifestKey = keys.manifestSnapshot(input.model, version);
  await putBody(deps.s3, deps.bucket, manifestKey, text, 'application/yaml');
  const production = await readProduction(deps, input.model);
  const now = deps.now().toISOString();
  const record: VersionRecord = {
    model: input.model,
    version,
    status: 'building',
    createdAt: now,
    updatedAt: now,
    commitId: input.commitId,
    author: input.author ?? null,
    trigger: input.trigger,
    reason: input.reason ?? null,
    execution: { arn: input.executionId, name: input.executionName },
    source: { uri: input.sourceUri, sha256: sha256Hex(zip) },
    manifest,
    manifestUri: s3Uri(deps.bucket, manifestKey),
    build: null,
    training: null,
    evaluation: null,
    loadTest: null,
    approval: null,
    deployments: [],
    lineage: { previousProduction: production?.value.version ?? null },
    outcome: null,
    promotedAt: null,
    archivedAt: null,
  };
  await createVersion(deps, record);

  return {
    version,
    stagingEndpoint: endpointName(input.model, 'staging'),
    productionEndpoint: endpointName(input.model, 'production'),
    buildProject: deps.buildProjectName ?? buildProjectName(deps.buildProjectPrefix, input.model),
    pollSeconds: input.pollSeconds,
    approvalTimeoutSeconds: manifest.approval.timeout,
  };
}
