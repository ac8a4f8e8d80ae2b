import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/** Debian's awscli (v2), run as a user would against the local cloud with --endpoint-url. */
export const AWS_CLI = '/usr/bin/aws';
export const hasAwsCli = existsSync(AWS_CLI);
const run = promisify(execFile);
const home = mkdtempSync(join(tmpdir(), 'mlship-awscli-home-'));

export interface AwsCliResult {
  code: number;
  out: string;
  err: string;
  json?: any;
}

export function awsCli(endpoint: string, ...args: string[]): Promise<AwsCliResult> {
  return awsCliAs({ accessKeyId: 'test', secretAccessKey: 'test' }, endpoint, ...args);
}

/** The same with given credentials (the local cloud's task credential, for what only its tasks may do). */
export async function awsCliAs(
  credentials: { accessKeyId: string; secretAccessKey: string },
  endpoint: string,
  ...args: string[]
): Promise<AwsCliResult> {
  try {
    const { stdout, stderr } = await run(AWS_CLI, ['--endpoint-url', endpoint, '--output', 'json', ...args], {
      env: {
        PATH: process.env.PATH,
        HOME: home,
        AWS_ACCESS_KEY_ID: credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        AWS_DEFAULT_REGION: 'us-east-1',
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_PAGER: '',
      },
    });
    let json: unknown;
    try {
      json = stdout.trim() ? JSON.parse(stdout) : undefined;
    } catch {
      json = undefined;
    }
    return { code: 0, out: stdout, err: stderr, json };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout, err: e.stderr };
  }
}
