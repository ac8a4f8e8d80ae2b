import { createWriteStream, mkdirSync, chmodSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';

/** A source archive that cannot be extracted: corrupt, or an entry escaping the workspace. */
export class SourceArchiveError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SourceArchiveError';
  }
}

const openZip = (buf: Buffer): Promise<yauzl.ZipFile> =>
  new Promise((res, rej) =>
    yauzl.fromBuffer(buf, { lazyEntries: true, strictFileNames: false }, (err, zip) => (err ? rej(err) : res(zip))),
  );

/**
 * Extract a zip into `dest`, keeping the unix mode bits (so `./train.sh` stays executable)
 * and refusing entries that would land outside `dest` ("zip slip").
 */
export async function extractZip(buf: Buffer, dest: string): Promise<number> {
  let zip: yauzl.ZipFile;
  try {
    zip = await openZip(buf);
  } catch (err) {
    throw new SourceArchiveError(`source archive is not a valid zip: ${(err as Error).message}`, { cause: err });
  }
  const root = resolve(dest);
  mkdirSync(root, { recursive: true });
  let files = 0;
  await new Promise<void>((res, rej) => {
    zip.on('error', rej);
    zip.on('end', res);
    zip.on('entry', (entry: yauzl.Entry) => {
      const target = resolve(root, entry.fileName);
      if (target !== root && !target.startsWith(root + sep)) {
        zip.close();
        rej(new SourceArchiveError(`source archive entry "${entry.fileName}" points outside the workspace`));
        return;
      }
      if (entry.fileName.endsWith('/')) {
        mkdirSync(target, { recursive: true });
        zip.readEntry();
        return;
      }
      mkdirSync(dirname(target), { recursive: true });
      zip.openReadStream(entry, (err, stream) => {
        if (err) return rej(err);
        pipeline(stream, createWriteStream(target))
          .then(() => {
            const mode = (entry.externalFileAttributes >>> 16) & 0o777;
            if (mode) chmodSync(target, mode);
            files++;
            zip.readEntry();
          })
          .catch(rej);
      });
    });
    zip.readEntry();
  });
  return files;
}

/** Workspace layout of one build: `src/` is CODEBUILD_SRC_DIR, `tmp/` holds the phase env files. */
export function workspacePaths(root: string) {
  return { root, src: join(root, 'src'), tmp: join(root, 'tmp') };
}
