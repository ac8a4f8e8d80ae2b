import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { ManifestError, parseManifest, type ModelManifest } from './manifest';

/** A manifest together with where it lives. */
export interface DiscoveredModel {
  manifest: ModelManifest;
  /** The model directory relative to the repository root, e.g. `models/delivery-time`. */
  dir: string;
  /** The manifest file relative to the repository root. */
  file: string;
}

/** Parse one manifest's YAML text; `file` is only used in messages. */
export function loadManifestText(text: string, file: string): ModelManifest {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? ` (line ${err.linePos[0].line})` : '';
    throw new ManifestError(`${file}: not valid YAML${where}: ${(err as Error).message.split('\n')[0]}`, file, { cause: err });
  }
  return parseManifest(doc, file);
}

/**
 * Find and validate every `models/<name>/model.yaml` under `repoRoot`. Fails on the first
 * broken manifest, and when two manifests name the same model ({@link assertUniqueNames}).
 */
export function discoverModels(repoRoot: string, modelsDir = 'models'): DiscoveredModel[] {
  const root = join(repoRoot, modelsDir);
  if (!existsSync(root)) return [];
  const found: DiscoveredModel[] = [];
  for (const entry of readdirSync(root, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (!entry.isDirectory()) continue;
    const path = join(root, entry.name, 'model.yaml');
    if (!existsSync(path)) continue;
    const file = relative(repoRoot, path);
    const manifest = loadManifestText(readFileSync(path, 'utf8'), file);
    found.push({ manifest, dir: relative(repoRoot, join(root, entry.name)), file });
  }
  assertUniqueNames(found);
  return found;
}

/**
 * Two or more manifests that claim one model name. Whichever of them governed a release
 * (its gates, its rollback alarms) would be a matter of directory order, so the name is
 * refused as a whole: by synth, by `mlship up` and by a push alike.
 */
export class DuplicateModelNameError extends ManifestError {
  /** The manifests that claim the name, the first (in directory order) first. */
  readonly files: readonly string[];

  constructor(
    readonly modelName: string,
    files: readonly string[],
  ) {
    const [first, ...others] = files;
    super(
      `${others.join(', ')}: name: "${modelName}" is already the name of ${first}; model names must be unique`,
      others[0] ?? first ?? '',
    );
    this.name = 'DuplicateModelNameError';
    this.files = files;
  }
}

/**
 * Split manifests into those whose name no other manifest claims and one error per name
 * claimed twice or more (every manifest of such a name is left out, not just the later ones).
 */
export function partitionByUniqueName<M extends Pick<DiscoveredModel, 'manifest' | 'file'>>(
  models: readonly M[],
): { unique: M[]; duplicates: DuplicateModelNameError[] } {
  const byName = new Map<string, M[]>();
  for (const m of models) byName.set(m.manifest.name, [...(byName.get(m.manifest.name) ?? []), m]);
  const unique: M[] = [];
  const duplicates: DuplicateModelNameError[] = [];
  for (const [name, claims] of byName) {
    if (claims.length === 1) unique.push(claims[0]!);
    else
      duplicates.push(
        new DuplicateModelNameError(
          name,
          claims.map((c) => c.file),
        ),
      );
  }
  return { unique: models.filter((m) => unique.includes(m)), duplicates };
}

/**
 * The one check of model-name uniqueness, shared by every entry point (synth, `mlship up`,
 * `git push`).
 * @throws DuplicateModelNameError naming every file that claims the first duplicated name
 */
export function assertUniqueNames(models: readonly Pick<DiscoveredModel, 'manifest' | 'file'>[]): void {
  const { duplicates } = partitionByUniqueName(models);
  if (duplicates.length > 0) throw duplicates[0]!;
}
