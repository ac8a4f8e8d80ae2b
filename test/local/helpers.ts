import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { LocalCloud, type LocalCloudOptions } from '../../lib/local/cloud';

/** A local cloud on a free port with a temporary data dir, and SDK v3 clients pointed at its edge. */
export interface TestCloud {
  cloud: LocalCloud;
  dataDir: string;
  repoRoot: string;
  sfn: SFNClient;
  s3: S3Client;
  sns: SNSClient;
  close(opts?: { keepData?: boolean }): Promise<void>;
}

export function clientConfig(endpoint: string) {
  return {
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  };
}

export async function startTestCloud(opts: Partial<LocalCloudOptions> = {}): Promise<TestCloud> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'mlship-cloud-'));
  const repoRoot = opts.repoRoot ?? mkdtempSync(join(tmpdir(), 'mlship-repo-'));
  const cloud = await LocalCloud.start({ port: 0, scheduler: false, ...opts, dataDir, repoRoot });
  const cfg = clientConfig(cloud.endpoint);
  const sfn = new SFNClient(cfg);
  const s3 = new S3Client({
    ...cfg,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const sns = new SNSClient(cfg);
  return {
    cloud,
    dataDir,
    repoRoot,
    sfn,
    s3,
    sns,
    async close({ keepData = false } = {}) {
      sfn.destroy();
      s3.destroy();
      sns.destroy();
      await cloud.close();
      if (!keepData) {
        rmSync(dataDir, { recursive: true, force: true });
        if (!opts.repoRoot) rmSync(repoRoot, { recursive: true, force: true });
      }
    },
  };
}

/** Poll until `check` returns a value (not a timing assertion: the test timeout bounds it). */
export async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, intervalMs = 50): Promise<T> {
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * One HTTP request with exactly these headers (fetch cannot set Host, as a rebound page's
 * browser does); `host: ''` sends no Host header at all.
 */
export async function rawRequest(
  endpoint: string,
  o: { method?: string; path?: string; headers?: Record<string, string>; body?: string | Buffer },
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const { request } = await import('node:http');
  const url = new URL(endpoint);
  const headers = { ...o.headers };
  const setHost = headers.host !== '';
  if (!setHost) delete headers.host;
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, method: o.method ?? 'GET', path: o.path ?? '/', headers, setHost, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(o.body);
  });
}
