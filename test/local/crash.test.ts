import { execFile, spawn, type ChildProcess } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeEndpointCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { DescribeExecutionCommand, GetExecutionHistoryCommand, RedriveExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { LocalCloud } from '../../lib/local/cloud';
import { localDecider } from '../../lib/console/decision-client';
import { eventually } from './helpers';

/**
 * Crash safety of the local cloud (issue 14.7 and 14.9): `kill -9` of a cloud in the middle of
 * a build, an approval wait and a canary; then a restart from a directory without models/.
 */

const run = promisify(execFile);
const FIXTURE = join(import.meta.dirname, '..', 'workflow', 'fixtures', 'tiny');
const TIME_SCALE = 0.05;
const BUCKET = 'mlship-artifacts';
const temp = mkdtempSync(join(tmpdir(), 'mlship-crash-'));
const dataDir = join(temp, 'data');
const repo = join(temp, 'repo');
const elsewhere = join(temp, 'elsewhere');
const goFile = join(temp, 'build-may-finish');
let child: ChildProcess | undefined;
let cloud: LocalCloud | undefined;
const clients: Array<{ destroy(): void }> = [];

afterAll(async () => {
  child?.kill('SIGKILL');
  for (const c of clients) c.destroy();
  await cloud?.close();
  rmSync(temp, { recursive: true, force: true });
});

function sdk(endpoint: string) {
  const cfg = { endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
  const out = {
    sfn: new SFNClient(cfg),
    s3: new S3Client({
      ...cfg,
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    }),
    sagemaker: new SageMakerClient(cfg),
    runtime: new SageMakerRuntimeClient(cfg),
  };
  clients.push(...Object.values(out));
  return { ...out, endpoint };
}
type Sdk = ReturnType<typeof sdk>;

/** A copy of the workflow tests' tiny model named `name`; `edit` changes its manifest text. */
function addModel(name: string, edit: (yaml: string) => string = (y) => y, buildFirst?: string): void {
  const dir = join(repo, 'models', name);
  cpSync(FIXTURE, dir, { recursive: true });
  const manifest = readFileSync(join(FIXTURE, 'model.yaml'), 'utf8')
    .replace('name: tiny', `name: ${name}`)
    .replace('models/tiny/**', `models/${name}/**`);
  writeFileSync(join(dir, 'model.yaml'), edit(manifest));
  let buildspec = readFileSync(join(FIXTURE, 'buildspec.yml'), 'utf8').replaceAll('models/tiny/', `models/${name}/`);
  if (buildFirst) buildspec = buildspec.replace('    commands:\n', `    commands:\n      - ${buildFirst}\n`);
  writeFileSync(join(dir, 'buildspec.yml'), buildspec);
}

/** Commit the repository and push it to the cloud's bare repository; returns the started executions by model. */
async function push(message: string): Promise<Record<string, string>> {
  const g = (...args: string[]) => run('git', ['-C', repo, '-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args]);
  await g('add', '-A');
  await g('commit', '--quiet', '-m', message);
  const { stdout, stderr } = await g('push', '--quiet', join(dataDir, 'git', 'models.git'), 'main');
  const started: Record<string, string> = {};
  for (const m of `${stdout}${stderr}`.matchAll(/started release \S+ for (\S+) at \S+\s*\n(?:remote: )?mlship:\s+(arn:\S+)/g))
    started[m[1]!] = m[2]!;
  return started;
}

const nameOf = (arn: string) => arn.split(':').at(-1)!;

/** How many "awaits approval" notifications the cloud has published for a model. */
function approvalRequests(model: string): number {
  const feed = join(dataDir, 'notifications.jsonl');
  if (!existsSync(feed)) return 0;
  return readFileSync(feed, 'utf8')
    .split('\n')
    .filter((l) => l.includes('approval-requested') && l.includes(`"model":"${model}"`)).length;
}

async function statesEntered(c: Sdk, executionArn: string): Promise<string[]> {
  const h = await c.sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }));
  return (h.events ?? []).filter((e) => e.type?.endsWith('StateEntered')).map((e) => e.stateEnteredEventDetails!.name!);
}

async function status(c: Sdk, executionArn: string): Promise<string> {
  return (await c.sfn.send(new DescribeExecutionCommand({ executionArn }))).status!;
}

/** The pending approval record's text. */
async function pendingApproval(c: Sdk, model: string, executionArn: string): Promise<string | undefined> {
  if ((await status(c, executionArn)) !== 'RUNNING')
    throw new Error(`${nameOf(executionArn)} ended before its approval: ${await status(c, executionArn)}`);
  try {
    const out = await c.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: `approvals/${model}/${nameOf(executionArn)}.json` }));
    const text = await out.Body!.transformToString();
    return JSON.parse(text).status === 'pending' ? text : undefined;
  } catch {
    return undefined;
  }
}

const approve = async (c: Sdk, model: string, executionArn: string) => {
  const res = await localDecider(c.endpoint)({ id: `${model}/${nameOf(executionArn)}`, decision: 'approve', by: 'crash-test' });
  if (!res.ok) throw new Error(`approve ${model}: ${res.status} ${res.error}: ${res.message}`);
  return res;
};

/** Live (not zombie) processes whose working directory is inside `dir`: build scripts and model servers. */
function processesIn(dir: string): Array<{ pid: number; cwd: string }> {
  const real = realpathSync(dir);
  const out: Array<{ pid: number; cwd: string }> = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      if (/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2))) continue;
      const cwd = readlinkSync(`/proc/${d}/cwd`);
      if (cwd.startsWith(real)) out.push({ pid: Number(d), cwd });
    } catch {
      // ended between the listing and the read
    }
  }
  return out;
}

/** Poll until `pids` have all gone or `ms` passed; returns the ones still alive (a condition wait with a bound, not a sleep). */
async function survivors(pids: number[], ms: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const alive = processesIn(dataDir)
      .map((p) => p.pid)
      .filter((p) => pids.includes(p));
    if (alive.length === 0 || Date.now() > deadline) return alive;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('Class: LocalCloud', () => {
  const arns: Record<string, string> = {};
  const logged: string[] = [];

  describe('Method: start (after kill -9 mid-release)', () => {
    it('leaves no orphan process, and a redrive takes an interrupted build, approval wait and canary to production', async () => {
      // Prepare: a cloud in its own process; canary-m in production, then three releases in flight
      mkdirSync(repo, { recursive: true });
      mkdirSync(elsewhere, { recursive: true });
      await run('git', ['init', '--quiet', '--initial-branch=main', repo]);
      child = spawn(
        process.execPath,
        ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'release-cloud.ts'), dataDir, repo, String(TIME_SCALE)],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      const { endpoint } = await new Promise<{ endpoint: string }>((resolve, reject) => {
        createInterface({ input: child!.stdout! }).once('line', (l) => resolve(JSON.parse(l)));
        child!.once('exit', (code) => reject(new Error(`release-cloud exited early with ${code}`)));
      });
      const before = sdk(endpoint);
      // A bake of 300 s is 15 s at the test's time scale: the canary is still baking when killed.
      addModel('canary-m', (y) => y.replace('bakeTime: 3m', 'bakeTime: 5m'));
      const first = (await push('canary-m'))['canary-m']!;
      await eventually(() => pendingApproval(before, 'canary-m', first), 200);
      await approve(before, 'canary-m', first);
      await eventually(async () => ((await status(before, first)) === 'RUNNING' ? undefined : true), 200);
      expect(await status(before, first)).toBe('SUCCEEDED');

      writeFileSync(join(repo, 'models', 'canary-m', 'knobs.json'), '{"release":2}\n');
      addModel('approve-m');
      addModel('build-m', undefined, `while [ ! -e ${goFile} ]; do sleep 0.2; done`);
      Object.assign(arns, await push('three releases'));
      expect(Object.keys(arns).sort()).toEqual(['approve-m', 'build-m', 'canary-m']);
      await eventually(() => pendingApproval(before, 'canary-m', arns['canary-m']!), 200);
      await approve(before, 'canary-m', arns['canary-m']!);
      const stale = await eventually(() => pendingApproval(before, 'approve-m', arns['approve-m']!), 200);
      const requestsBefore = approvalRequests('approve-m');
      await eventually(async () => {
        const ep = await before.sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'mlship-canary-m-production' }));
        return ep.EndpointStatus === 'Updating' && (await statesEntered(before, arns['canary-m']!)).includes('WaitForProduction')
          ? true
          : undefined;
      }, 200);
      await eventually(
        async () =>
          (await statesEntered(before, arns['build-m']!)).includes('WaitForBuild') && processesIn(join(dataDir, 'codebuild')).length > 0
            ? true
            : undefined,
        200,
      );
      const running = processesIn(dataDir);
      expect(running.some((p) => p.cwd.includes('/codebuild/'))).toBe(true);
      expect(running.some((p) => p.cwd.includes('/sagemaker/'))).toBe(true);

      // Act: kill -9 the cloud, then start it again from a directory without models/
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGKILL');
      await exited;
      child = undefined;
      const orphans = await survivors(
        running.map((p) => p.pid),
        10_000,
      );
      cloud = await LocalCloud.start({
        port: 0,
        dataDir,
        repoRoot: elsewhere,
        timeScale: TIME_SCALE,
        scheduler: false,
        log: (l) => logged.push(l),
      });
      const after = sdk(cloud.endpoint);
      writeFileSync(goFile, 'go');
      for (const arn of Object.values(arns)) await after.sfn.send(new RedriveExecutionCommand({ executionArn: arn }));
      // The redriven RequestApproval renews the task token and keeps the record as it was (same
      // requestedAt and expiry): its new "awaits approval" notification says the renewal is done.
      await eventually(() => (approvalRequests('approve-m') > requestsBefore ? true : undefined), 200);
      expect(await pendingApproval(after, 'approve-m', arns['approve-m']!)).toBe(stale);
      await approve(after, 'approve-m', arns['approve-m']!);
      await eventually(() => pendingApproval(after, 'build-m', arns['build-m']!), 200);
      await approve(after, 'build-m', arns['build-m']!);
      const ended = await Promise.all(Object.values(arns).map((arn) => cloud!.stepFunctions.waitForExecution(arn)));

      // Assess
      expect(orphans).toEqual([]);
      expect(
        await survivors(
          running.map((p) => p.pid),
          0,
        ),
      ).toEqual([]);
      expect(ended.map((r) => [r.name.split('-').slice(0, 2).join('-'), r.status, r.error ?? ''])).toEqual(
        Object.keys(arns).map((m) => [m, 'SUCCEEDED', '']),
      );
      for (const model of Object.keys(arns)) {
        const production = await after.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: `registry/${model}/production.json` }));
        expect(await production.Body!.transformToString()).toContain(nameOf(arns[model]!).split('-')[2]!);
      }
    }, 400_000);
  });

  describe('Method: start (models)', () => {
    it('serves the pushed models when the working tree has a broken, uncommitted manifest, and logs it', async () => {
      // Prepare: the data dir of the test above; a working tree where canary-m's manifest is half edited
      expect(cloud, 'needs the data dir of the test above').toBeDefined();
      await cloud!.close();
      cloud = undefined;
      const broken = join(temp, 'broken');
      mkdirSync(join(broken, 'models', 'canary-m'), { recursive: true });
      writeFileSync(join(broken, 'models', 'canary-m', 'model.yaml'), 'name: canary-m\ntask: [unclosed\n');
      logged.length = 0;

      // Act
      cloud = await LocalCloud.start({
        port: 0,
        dataDir,
        repoRoot: broken,
        timeScale: TIME_SCALE,
        scheduler: false,
        log: (l) => logged.push(l),
      });
      const c = sdk(cloud.endpoint);
      const answers = await Promise.all(
        Object.keys(arns).map(async (m) => {
          await cloud!.sageMaker.waitForEndpoint(`mlship-${m}-production`);
          const out = await c.runtime.send(
            new InvokeEndpointCommand({
              EndpointName: `mlship-${m}-production`,
              ContentType: 'application/json',
              Body: JSON.stringify({ instances: [{ x: 1 }] }),
            }),
          );
          return JSON.parse(Buffer.from(out.Body!).toString('utf8'));
        }),
      );

      // Assess
      expect(
        cloud
          .knownModels()
          .map((m) => m.manifest.name)
          .sort(),
      ).toEqual(['approve-m', 'build-m', 'canary-m']);
      expect(answers).toEqual(Object.keys(arns).map(() => ({ predictions: [{ value: 3 }] })));
      expect(logged.join('\n')).toContain('models/canary-m/model.yaml');
    });
  });
});
