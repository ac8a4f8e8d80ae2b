import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CLOUD_FILE, DEFAULT_DATA_DIR, LOCAL_REGION } from './constants';
import { readJsonIfExists } from './fsutil';

/**
 * How CLI commands find the running local cloud: `--endpoint` wins, then the endpoint that
 * `mlship up` wrote to `<data-dir>/cloud.json`.
 */

export interface CloudFile {
  endpoint: string;
  pid: number;
  consoleUrl?: string;
  dataDir: string;
  gitDir: string;
  startedAt: string;
}

export class CloudNotRunningError extends Error {
  constructor(dataDir: string) {
    super(`no local cloud is running for ${dataDir} (no ${CLOUD_FILE}); start one with \`mlship up\` or pass --endpoint`);
    this.name = 'CloudNotRunningError';
  }
}

export function readCloudFile(dataDir = DEFAULT_DATA_DIR): CloudFile | undefined {
  const file = join(resolve(dataDir), CLOUD_FILE);
  return existsSync(file) ? readJsonIfExists<CloudFile>(file) : undefined;
}

/** Whether a process with this id is alive (signal 0 only checks). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The cloud file of a local cloud that is still running for `dataDir`, if any (a stale file after kill -9 is ignored). */
export function runningCloud(dataDir = DEFAULT_DATA_DIR): CloudFile | undefined {
  const found = readCloudFile(dataDir);
  return found && processAlive(found.pid) ? found : undefined;
}

export function resolveEndpoint(opts: { endpoint?: string; dataDir?: string }): string {
  if (opts.endpoint) return opts.endpoint.replace(/\/$/, '');
  const cloud = readCloudFile(opts.dataDir);
  if (!cloud) throw new CloudNotRunningError(resolve(opts.dataDir ?? DEFAULT_DATA_DIR));
  return cloud.endpoint;
}

/** SDK v3 client options for the local cloud: its endpoint, us-east-1 and dummy credentials. */
export function localClientConfig(endpoint: string) {
  return {
    endpoint,
    region: LOCAL_REGION,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  };
}
