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
 * broken manifest, and when two manifests name the same model.
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
    const twin = found.find((m) => m.manifest.name === manifest.name);
    if (twin) {
      throw new ManifestError(`${file}: name: "${manifest.name}" is already the name of ${twin.file}; model names must be unique`, file);
    }
    found.push({ manifest, dir: relative(repoRoot, join(root, entry.name)), file });
  }
  return found;
}
