import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseGroundTruthLines } from '../../lambdas/ml/capture';
import { startTestCloud, type TestCloud } from './helpers';

/**
 * The real entry (bin/mlship.ts) in a directory with no `.mlship/`, as a user runs it after
 * following the README: the cloud is found from --endpoint-url, then AWS_ENDPOINT_URL, then
 * --data-dir's cloud.json, and a missing or unreachable cloud is one line and exit code 3.
 * NODE_NO_WARNINGS is deliberately not set: the CLI itself must keep stderr quiet.
 */
const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');
const TSX = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const cwd = mkdtempSync(join(tmpdir(), 'mlship-endpoint-'));
let t: TestCloud;

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run `mlship <args>` with exactly `env` on top of a clean environment (no AWS_ENDPOINT_URL, no NODE_NO_WARNINGS). */
async function mlship(args: string[], env: Record<string, string> = {}): Promise<Ran> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(AWS_|NODE_NO_WARNINGS|MLSHIP_)/.test(k))) as Record<
    string,
    string
  >;
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', TSX, join(ROOT, 'bin', 'mlship.ts'), ...args], {
      cwd,
      env: { ...base, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** One line, naming the command, and no stack frame. */
const oneLine = (stderr: string, command: string) => {
  expect(stderr.trim().split('\n')).toHaveLength(1);
  expect(stderr).toMatch(new RegExp(`^mlship ${command}: `));
  expect(stderr).not.toMatch(/\n\s+at /);
};

beforeAll(async () => {
  t = await startTestCloud();
});

afterAll(async () => {
  await t?.close();
  rmSync(cwd, { recursive: true, force: true });
});

describe('Command: every local-cloud command finds the cloud the same way', () => {
  it('with no flag, no AWS_ENDPOINT_URL and no cloud.json: one line, exit 3, no stack trace', async () => {
    // Act
    const status = await mlship(['status']);
    const logs = await mlship(['logs', 'some-execution']);
    const approvals = await mlship(['approvals']);

    // Assess
    for (const [r, name] of [
      [status, 'status'],
      [logs, 'logs'],
      [approvals, 'approvals'],
    ] as const) {
      expect(r.code).toBe(3);
      oneLine(r.stderr, name);
      expect(r.stderr).toContain('no local cloud found');
    }
  });

  it('uses AWS_ENDPOINT_URL, as the README exports it, for status, drift run and approvals', async () => {
    // Act
    const status = await mlship(['status', '--json'], { AWS_ENDPOINT_URL: t.cloud.endpoint });
    const drift = await mlship(['drift', 'run', 'no-such-model'], { AWS_ENDPOINT_URL: t.cloud.endpoint });
    const approvals = await mlship(['approvals', '--json'], { AWS_ENDPOINT_URL: t.cloud.endpoint });

    // Assess
    expect(status).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(status.stdout)).toEqual(expect.any(Array));
    expect(drift).toMatchObject({ code: 0, stderr: '' });
    expect(drift.stdout).toMatch(/started drift check no-such-model-drift-/);
    expect(approvals).toMatchObject({ code: 0, stderr: '' });
  });

  it('prefers --endpoint-url to AWS_ENDPOINT_URL, and AWS_ENDPOINT_URL to --data-dir', async () => {
    // Act
    const flag = await mlship(['status', '--json', '--endpoint-url', t.cloud.endpoint], { AWS_ENDPOINT_URL: 'http://127.0.0.1:1' });
    const env = await mlship(['status', '--data-dir', t.dataDir], { AWS_ENDPOINT_URL: 'http://127.0.0.1:1' });
    const dataDir = await mlship(['approvals', '--json', '--data-dir', t.dataDir]);

    // Assess
    expect(flag).toMatchObject({ code: 0, stderr: '' });
    expect(env.code).toBe(3);
    oneLine(env.stderr, 'status');
    expect(env.stderr).toContain('cannot reach the cloud at http://127.0.0.1:1 (ECONNREFUSED)');
    expect(dataDir).toMatchObject({ code: 0, stderr: '' });
  });

  it('refuses an endpoint that is not a URL with exit 2', async () => {
    const r = await mlship(['invoke', 'm', '{}', '--endpoint-url', 'not a url']);
    expect(r.code).toBe(2);
    oneLine(r.stderr, 'invoke');
  });
});

describe('Command: mlship on Node.js 20', () => {
  it('prints no NodeVersionSupportWarning from the AWS SDK', async () => {
    // Act: a command that sends SDK requests
    const r = await mlship(['status', '--endpoint-url', t.cloud.endpoint]);

    // Assess
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain('NodeVersionSupportWarning');
    expect(r.stderr).toBe('');
  });
});

describe('Command: mlship ground-truth', () => {
  it('uploads a CSV of labels as Model Monitor ground truth under ground-truth/<model>/yyyy/mm/dd/hh/', async () => {
    // Prepare: a regression model's manifest in the repository, and its labels
    mkdirSync(join(cwd, 'models', 'parcel-eta'), { recursive: true });
    writeFileSync(
      join(cwd, 'models', 'parcel-eta', 'model.yaml'),
      'name: parcel-eta\ntask: regression\npaths: ["models/parcel-eta/**"]\nserve:\n  command: node server.js\nfeatures:\n  - { name: km, type: numeric }\nlabel: hours\n',
    );
    writeFileSync(join(cwd, 'labels.csv'), 'inferenceId,label\nreq-1,12.5\nreq-2,3\n');

    // Act
    const r = await mlship(['ground-truth', 'parcel-eta', 'labels.csv', '--json'], { AWS_ENDPOINT_URL: t.cloud.endpoint });

    // Assess
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const out = JSON.parse(r.stdout) as { key: string; labels: number };
    expect(out.labels).toBe(2);
    expect(out.key).toMatch(/^ground-truth\/parcel-eta\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/labels-\d+\.jsonl$/);
    const listed = await t.s3.send(new ListObjectsV2Command({ Bucket: 'mlship-artifacts', Prefix: 'ground-truth/parcel-eta/' }));
    expect(listed.Contents?.map((o) => o.Key)).toEqual([out.key]);
    const body = await (await t.s3.send(new GetObjectCommand({ Bucket: 'mlship-artifacts', Key: out.key }))).Body!.transformToString();
    expect(parseGroundTruthLines(body)).toEqual([
      { eventId: 'req-1', labels: ['12.5'] },
      { eventId: 'req-2', labels: ['3'] },
    ]);
  });

  it('refuses a bad file with exit 2, naming the file and line, and uploads nothing', async () => {
    // Prepare
    writeFileSync(join(cwd, 'bad.jsonl'), '{"inferenceId":"req-9","label":"soon"}\n');

    // Act
    const r = await mlship(['ground-truth', 'parcel-eta', 'bad.jsonl'], { AWS_ENDPOINT_URL: t.cloud.endpoint });

    // Assess
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`bad.jsonl:1: label "soon" is not a number`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const listed = await t.s3.send(new ListObjectsV2Command({ Bucket: 'mlship-artifacts', Prefix: 'ground-truth/parcel-eta/' }));
    expect(listed.Contents ?? []).toHaveLength(1);
  });
});
