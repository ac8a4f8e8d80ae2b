import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CLOUD_FILE, DEFAULT_DATA_DIR, LOCAL_REGION } from './constants';
import { readJsonIfExists } from './core/fsutil';

/**
 * How every CLI command finds the cloud it talks to, in one order: the `--endpoint-url`
 * flag, then `AWS_ENDPOINT_URL` (what the README exports, and what every AWS client
 * honours), then the endpoint that `mlship up` wrote to `<data-dir>/cloud.json`.
 */

export interface CloudFile {
  endpoint: string;
  pid: number;
  consoleUrl?: string;
  dataDir: string;
  gitDir: string;
  startedAt: string;
}

/** No endpoint given, and no running cloud for the data dir: an expected condition, not a crash. */
export class CloudNotRunningError extends Error {
  constructor(dataDir: string, stale = false) {
    super(
      `no local cloud found: no --endpoint-url, no AWS_ENDPOINT_URL, and ${
        stale ? `the cloud in ${join(dataDir, CLOUD_FILE)} is not running any more` : `no ${join(dataDir, CLOUD_FILE)}`
      }; start one with \`mlship up\`, or pass --endpoint-url / --data-dir`,
    );
    this.name = 'CloudNotRunningError';
  }
}

/** The endpoint given is not a URL. */
export class InvalidEndpointError extends Error {
  constructor(from: string, value: string) {
    super(`${from} ${JSON.stringify(value)} is not a URL (e.g. http://127.0.0.1:4566)`);
    this.name = 'InvalidEndpointError';
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

/** Where a command looks for the cloud; `endpoint` is the older spelling of `endpointUrl`. */
export interface EndpointOptions {
  endpointUrl?: string;
  endpoint?: string;
  dataDir?: string;
}

/** The endpoint found, and where it came from (error messages name it). */
export interface DiscoveredEndpoint {
  endpoint: string;
  from: '--endpoint-url' | 'AWS_ENDPOINT_URL' | 'cloud.json';
}

/** Find the cloud: flag, then AWS_ENDPOINT_URL, then a running cloud's `<data-dir>/cloud.json`. */
export function discoverEndpoint(opts: EndpointOptions, env: NodeJS.ProcessEnv = process.env): DiscoveredEndpoint {
  const checked = (value: string, from: DiscoveredEndpoint['from']): DiscoveredEndpoint => {
    try {
      new URL(value);
    } catch {
      throw new InvalidEndpointError(from, value);
    }
    return { endpoint: value.replace(/\/$/, ''), from };
  };
  const flag = opts.endpointUrl ?? opts.endpoint;
  if (flag) return checked(flag, '--endpoint-url');
  if (env.AWS_ENDPOINT_URL) return checked(env.AWS_ENDPOINT_URL, 'AWS_ENDPOINT_URL');
  const dataDir = resolve(opts.dataDir ?? DEFAULT_DATA_DIR);
  const cloud = readCloudFile(dataDir);
  // A cloud.json left by kill -9 would send the command to a port nobody listens on.
  if (!cloud || !processAlive(cloud.pid)) throw new CloudNotRunningError(dataDir, Boolean(cloud));
  return { endpoint: cloud.endpoint, from: 'cloud.json' };
}

/** SDK v3 client options for the local cloud: its endpoint, us-east-1 and dummy credentials. */
export function localClientConfig(endpoint: string) {
  return {
    endpoint,
    region: LOCAL_REGION,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  };
}
