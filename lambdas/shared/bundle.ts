import { createHash } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { SourceNotFoundError } from './errors';
import { parseS3Uri } from './names';
import type { VersionRecord } from './registry';
import { getText } from './s3json';

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
