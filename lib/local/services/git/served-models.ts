import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { loadManifestText, partitionByUniqueName, type DiscoveredModel } from '../../../config';
import { branchHeads, manifestsAt } from './git';

/**
 * The models a starting local cloud serves. What was pushed is the state: the manifests at the
 * heads of the data dir's bare repository, each model from the branch its manifest names. The
 * working tree only adds models that were never pushed (a first `mlship up` before any push, a
 * test that starts releases directly), and a broken manifest there is logged and skipped: an
 * uncommitted edit, or starting from another directory, must not stop or forget the endpoints
 * of what was pushed.
 */
export async function servedModels(gitDir: string, repoRoot: string, log: (line: string) => void): Promise<DiscoveredModel[]> {
  const byName = new Map<string, { model: DiscoveredModel; branch: string }>();
  for (const branch of await branchHeads(gitDir)) {
    const errors: string[] = [];
    for (const model of await manifestsAt(gitDir, branch, errors)) {
      const had = byName.get(model.manifest.name);
      // A model releases from its manifest's branch; another branch's copy only fills a gap.
      if (!had || (had.model.manifest.branch !== had.branch && model.manifest.branch === branch))
        byName.set(model.manifest.name, { model, branch });
    }
    for (const e of errors) log(`${e.replace(/^mlship: /, '')} (pushed to ${branch}); that model is skipped`);
  }
  const root = join(repoRoot, 'models');
  if (existsSync(root)) {
    const local: DiscoveredModel[] = [];
    for (const entry of readdirSync(root, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(root, entry.name, 'model.yaml');
      if (!entry.isDirectory() || !existsSync(path)) continue;
      const file = relative(repoRoot, path);
      try {
        local.push({ manifest: loadManifestText(readFileSync(path, 'utf8'), file), dir: relative(repoRoot, join(root, entry.name)), file });
      } catch (err) {
        log(`${(err as Error).message}; that model is skipped (pushed models are served from the data dir)`);
      }
    }
    // A name two directories claim is served from neither (as a push and synth decide): the
    // one that sorts first must not win a name by accident.
    const { unique, duplicates } = partitionByUniqueName(local);
    for (const d of duplicates) log(`${d.message}; neither is served`);
    for (const model of unique) if (!byName.has(model.manifest.name)) byName.set(model.manifest.name, { model, branch: '' });
  }
  return [...byName.values()].map((v) => v.model);
}
