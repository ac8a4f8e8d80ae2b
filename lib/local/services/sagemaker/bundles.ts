import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { extract } from 'tar';
import type { ImageRecord } from '../ecr';

/**
 * Bundles extracted once per digest under `<root>/<sha256 hex>/` and shared by every variant
 * and endpoint that runs the same image, like a container runtime's layer cache. The digest
 * is checked on download, so a bundle that changed in S3 is refused rather than served.
 */
export class BundleCache {
  private readonly pending = new Map<string, Promise<string>>();

  constructor(
    private readonly root: string,
    private readonly s3: S3Client,
  ) {}

  /** The extracted bundle directory of `image`, downloading it on first use. */
  ensure(image: ImageRecord): Promise<string> {
    const hex = image.digest.replace(/^sha256:/, '');
    const dir = join(this.root, hex);
    if (existsSync(join(dir, '.mlship-complete'))) return Promise.resolve(dir);
    let p = this.pending.get(hex);
    if (!p) {
      p = this.fetch(image, hex, dir).finally(() => this.pending.delete(hex));
      this.pending.set(hex, p);
    }
    return p;
  }

  private async fetch(image: ImageRecord, hex: string, dir: string): Promise<string> {
    const obj = await this.s3.send(new GetObjectCommand({ Bucket: image.bucket, Key: image.bundleKey }));
    const buf = Buffer.from(await obj.Body!.transformToByteArray());
    const actual = createHash('sha256').update(buf).digest('hex');
    if (actual !== hex) {
      throw new Error(
        `bundle s3://${image.bucket}/${image.bundleKey} has digest sha256:${actual}, but image ${image.imageUri} is ${image.digest}`,
      );
    }
    mkdirSync(this.root, { recursive: true });
    const tmp = join(this.root, `.${hex}.${randomBytes(4).toString('hex')}.tmp`);
    mkdirSync(tmp, { recursive: true });
    const tarPath = join(tmp, '.bundle.tar');
    writeFileSync(tarPath, buf);
    try {
      await extract({ file: tarPath, cwd: tmp, strict: true });
      rmSync(tarPath);
      writeFileSync(join(tmp, '.mlship-complete'), image.digest);
      if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
      renameSync(tmp, dir);
    } catch (err) {
      rmSync(tmp, { recursive: true, force: true });
      throw err;
    }
    return dir;
  }
}
