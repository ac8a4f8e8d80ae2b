import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localDecider } from '../../lib/console/decision-client';
import { discoverModels } from '../../lib/config';
import { LocalCloud } from '../../lib/local/cloud';

/**
 * `mlship init` for both templates in a fresh repository, then both scaffolds released through
 * the local cloud as they are, with `--fast` time (Wait states, bake times 50x faster):
 * build (with the scaffold's own tests), staging, evaluation gate, load test, approval,
 * canary to production.
 */
const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');
const TSX = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const temp = mkdtempSync(join(tmpdir(), 'mlship-init-'));
const repo = join(temp, 'repo');
const MODELS = { node: 'parcel-node', python: 'parcel-py' } as const;
let cloud: LocalCloud;
let s3: S3Client;
let sfn: SFNClient;
let runtime: SageMakerRuntimeClient;

const mlship = (...args: string[]) =>
  run(process.execPath, ['--import', TSX, join(ROOT, 'bin', 'mlship.ts'), ...args], {
    cwd: repo,
    env: { ...process.env, NODE_NO_WARNINGS: '1' },
  });
const git = (...args: string[]) => run('git', ['-C', repo, '-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args]);

async function getJson(key: string): Promise<any | undefined> {
  try {
    return JSON.parse(await (await s3.send(new GetObjectCommand({ Bucket: cloud.bucket, Key: key }))).Body!.transformToString());
  } catch (err) {
    if ((err as Error).name === 'NoSuchKey') return undefined;
    throw err;
  }
}

/** Release a model at HEAD, approve it when asked, and wait for the end. */
async function releaseApproved(model: string, commitId: string) {
  const { stdout: zip } = await run('git', ['-C', repo, 'archive', '--format=zip', commitId], {
    encoding: 'buffer',
    maxBuffer: 64 * 1024 * 1024,
  });
  const sourceUri = await cloud.uploadSource(model, commitId, zip);
  const { executionArn, name } = await cloud.startWorkflow('release', `${model}-${commitId.slice(0, 8)}`, {
    model,
    commitId,
    sourceUri,
    trigger: 'manual',
    pollSeconds: 1,
  });
  const running = () => cloud.stepFunctions.records().find((r) => r.executionArn === executionArn)?.status === 'RUNNING';
  for (;;) {
    const approval = await getJson(`approvals/${model}/${name}.json`);
    if (approval?.status === 'pending') {
      const res = await localDecider(cloud.endpoint)({ id: `${model}/${name}`, decision: 'approve', by: 'init-test', comment: 'scaffold' });
      if (!res.ok) throw new Error(`approve ${model}: ${res.status} ${res.error}: ${res.message}`);
      break;
    }
    if (!running()) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const record = await cloud.stepFunctions.waitForExecution(executionArn);
  const failures = cloud.stepFunctions
    .history(executionArn)
    .filter((e) => e.type === 'TaskFailed' || e.type === 'ExecutionFailed')
    .map((e) => JSON.stringify(e.taskFailedEventDetails ?? e.executionFailedEventDetails));
  return { record, why: `${record.status} ${record.error ?? ''}: ${record.cause ?? ''}\n${failures.join('\n')}` };
}

beforeAll(async () => {
  mkdirSync(repo, { recursive: true });
  await run('git', ['init', '--quiet', '--initial-branch=main', repo]);
});

afterAll(async () => {
  s3?.destroy();
  sfn?.destroy();
  runtime?.destroy();
  await cloud?.close();
  rmSync(temp, { recursive: true, force: true });
});

describe('Command: mlship init', () => {
  it('scaffolds both templates with valid manifests, and refuses an existing model or a bad name with exit 2', async () => {
    // Act
    const node = await mlship('init', MODELS.node, '--template', 'node', '--json');
    const python = await mlship('init', MODELS.python, '--template', 'python');
    const again = await mlship('init', MODELS.node).catch((e: { code: number; stderr: string }) => e);
    const badName = await mlship('init', 'Bad_Name').catch((e: { code: number; stderr: string }) => e);

    // Assess
    expect(JSON.parse(node.stdout).files).toEqual(
      expect.arrayContaining([
        `models/${MODELS.node}/model.yaml`,
        `models/${MODELS.node}/serve.mjs`,
        `models/${MODELS.node}/buildspec.yml`,
        `models/${MODELS.node}/Dockerfile`,
        `models/${MODELS.node}/test/model.test.mjs`,
      ]),
    );
    expect(python.stdout).toContain(`Created models/${MODELS.python}/ (python template`);
    const models = discoverModels(repo);
    expect(models.map((m) => [m.manifest.name, m.manifest.serve.command])).toEqual([
      [MODELS.node, 'node serve.mjs'],
      [MODELS.python, 'python3 serve.py'],
    ]);
    expect(readFileSync(join(repo, 'models', MODELS.node, 'model.yaml'), 'utf8')).toMatch(/^# /m);
    // Standard library only: nothing the build would have to pip-install.
    const pyBuild = readFileSync(join(repo, 'models', MODELS.python, 'buildspec.yml'), 'utf8');
    expect(pyBuild).not.toMatch(/\bpip3? install|requirements\.txt/);
    expect(again).toMatchObject({ code: 2 });
    expect(again.stderr).toContain(`models/${MODELS.node} already exists`);
    expect(badName).toMatchObject({ code: 2 });
  });

  it('releases both scaffolds as they are, through the local cloud to production', async () => {
    // Prepare
    await git('add', '-A');
    await git('commit', '--quiet', '-m', 'Add two scaffolded models');
    const commitId = (await git('rev-parse', 'HEAD')).stdout.trim();
    process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
    cloud = await LocalCloud.start({ port: 0, dataDir: join(temp, 'data'), repoRoot: repo, timeScale: 0.02, scheduler: false });
    const cfg = { endpoint: cloud.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
    s3 = new S3Client({
      ...cfg,
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    sfn = new SFNClient(cfg);
    runtime = new SageMakerRuntimeClient(cfg);

    // Act: both at once, as one push touching both would start them
    const [node, python] = await Promise.all([releaseApproved(MODELS.node, commitId), releaseApproved(MODELS.python, commitId)]);

    // Assess
    expect(node.record.status, node.why).toBe('SUCCEEDED');
    expect(python.record.status, python.why).toBe('SUCCEEDED');
    for (const model of Object.values(MODELS)) {
      expect((await getJson(`registry/${model}/production.json`))?.version).toEqual(expect.any(String));
      const out = await runtime.send(
        new InvokeEndpointCommand({
          EndpointName: `mlship-${model}-production`,
          ContentType: 'application/json',
          Body: Buffer.from(JSON.stringify({ instances: [{ x1: 1, x2: 2, segment: 'b' }] })),
        }),
      );
      const value = (JSON.parse(Buffer.from(out.Body!).toString('utf8')) as { predictions: { value: number }[] }).predictions[0]!.value;
      expect(Math.abs(value - 6)).toBeLessThan(0.5);
    }

    // The build id `mlship status` shows is the one `mlship logs` takes (issue 16.7).
    const rows = JSON.parse((await mlship('status', '--json', '--endpoint-url', cloud.endpoint)).stdout) as {
      name: string;
      buildId?: string;
    }[];
    const buildId = rows.find((r) => r.name.startsWith(MODELS.node))?.buildId;
    expect(buildId).toMatch(new RegExp(`^mlship-build-${MODELS.node}:[0-9a-f-]{36}$`));
    const logs = await mlship('logs', buildId!, '--endpoint-url', cloud.endpoint);
    expect(logs.stdout).toContain(`build ${buildId}: SUCCEEDED`);
    expect(logs.stdout).toContain('trained on 3000 rows');
  }, 600_000);
});
