import yauzl from 'yauzl';
import { loadManifestText, partitionByUniqueName, type DiscoveredModel } from '../../config';
import { pathMatcher } from '../../config/globs';

/**
 * Which models a push releases, on AWS, with one pipeline for every model.
 *
 * CodePipeline V2 file-path trigger filters allow 8 globs per filter and the trigger is per
 * pipeline, so "a push that touches one model releases that model only" would need a pipeline
 * per model (and a `cdk deploy` per new model). Instead the one pipeline starts on every push
 * to the models' branches, and its release stage decides: it compares the pushed tree with the
 * tree of the last push it handled on that branch and matches the changed paths against each
 * manifest's `paths`, exactly as the local cloud's git hook does with `git diff --name-only`.
 *
 * The source action's CODE_ZIP has no git history, so the tree is compared by its zip central
 * directory: a file whose CRC-32 and size are both unchanged counts as unchanged (a change
 * that keeps both is a 1-in-2^32 coincidence per file; it would miss one release, which a
 * "Release change" or the next push makes up for). Reading the central directory and the
 * manifests needs no other file decompressed.
 */

/** What the release stage remembers of the last tree it handled on a branch: path -> `crc32:size`. */
export interface TreeIndex {
  readonly commitId: string;
  readonly files: Record<string, string>;
}

/** A pushed tree: its file index and the text of every `models/<dir>/model.yaml`. */
export interface PushedTree {
  readonly files: Record<string, string>;
  readonly manifests: Record<string, string>;
}

const MANIFEST = /^models\/[^/]+\/model\.yaml$/;

/** Read a source zip's index and manifests (yauzl: the zip reader the local cloud uses too). */
export async function readTree(zip: Buffer): Promise<PushedTree> {
  const archive = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.fromBuffer(zip, { lazyEntries: true }, (err, z) => (err ? reject(err) : resolve(z))),
  );
  const files: Record<string, string> = {};
  const manifests: Record<string, string> = {};
  await new Promise<void>((resolve, reject) => {
    archive.on('error', reject);
    archive.on('end', () => resolve());
    archive.on('entry', (entry: yauzl.Entry) => {
      const path = entry.fileName.replace(/^\.\//, '');
      if (path.endsWith('/')) return archive.readEntry();
      files[path] = `${entry.crc32.toString(16)}:${entry.uncompressedSize}`;
      if (!MANIFEST.test(path)) return archive.readEntry();
      archive.openReadStream(entry, (err, stream) => {
        if (err) return reject(err);
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('error', reject);
        stream.on('end', () => {
          manifests[path] = Buffer.concat(chunks).toString('utf8');
          archive.readEntry();
        });
      });
    });
    archive.readEntry();
  });
  return { files, manifests };
}

/** Paths added, removed or changed between two indexes; every path when there is no previous one (a new branch, as CodePipeline and git count it). */
export function changedPaths(previous: Record<string, string> | undefined, next: Record<string, string>): string[] {
  if (!previous) return Object.keys(next).sort();
  const out = new Set<string>();
  for (const [path, sig] of Object.entries(next)) if (previous[path] !== sig) out.add(path);
  for (const path of Object.keys(previous)) if (!(path in next)) out.add(path);
  return [...out].sort();
}

/** What one push means. */
export interface PushPlan {
  /** Models on this branch whose `paths` match a changed file: one release each. */
  readonly release: DiscoveredModel[];
  /** A manifest was added, changed or removed: the per-model schedules and alarms need reconciling. */
  readonly manifestsChanged: boolean;
  /** Manifests that start nothing, and why (invalid, or a name two directories claim). */
  readonly errors: string[];
}

/** Match the changed paths against every valid manifest of the pushed tree. */
export function planPush(tree: PushedTree, changed: readonly string[], branch: string): PushPlan {
  const errors: string[] = [];
  const models: DiscoveredModel[] = [];
  for (const [file, text] of Object.entries(tree.manifests).sort(([a], [b]) => a.localeCompare(b))) {
    try {
      models.push({ manifest: loadManifestText(text, file), dir: file.slice(0, -'/model.yaml'.length), file });
    } catch (err) {
      errors.push(`${(err as Error).message}; no release started for ${file.slice(0, -'/model.yaml'.length)}`);
    }
  }
  const { unique, duplicates } = partitionByUniqueName(models);
  for (const d of duplicates) errors.push(`${d.message}; no release started for "${d.modelName}"`);
  const release = unique.filter((m) => m.manifest.branch === branch && changed.some(pathMatcher(m.manifest.paths)));
  return { release, manifestsChanged: changed.some((p) => MANIFEST.test(p)), errors };
}
