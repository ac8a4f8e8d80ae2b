// The local S3 server, run as a child process of `mlship up` (node --openssl-legacy-provider:
// s3rver's ListObjectsV2 continuation tokens use a cipher OpenSSL 3 only has in its legacy
// provider). Prints {"port": N} once listening; exits when the parent's stdin pipe closes:
// at the parent's close(), or when the parent dies, `kill -9` included, so it is never left behind.
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import S3rver from 's3rver';
import AWSAccount from 's3rver/lib/models/account.js';
import FilesystemStore from 's3rver/lib/stores/filesystem.js';
import S3rverObject from 's3rver/lib/models/object.js';

// A Ctrl-C or a kill of `mlship up`'s process group can reach this process with `mlship up`,
// whose graceful stop still writes to S3 (data capture's last records, the journal's
// uploads) before it closes this server. So the signals are ignored, from before the port
// is announced (once it is, the parent may be signalled any moment); the parent's close()
// ends stdin when it is done with S3.
process.on('SIGTERM', () => {});
process.on('SIGINT', () => {});

const S3rverObjectAllowed = new Set(S3rverObject.ALLOWED_METADATA);

// The port is given on a restart (server.ts), so clients holding the URL reach the new process.
const [directory, bucket, portArg = '0'] = process.argv.slice(2);
if (!directory || !bucket) {
  process.stderr.write('usage: child.mjs <directory> <bucket> [port]\n');
  process.exit(2);
}
// Every other local service accepts any credentials; s3rver only knows the key id "S3RVER".
// Unknown key ids resolve to its dummy account (it does not compute SigV4 signatures anyway).
const registry = AWSAccount.registry;
const lookup = registry.get.bind(registry);
registry.get = (id) => lookup(id) ?? AWSAccount.DUMMY_ACCOUNT;

// s3rver answers a PUT before the object's bytes are on disk and rewrites the file in place,
// so a GET right after a PUT (or during an overwrite, or after a crash) can read a truncated
// object. S3 is strongly read-after-write consistent and the data dir must survive kill -9:
// write each file to a temp name, fsync, and rename it into place; the object file last, so
// it appears together with its metadata.
const tempOf = (path) => `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
async function syncAndRename(tmp, path) {
  const fh = await open(tmp, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}
async function writeFileAtomic(path, data) {
  const tmp = tempOf(path);
  await writeFile(tmp, data);
  await syncAndRename(tmp, path);
}
FilesystemStore.prototype.putMetadata = async function putMetadata(bucket, key, metadata, md5) {
  const json = {};
  for (const [k, v] of Object.entries(metadata ?? {})) {
    if (S3rverObjectAllowed.has(k) || k.startsWith('x-amz-meta-')) json[k] = v;
  }
  await mkdir(dirname(this.getResourcePath(bucket, key, 'metadata.json')), { recursive: true });
  if (md5) await writeFileAtomic(this.getResourcePath(bucket, key, 'object.md5'), md5);
  await writeFileAtomic(this.getResourcePath(bucket, key, 'metadata.json'), JSON.stringify(json, null, 2));
};
FilesystemStore.prototype.putObject = async function putObject(object) {
  const objectPath = this.getResourcePath(object.bucket, object.key, 'object');
  await mkdir(dirname(objectPath), { recursive: true });
  const tmp = tempOf(objectPath);
  const md5Context = createHash('md5');
  let size = 0;
  const source = Buffer.isBuffer(object.content) ? Readable.from([object.content]) : object.content;
  const count = new Transform({
    transform(chunk, encoding, callback) {
      md5Context.update(chunk, encoding);
      size += chunk.length;
      callback(null, chunk);
    },
  });
  await pipeline(source, count, createWriteStream(tmp));
  const md5 = md5Context.digest('hex');
  await this.putMetadata(object.bucket, object.key, object.metadata, md5);
  await syncAndRename(tmp, objectPath);
  return { size, md5 };
};

const server = new S3rver({
  allowMismatchedSignatures: true,
  address: '127.0.0.1',
  port: Number(portArg),
  directory,
  silent: true,
  configureBuckets: [{ name: bucket }],
});
const { port } = await server.run();
process.stdout.write(`${JSON.stringify({ port })}\n`);
process.stdin.resume();
const stop = () => server.close().finally(() => process.exit(0));
process.stdin.on('end', stop);
process.stdin.on('close', stop);
