/** `mlship data put <path> <s3-uri>`: training data where a manifest's training channel reads it. */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative, sep } from 'node:path';
import { CreateBucketCommand, HeadBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { Command } from 'commander';
import { addTargetOptions, targetOptionsFrom, type TargetCliOptions } from '../../console/cli';
import { resolveTarget, TargetOptionsError, type Target } from '../../console/target';
import { CliError, EXIT_CODE, EXIT_CODES_HELP, reportError } from '../run';

interface DataPutOptions extends TargetCliOptions {
  json?: boolean;
}

export function register(program: Command): void {
  const data = new Command('data').description("Training data for the models' SageMaker training jobs (training.channels in model.yaml)");
  const put = new Command('put')
    .description(
      'Upload a file, or a folder with everything under it, to an S3 URI: a prefix ending in / keeps the file names (and the folder layout), ' +
        "otherwise a single file becomes that key. Locally the bucket is created if the cloud's S3 does not have it; on AWS (--aws) it must exist.",
    )
    .argument('<path>', 'a file or a folder')
    .argument('<s3-uri>', 'where to, e.g. s3://team-datasets/breast-cancer/train/ (the channel in model.yaml)')
    .option('--json', 'print the outcome as JSON');
  addTargetOptions(put).addHelpText('after', EXIT_CODES_HELP);
  put.action(async (path: string, uri: string, opts: DataPutOptions) => {
    try {
      const target = resolveTarget(targetOptionsFrom(opts));
      try {
        const result = await putData(target, path, uri);
        process.stdout.write(opts.json ? `${JSON.stringify(result, null, 2)}\n` : `Uploaded ${result.files} file(s) to ${result.uri}\n`);
      } finally {
        target.s3.destroy();
        target.sfn.destroy();
      }
      process.exitCode = EXIT_CODE.ok;
    } catch (err) {
      if (err instanceof TargetOptionsError) {
        process.stderr.write(`mlship data put: ${err.message}\n`);
        process.exitCode = EXIT_CODE.usage;
      } else reportError('data put', err, opts.endpointUrl ?? opts.endpoint);
    }
  });
  data.addCommand(put);
  program.addCommand(data);
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => relative(dir, join(d.parentPath, d.name)).split(sep).join('/'))
    .sort();
}

/**
 * Upload `path` (a file or a folder) to `uri`.
 * @throws CliError (usage) for a destination that is not an s3:// URI or a path that does not exist
 */
export async function putData(target: Target, path: string, uri: string): Promise<{ files: number; uri: string }> {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/?(.*)$/.exec(uri);
  if (!m) throw new CliError(`${uri}: not an S3 URI (s3://bucket/prefix/)`, EXIT_CODE.usage);
  if (!existsSync(path)) throw new CliError(`${path}: no such file or folder`, EXIT_CODE.usage);
  const [, bucket, key] = m as unknown as [string, string, string];
  const isDir = statSync(path).isDirectory();
  if (isDir && key !== '' && !key.endsWith('/'))
    throw new CliError(`${uri}: a folder goes under a prefix; end the URI with /`, EXIT_CODE.usage);
  const uploads = isDir
    ? filesUnder(path).map((f) => ({ file: join(path, f), key: `${key}${f}` }))
    : [{ file: path, key: key === '' || key.endsWith('/') ? `${key}${basename(path)}` : key }];
  if (target.kind === 'local') await ensureLocalBucket(target, bucket);
  for (const u of uploads) await target.s3.send(new PutObjectCommand({ Bucket: bucket, Key: u.key, Body: readFileSync(u.file) }));
  return { files: uploads.length, uri };
}

/** The local cloud's S3 holds only the artifact bucket at first; a team's data bucket is made on first use. */
async function ensureLocalBucket(target: Target, bucket: string): Promise<void> {
  try {
    await target.s3.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch (err) {
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status !== 404 && (err as Error).name !== 'NotFound' && (err as Error).name !== 'NoSuchBucket') throw err;
    await target.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  }
}
