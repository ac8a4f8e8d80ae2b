// The local S3 server, run as a child process of `mlship up` (node --openssl-legacy-provider:
// s3rver's ListObjectsV2 continuation tokens use a cipher OpenSSL 3 only has in its legacy
// provider). Prints {"port": N} once listening; exits when the parent's stdin pipe closes,
// so a `kill -9` of the parent does not leave it behind.
import S3rver from 's3rver';
import AWSAccount from 's3rver/lib/models/account.js';

const [directory, bucket] = process.argv.slice(2);
if (!directory || !bucket) {
  process.stderr.write('usage: child.mjs <directory> <bucket>\n');
  process.exit(2);
}
// Every other local service accepts any credentials; s3rver only knows the key id "S3RVER".
// Unknown key ids resolve to its dummy account (it does not compute SigV4 signatures anyway).
const registry = AWSAccount.registry;
const lookup = registry.get.bind(registry);
registry.get = (id) => lookup(id) ?? AWSAccount.DUMMY_ACCOUNT;

const server = new S3rver({
  allowMismatchedSignatures: true,
  address: '127.0.0.1',
  port: 0,
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
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
