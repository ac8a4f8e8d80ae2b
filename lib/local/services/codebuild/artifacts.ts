import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, posix, relative, sep } from 'node:path';
import picomatch from 'picomatch';
import { create as createTar } from 'tar';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Buildspec } from './buildspec';

/** The buildspec's artifacts section matched nothing, or pointed at a missing directory (CodeBuild's CLIENT_ERROR). */
export class ArtifactsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ArtifactsError';
  }
}

export interface ArtifactFile {
  /** Path inside the bundle (after base-directory and discard-paths). */
  path: string;
  source: string;
  size: number;
}

function walk(dir: string, out: string[] = [], root = dir): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) walk(full, out, root);
    else if (entry.isFile()) out.push(relative(root, full).split(sep).join(posix.sep));
  }
  return out;
}

/** Select the artifact files the way CodeBuild does: globs relative to base-directory, then exclude-paths, then discard-paths. */
export function selectArtifacts(srcDir: string, spec: NonNullable<Buildspec['artifacts']>): ArtifactFile[] {
  const baseRel = spec['base-directory'] ?? '.';
  const base = join(srcDir, baseRel);
  if (!existsSync(base) || !statSync(base).isDirectory()) {
    throw new ArtifactsError(`artifacts.base-directory "${baseRel}" does not exist in the build's source directory`);
  }
  const include = picomatch(spec.files, { dot: true });
  const exclude = spec['exclude-paths'].length ? picomatch(spec['exclude-paths'], { dot: true }) : () => false;
  const byPath = new Map<string, ArtifactFile>();
  for (const rel of walk(base).sort()) {
    if (!include(rel) || exclude(rel)) continue;
    const path = spec['discard-paths'] ? basename(rel) : rel;
    byPath.set(path, { path, source: join(base, rel), size: statSync(join(base, rel)).size });
  }
  if (byPath.size === 0) {
    throw new ArtifactsError(
      `no matching artifact paths found: artifacts.files ${JSON.stringify(spec.files)} matched nothing under ${baseRel}`,
    );
  }
  return [...byPath.values()].sort((a, b) => a.path.localeCompare(b.path));
}

/**
 * Stage the files and tar them deterministically (sorted, portable headers, fixed mtime), so
 * the same build output always has the same digest, like a reproducible image layer.
 */
export async function packBundle(files: ArtifactFile[], stageDir: string, tarPath: string): Promise<{ sha256: string; size: number }> {
  for (const f of files) {
    const to = join(stageDir, f.path);
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(f.source, to);
  }
  await createTar(
    { cwd: stageDir, file: tarPath, portable: true, mtime: new Date(0) },
    files.map((f) => f.path),
  );
  const buf = readFileSync(tarPath);
  return { sha256: createHash('sha256').update(buf).digest('hex'), size: buf.length };
}

const CONTENT_TYPES: Record<string, string> = {
  '.csv': 'text/csv',
  '.json': 'application/json',
  '.jsonl': 'application/jsonl',
  '.html': 'text/html',
  '.txt': 'text/plain',
  '.yml': 'application/yaml',
  '.yaml': 'application/yaml',
  '.tar': 'application/x-tar',
};

export const contentTypeOf = (path: string): string => CONTENT_TYPES[posix.extname(path).toLowerCase()] ?? 'application/octet-stream';

/** Upload `items` with at most `concurrency` requests in flight. */
export async function uploadAll(
  s3: S3Client,
  bucket: string,
  items: { key: string; body: Buffer; contentType?: string }[],
  concurrency = 8,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: item.key, Body: item.body, ContentType: item.contentType ?? contentTypeOf(item.key) }),
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}
