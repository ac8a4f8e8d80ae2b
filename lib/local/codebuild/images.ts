import { mkdirSync, readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { writeJsonAtomic } from './fsutil';

/**
 * The local image index: what ECR is to the AWS build. A build "pushes" its bundle by
 * writing `<dataDir>/images/<repo>/<tag>.json`; SageMaker resolves a model's image URI
 * through the same files. Tags are mutable (a rebuild of a commit re-points the tag),
 * digests are not.
 */
export interface ImageRecord {
  /** `<account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag>` */
  imageUri: string;
  repository: string;
  tag: string;
  /** `sha256:<hex>` of bundle.tar */
  digest: string;
  bucket: string;
  /** S3 key of the bundle tar. */
  bundleKey: string;
  /** S3 key of the bundle manifest (bundle.json). */
  manifestKey: string;
  /** The model's serve command (the image's CMD). */
  serveCommand: string;
  model: string;
  commit: string;
  /** ISO time the image was pushed. */
  created: string;
  buildId: string;
}

export interface ParsedImageUri {
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

const IMAGE_URI = /^([^/]+)\/([a-z0-9][a-z0-9._\-/]*?)(?::([\w][\w.-]{0,127}))?(?:@(sha256:[a-f0-9]{64}))?$/;

/** Split an image reference `registry/repo[:tag][@sha256:...]`; undefined when malformed. */
export function parseImageUri(uri: string): ParsedImageUri | undefined {
  const m = IMAGE_URI.exec(uri);
  if (!m || (!m[3] && !m[4])) return undefined;
  return { registry: m[1]!, repository: m[2]!, tag: m[3], digest: m[4] };
}

export class ImageIndex {
  private readonly root: string;

  /** @param dataDir the local cloud's data root; the index lives in `<dataDir>/images`. */
  constructor(dataDir: string) {
    this.root = join(dataDir, 'images');
  }

  put(record: ImageRecord): void {
    const dir = join(this.root, ...record.repository.split('/'));
    mkdirSync(dir, { recursive: true });
    writeJsonAtomic(join(dir, `${record.tag}.json`), record);
  }

  /** Resolve an image URI by tag, or by digest when the URI carries one. */
  resolve(uri: string): ImageRecord | undefined {
    const ref = parseImageUri(uri);
    if (!ref) return undefined;
    const dir = join(this.root, ...ref.repository.split('/'));
    if (!existsSync(dir)) return undefined;
    if (ref.digest) {
      for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
        const rec = this.read(join(dir, file));
        if (rec?.digest === ref.digest) return rec;
      }
      return undefined;
    }
    const rec = this.read(join(dir, `${ref.tag}.json`));
    return rec && rec.imageUri.split('/')[0] === ref.registry ? rec : undefined;
  }

  private read(path: string): ImageRecord | undefined {
    if (!existsSync(path)) return undefined;
    return JSON.parse(readFileSync(path, 'utf8')) as ImageRecord;
  }
}
