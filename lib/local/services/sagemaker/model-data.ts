import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { extract } from 'tar';

/**
 * A model's ModelDataUrl (a training job's model.tar.gz), extracted once per content digest
 * under `<root>/<sha256 hex>/`: the model server's SM_MODEL_DIR, as SageMaker extracts the
 * archive into /opt/ml/model before it starts the container.
 */
export class ModelDataCache {
  private readonly pending = new Map<string, Promise<string>>();

  constructor(
    private readonly root: string,
    private readonly s3: S3Client,
  ) {}

  ensure(url: string): Promise<string> {
    let p = this.pending.get(url);
    if (!p) {
      p = this.fetch(url).finally(() => this.pending.delete(url));
      this.pending.set(url, p);
    }
    return p;
  }

  private async fetch(url: string): Promise<string> {
    const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(url);
    if (!m) throw new Error(`ModelDataUrl ${url} is not an s3:// URL`);
    const obj = await this.s3.send(new GetObjectCommand({ Bucket: m[1], Key: m[2] }));
    const buf = Buffer.from(await obj.Body!.transformToByteArray());
    const hex = createHash('sha256').update(buf).digest('hex');
    const dir = join(this.root, hex);
    if (existsSync(join(dir, '.mlship-complete'))) return dir;
    mkdirSync(this.root, { recursive: true });
    const tmp = join(this.root, `.${hex}.${randomBytes(4).toString('hex')}.tmp`);
    mkdirSync(tmp, { recursive: true });
    const archive = join(this.root, `.${hex}.${randomBytes(4).toString('hex')}.tar.gz`);
    writeFileSync(archive, buf);
    try {
      await extract({ file: archive, cwd: tmp, strict: true });
      writeFileSync(join(tmp, '.mlship-complete'), url);
      if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
      renameSync(tmp, dir);
    } catch (err) {
      rmSync(tmp, { recursive: true, force: true });
      throw new Error(`ModelDataUrl ${url}: not a readable .tar.gz: ${(err as Error).message}`, { cause: err });
    } finally {
      rmSync(archive, { force: true });
    }
    return dir;
  }
}
