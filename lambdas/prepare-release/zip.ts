import yauzl from 'yauzl';

/**
 * Read one file out of a zip held in memory. Source archives are small (a repository
 * snapshot) and the task only needs one file, so nothing touches the disk.
 *
 * @param match picks the entry by its path inside the archive
 * @returns the file's bytes and its path, or `undefined` when no entry matches
 */
export function readZipEntry(zip: Uint8Array, match: (path: string) => boolean): Promise<{ path: string; data: Buffer } | undefined> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(Buffer.from(zip), { lazyEntries: true }, (err, archive) => {
      if (err || !archive) return reject(err ?? new Error('cannot open zip'));
      archive.on('error', reject);
      archive.on('end', () => resolve(undefined));
      archive.on('entry', (entry: yauzl.Entry) => {
        if (entry.fileName.endsWith('/') || !match(entry.fileName)) return archive.readEntry();
        archive.openReadStream(entry, (streamErr, stream) => {
          if (streamErr || !stream) return reject(streamErr ?? new Error(`cannot read ${entry.fileName}`));
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('error', reject);
          stream.on('end', () => {
            archive.close();
            resolve({ path: entry.fileName, data: Buffer.concat(chunks) });
          });
        });
      });
      archive.readEntry();
    });
  });
}
