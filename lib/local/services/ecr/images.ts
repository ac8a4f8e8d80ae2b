import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, existsSync, linkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The local image index: what ECR is to the AWS build. A build "pushes" its bundle by
 * writing `<dataDir>/images/<repo>/<tag>.json`; SageMaker resolves a model's image URI
 * through the same files. Tags are immutable, as the ECR repositories on AWS are
 * (`IMMUTABLE`): a push of an existing tag is refused, so a build that would fail to push
 * on AWS fails here too. Each build tags `<commit>-<build number>`.
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

/**
 * A push of a tag the repository already holds, refused as ECR refuses it in an
 * `IMMUTABLE` repository; `name` is ECR's error code.
 */
export class ImageTagAlreadyExistsError extends Error {
  constructor(
    readonly repository: string,
    readonly tag: string,
  ) {
    super(
      `The image tag '${tag}' already exists in the '${repository}' repository and cannot be overwritten because the repository is immutable.`,
    );
    this.name = 'ImageTagAlreadyExistsException';
  }
}

export class ImageIndex {
  private readonly root: string;

  /** @param dataDir the local cloud's data root; the index lives in `<dataDir>/images`. */
  constructor(dataDir: string) {
    this.root = join(dataDir, 'images');
  }

  /**
   * Push an image: record its tag.
   * @throws ImageTagAlreadyExistsError when the repository holds the tag already
   */
  put(record: ImageRecord): void {
    const dir = join(this.root, ...record.repository.split('/'));
    mkdirSync(dir, { recursive: true });
    // Write a temporary sibling, then hard-link it to the tag's name: the link is atomic and
    // fails when the name exists, so two concurrent pushes of one tag cannot both win (a
    // rename would silently replace the first).
    const path = join(dir, `${record.tag}.json`);
    const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    writeFileSync(tmp, JSON.stringify(record, null, 2));
    try {
      linkSync(tmp, path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new ImageTagAlreadyExistsError(record.repository, record.tag);
      throw err;
    } finally {
      unlinkSync(tmp);
    }
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
