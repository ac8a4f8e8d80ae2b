import type { ChildProcess } from 'node:child_process';
import { cpSync, createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { create as createTar } from 'tar';
import { spawnChild } from '../../core/children';

/**
 * One training job's run on the laptop: SageMaker's training contract with a workspace in
 * place of the container's `/opt/ml`. The job's channels are downloaded to
 * `input/data/<channel>/`, the configuration files written to `input/config/`, the command
 * run in a copy of the image's bundle with the SM_* variables pointing into the workspace,
 * and on exit `model/` is packed to `<S3OutputPath>/<job>/output/model.tar.gz` (and
 * `output/data/` to `output.tar.gz`), as SageMaker packs them.
 *
 * Written by hand: SageMaker's container contract has no local implementation in a library
 * we use (the SageMaker Python SDK's local mode needs Docker and Python).
 */

export interface ChannelDef {
  name: string;
  /** `s3://bucket/prefix` — every object under it. */
  s3Uri: string;
}

export interface RunSpec {
  jobName: string;
  /** `<dataDir>/sagemaker/training/<job>` */
  root: string;
  bundleDir: string;
  argv: string[];
  environment: Record<string, string>;
  hyperParameters: Record<string, string>;
  channels: ChannelDef[];
  instanceType: string;
  instanceCount: number;
  checkpointS3Uri?: string;
}

export interface RunPaths {
  opt: string;
  model: string;
  output: string;
  outputData: string;
  failure: string;
  checkpoints: string;
  code: string;
  log: string;
}

export const runPaths = (root: string): RunPaths => {
  const opt = join(root, 'opt', 'ml');
  return {
    opt,
    model: join(opt, 'model'),
    output: join(opt, 'output'),
    outputData: join(opt, 'output', 'data'),
    failure: join(opt, 'output', 'failure'),
    checkpoints: join(opt, 'checkpoints'),
    code: join(root, 'code'),
    log: join(root, 'training.log'),
  };
};

export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!m) throw new Error(`not an S3 URI: ${uri}`);
  return { bucket: m[1]!, key: m[2]! };
}

/** Download every object under an S3 prefix into `dir`, keeping the paths below the prefix. */
export async function downloadPrefix(s3: S3Client, uri: string, dir: string): Promise<number> {
  const { bucket, key: prefix } = parseS3Uri(uri);
  let token: string | undefined;
  let n = 0;
  mkdirSync(dir, { recursive: true });
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) {
      if (!o.Key || o.Key.endsWith('/')) continue;
      // As SageMaker's S3Prefix: the object's path after the prefix (a bare prefix "a/b" matches "a/bc" too).
      const rest = o.Key.slice(prefix.length).replace(/^\//, '') || o.Key.split('/').at(-1)!;
      const target = join(dir, rest);
      if (!target.startsWith(dir + sep)) continue;
      const obj = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key }));
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, Buffer.from(await obj.Body!.transformToByteArray()));
      n++;
    }
    token = page.NextContinuationToken;
  } while (token);
  return n;
}

/** Whether an S3Prefix channel has an object to download; a bucket that does not exist has none. */
export async function hasObjects(s3: S3Client, uri: string): Promise<boolean> {
  const { bucket, key: prefix } = parseS3Uri(uri);
  try {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, MaxKeys: 1000 }));
    return (page.Contents ?? []).some((o) => o.Key && !o.Key.endsWith('/')) || page.IsTruncated === true;
  } catch (err) {
    if ((err as Error).name === 'NoSuchBucket') return false;
    throw err;
  }
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => relative(dir, join(d.parentPath, d.name)));
}

/** Pack a folder as SageMaker packs /opt/ml/model: a gzipped tar of its contents; undefined when empty. */
export async function packDir(dir: string, tarPath: string): Promise<Buffer | undefined> {
  const files = filesUnder(dir);
  if (files.length === 0) return undefined;
  await createTar({ cwd: dir, file: tarPath, gzip: true, portable: true }, files);
  return readFileSync(tarPath);
}

export async function uploadPrefix(s3: S3Client, dir: string, uri: string): Promise<void> {
  const { bucket, key } = parseS3Uri(uri);
  for (const f of filesUnder(dir)) {
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: `${key.replace(/\/?$/, '/')}${f.split(sep).join('/')}`,
        Body: readFileSync(join(dir, f)),
      }),
    );
  }
}

/** The /opt/ml layout, config files and channel data; returns the environment of the training process. */
export async function prepareWorkspace(s3: S3Client, spec: RunSpec): Promise<Record<string, string>> {
  const p = runPaths(spec.root);
  rmSync(spec.root, { recursive: true, force: true });
  const config = join(p.opt, 'input', 'config');
  for (const d of [config, p.model, p.outputData, p.checkpoints]) mkdirSync(d, { recursive: true });
  // A copy: the training command may write next to itself, and the bundle cache is shared by endpoints.
  cpSync(spec.bundleDir, p.code, { recursive: true });
  rmSync(join(p.code, '.mlship-complete'), { force: true });
  const channelDirs: Record<string, string> = {};
  for (const c of spec.channels) {
    channelDirs[c.name] = join(p.opt, 'input', 'data', c.name);
    await downloadPrefix(s3, c.s3Uri, channelDirs[c.name]!);
  }
  if (spec.checkpointS3Uri) await downloadPrefix(s3, spec.checkpointS3Uri, p.checkpoints);
  const hosts = Array.from({ length: spec.instanceCount }, (_, i) => `algo-${i + 1}`);
  writeFileSync(join(config, 'hyperparameters.json'), JSON.stringify(spec.hyperParameters));
  writeFileSync(
    join(config, 'inputdataconfig.json'),
    JSON.stringify(
      Object.fromEntries(spec.channels.map((c) => [c.name, { TrainingInputMode: 'File', S3DistributionType: 'FullyReplicated' }])),
    ),
  );
  writeFileSync(
    join(config, 'resourceconfig.json'),
    JSON.stringify({ current_host: 'algo-1', current_instance_type: spec.instanceType, hosts, network_interface_name: 'eth0' }),
  );
  return {
    ...spec.environment,
    TRAINING_JOB_NAME: spec.jobName,
    SM_TRAINING_JOB_NAME: spec.jobName,
    SM_MODEL_DIR: p.model,
    SM_OUTPUT_DIR: p.output,
    SM_OUTPUT_DATA_DIR: p.outputData,
    SM_INPUT_DIR: join(p.opt, 'input'),
    SM_INPUT_CONFIG_DIR: config,
    SM_CHECKPOINT_DIR: p.checkpoints,
    SM_HPS: JSON.stringify(spec.hyperParameters),
    ...Object.fromEntries(
      Object.entries(spec.hyperParameters).map(([k, v]) => [`SM_HP_${k.toUpperCase().replace(/[^A-Z0-9_]/g, '_')}`, v]),
    ),
    SM_CHANNELS: JSON.stringify(spec.channels.map((c) => c.name)),
    ...Object.fromEntries(Object.entries(channelDirs).map(([k, v]) => [`SM_CHANNEL_${k.toUpperCase().replace(/[^A-Z0-9_]/g, '_')}`, v])),
    SM_CURRENT_HOST: 'algo-1',
    SM_HOSTS: JSON.stringify(hosts),
    SM_CURRENT_INSTANCE_TYPE: spec.instanceType,
    SM_NUM_GPUS: '0',
  };
}

export interface RunningProcess {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Every log line so far (stdout and stderr), for the metric definitions. */
  lines: string[];
}

/** Start the training command as its own process group; its stdout and stderr go to the job's log. */
export function startProcess(spec: RunSpec, env: Record<string, string>): RunningProcess {
  const p = runPaths(spec.root);
  const log = createWriteStream(p.log, { flags: 'a' });
  const child = spawnChild(`training job ${spec.jobName}`, spec.argv[0]!, spec.argv.slice(1), {
    cwd: p.code,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      ...Object.fromEntries(['LANG', 'TMPDIR', 'TZ', 'USER'].filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]!])),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let partial = '';
  const onData = (chunk: Buffer) => {
    log.write(chunk);
    const parts = (partial + chunk.toString('utf8')).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('error', (err) => {
      log.write(`could not start ${spec.argv[0]}: ${err.message}\n`);
      resolve({ code: 127, signal: null });
    });
    child.on('close', (code, signal) => {
      if (partial) lines.push(partial);
      log.end();
      resolve({ code, signal });
    });
  });
  return { child, exited, lines };
}

/** SIGTERM the job's process group, SIGKILL after `graceMs` (SageMaker gives 120 s). */
export function terminate(run: RunningProcess, graceMs: number): void {
  const pid = run.child.pid;
  if (pid === undefined || run.child.exitCode !== null || run.child.signalCode !== null) return;
  const kill = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      // already gone
    }
  };
  kill('SIGTERM');
  const t = setTimeout(() => kill('SIGKILL'), graceMs);
  t.unref();
  void run.exited.then(() => clearTimeout(t));
}

/**
 * The final value of each metric: the last match of its regex in the log, as SageMaker's
 * FinalMetricDataList reports it (first capture group, a number).
 */
export function finalMetrics(lines: string[], defs: Array<{ Name: string; Regex: string }>, at: number): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const d of defs) {
    let re: RegExp;
    try {
      re = new RegExp(d.Regex);
    } catch {
      continue;
    }
    let value: number | undefined;
    for (const line of lines) {
      const m = re.exec(line);
      const v = m?.[1] !== undefined ? Number(m[1]) : NaN;
      if (Number.isFinite(v)) value = v;
    }
    if (value !== undefined) out.push({ MetricName: d.Name, Value: value, Timestamp: at });
  }
  return out;
}
