import { createHash } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { SourceNotFoundError } from './errors';
import { parseS3Uri } from './names';
import type { VersionRecord } from './registry';
import { getText, listObjects } from './s3json';

/** Hex SHA-256 of bytes or text (source archives, data files, idempotency names). */
export const sha256Hex = (data: Uint8Array | string): string => createHash('sha256').update(data).digest('hex');

/** The URI of a file of a version's model bundle (the build's artifacts), e.g. `data/holdout.csv`. */
export function bundleFileUri(record: VersionRecord, file: string): string {
  const base = record.build?.artifactsUri;
  if (!base) throw new SourceNotFoundError(`${record.model} ${record.version} has no build artifacts in the registry`);
  return `${base.replace(/\/?$/, '/')}${file}`;
}

/**
 * Read a text file of a version's bundle. A missing file is a broken bundle (terminal),
 * not something a retry fixes.
 */
export async function readBundleFile(deps: { s3: S3Client }, record: VersionRecord, file: string): Promise<{ text: string; uri: string }> {
  const uri = bundleFileUri(record, file);
  const { bucket, key } = parseS3Uri(uri);
  const text = await getText(deps.s3, bucket, key);
  if (text === undefined) throw new SourceNotFoundError(`${uri} does not exist: the bundle must contain ${file}`);
  return { text, uri };
}

/** The build's hyperparameters as the version record keeps them (VersionRecord.hyperparameters). */
export interface BundleParams {
  values: Record<string, unknown>;
  uri: string;
}

/**
 * The first `params.json` anywhere in a version's bundle (a build that records its
 * hyperparameters leaves one, e.g. models/breast-cancer), or undefined without one. One that
 * is not a JSON object is not hyperparameters: undefined too, and `onInvalid` hears why.
 */
export async function readBundleParams(
  deps: { s3: S3Client },
  record: VersionRecord,
  onInvalid: (message: string) => void,
): Promise<BundleParams | undefined> {
  const { bucket, key: prefix } = parseS3Uri(bundleFileUri(record, ''));
  for await (const o of listObjects(deps.s3, bucket, prefix)) {
    if (!o.key.endsWith('/params.json') && o.key !== `${prefix}params.json`) continue;
    const uri = `s3://${bucket}/${o.key}`;
    const text = await getText(deps.s3, bucket, o.key);
    let values: unknown;
    try {
      values = JSON.parse(text ?? '');
    } catch (err) {
      onInvalid(`${uri} is not JSON: ${(err as Error).message}`);
      return undefined;
    }
    if (values && typeof values === 'object' && !Array.isArray(values)) return { values: values as Record<string, unknown>, uri };
    onInvalid(`${uri} is not a JSON object of hyperparameters`);
    return undefined;
  }
  return undefined;
}
