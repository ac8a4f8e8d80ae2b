/**
 * issue 17, the local cloud with 300 models: how long a push touching one model takes to start
 * its release, and how long the console's models page takes to render, against the same with
 * 2 models (the reference, measured in the same run). Medians.
 *
 * Each cloud serves N generated models (the fixture manifest under new names, a directory
 * each). Every model has a production version and a drift run in the registry, as deployed
 * models would, so the models page has something to read for each. The release tasks are
 * stubbed to end at once: the figure is the push's, not the release's. Targets at 300: the
 * push starts its release within 2 s, the page renders in at most 300 ms.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { startConsole } from '../../lib/console';
import { LocalCloud } from '../../lib/local/cloud';
import { median } from '../stats';

const run = promisify(execFile);
const PUSHES = 7;
const PAGE_LOADS = 21;
const manifest = (name: string) =>
  `name: ${name}\ntask: regression\npaths: [models/${name}/**]\nserve:\n  command: node serve.mjs\nfeatures:\n  - { name: x, type: numeric }\nlabel: y\n`;
const names = (n: number) => Array.from({ length: n }, (_, i) => `gen-${String(i + 1).padStart(4, '0')}`);

async function measure(n: number): Promise<{ push: number[]; page: number[]; firstPage: number }> {
  const temp = mkdtempSync(join(tmpdir(), 'mlship-local-scale-'));
  const repo = join(temp, 'repo');
  const git = (...args: string[]) => run('git', ['-C', repo, '-c', 'user.name=b', '-c', 'user.email=b@example.com', ...args]);
  for (const m of names(n)) {
    mkdirSync(join(repo, 'models', m), { recursive: true });
    writeFileSync(join(repo, 'models', m, 'model.yaml'), manifest(m));
    writeFileSync(join(repo, 'models', m, 'train.py'), `# ${m}\n`);
  }
  await run('git', ['init', '--quiet', '--initial-branch=main', repo]);
  await git('add', '-A');
  await git('commit', '--quiet', '-m', 'models');
  process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
  const fail = async () => {
    throw Object.assign(new Error('stopped by the bench'), { name: 'InvalidManifestError' });
  };
  const cloud = await LocalCloud.start({
    port: 0,
    dataDir: join(temp, 'data'),
    repoRoot: repo,
    scheduler: true,
    log: () => {},
    functions: {
      'mlship-PrepareRelease': fail,
      'mlship-RecordOutcome': async () => ({ outcome: 'failed', notified: false, cause: 'stopped by the bench' }),
    },
  });
  const cfg = { endpoint: cloud.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
  const sfn = new SFNClient(cfg);
  const s3 = new S3Client({
    ...cfg,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  try {
    await git('remote', 'add', 'mlship', cloud.gitDir);
    // The first push releases every model (a new branch): let those end before measuring.
    await git('push', '--quiet', 'mlship', 'main');
    for (const m of names(n)) {
      const put = (key: string, body: unknown) =>
        s3.send(new PutObjectCommand({ Bucket: cloud.bucket, Key: key, Body: JSON.stringify(body), ContentType: 'application/json' }));
      await put(`registry/${m}/production.json`, { model: m, version: 'v1', previous: null, promotedAt: '2026-12-01T00:00:00Z' });
      await put(`monitoring/${m}/2026-12-05T06-00-00Z/drift-report.json`, { model: m, datasetDrift: false, driftShare: 0.1 });
    }
    while (cloud.stepFunctions.records().some((r) => r.status === 'RUNNING')) await new Promise((r) => setTimeout(r, 200));
    const push: number[] = [];
    for (let i = 0; i < PUSHES; i++) {
      writeFileSync(join(repo, 'models', 'gen-0001', 'train.py'), `# change ${i}\n`);
      await git('commit', '--quiet', '-am', `change ${i}`);
      const t0 = performance.now();
      await git('push', '--quiet', 'mlship', 'main');
      const { executions = [] } = await sfn.send(
        new ListExecutionsCommand({ stateMachineArn: LocalCloud.stateMachineArn('release'), maxResults: 5 }),
      );
      const head = (await git('rev-parse', 'HEAD')).stdout.trim();
      if (!executions.some((e) => e.name!.startsWith(`gen-0001-${head.slice(0, 8)}`) || e.name!.includes(head.slice(0, 12))))
        throw new Error(`push ${i}: no release of gen-0001 at ${head.slice(0, 12)} among ${executions.map((e) => e.name).join(', ')}`);
      push.push(performance.now() - t0);
    }
    const consoleServer = await startConsole({ target: { endpoint: cloud.endpoint, bucket: cloud.bucket }, approver: 'bench' });
    const page: number[] = [];
    let firstPage = 0;
    try {
      for (let i = 0; i < PAGE_LOADS + 2; i++) {
        const t0 = performance.now();
        const res = await fetch(`${consoleServer.origin}/`, { headers: { authorization: `Bearer ${consoleServer.token}` } });
        const text = await res.text();
        if (res.status !== 200 || !text.includes(names(n).at(-1)!))
          throw new Error(`models page: ${res.status}, lists the last model: ${text.includes(names(n).at(-1)!)}`);
        if (i === 0) firstPage = performance.now() - t0;
        if (i >= 2) page.push(performance.now() - t0);
      }
    } finally {
      await consoleServer.close();
    }
    return { push, page, firstPage };
  } finally {
    sfn.destroy();
    s3.destroy();
    await cloud.close();
    rmSync(temp, { recursive: true, force: true });
  }
}

const ref = await measure(2);
const at300 = await measure(300);
const fmt = (xs: number[]) => `${median(xs).toFixed(0)} ms`;
const ratio = (a: number[], b: number[]) => `${(median(a) / median(b)).toFixed(2)}x`;
console.log(`local cloud, medians; reference: the same with 2 models`);
console.log(
  `push touching 1 model -> its release started: 2 models ${fmt(ref.push)}, 300 models ${fmt(at300.push)} (${ratio(at300.push, ref.push)}) [${PUSHES} pushes]`,
);
console.log(
  `console models page (GET /):               2 models ${fmt(ref.page)}, 300 models ${fmt(at300.page)} (${ratio(at300.page, ref.page)}) [${PAGE_LOADS} loads]`,
);
console.log(
  `console models page, first load (reads every model's production record and drift run): 2 models ${ref.firstPage.toFixed(0)} ms, 300 models ${at300.firstPage.toFixed(0)} ms`,
);
console.log(
  `targets at 300: push <= 2000 ms: ${median(at300.push) <= 2000 ? 'met' : 'MISSED'}; page <= 300 ms: ${median(at300.page) <= 300 ? 'met' : 'MISSED'}`,
);
