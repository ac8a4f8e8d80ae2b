/**
 * Drift-window benchmark (issue 17): the real CheckDrift handler over a window of N captured
 * requests in the local S3 (s3rver, as `mlship up` runs it), streamed. Prints, medians of --reps:
 *
 *   - peak RSS and wall time of the check over N records, and over N/10 (the reference, same run):
 *     time per record should be flat (linear time) and RSS should not grow (target <= 512 MiB);
 *   - the verdict and statistics of the streamed check against the in-memory path (every object read
 *     whole, detectDataDrift/conceptDrift on the whole window) on a sample: the first 6 minutes, N/100;
 *   - SciPy (bench/drift/scipy_ref.py: ks_2samp, wasserstein_distance, jensenshannon) on the same N
 *     rows, its time and peak RSS beside ours, and how far its Wasserstein distances are from ours.
 *
 * The streamed check runs with V8's heap capped at 320 MiB (--max-old-space-size), as a 512 MB function
 * has to: bounded memory then shows as a completed run, not only as a peak figure.
 *
 *     npx tsx bench/drift-window/run.ts [--records 1000000] [--reps 3]    (10M: --records 10000000 --reps 1)
 *
 * Each capture line is a SageMaker data-capture record of about 400 bytes (JSON instance, JSON
 * prediction), so 1M records are about 0.4 GB of JSONL and 10M about 4 GB. 20 % of the requests get a
 * ground-truth label. The data is seeded and generated once per run. Not part of the test suite.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { parseManifest } from '../../lib/config';
import { startS3Server } from '../../lib/local/services/s3/server';

import { createS3Client } from '../../lambdas/shared/clients';
import { keys } from '../../lambdas/shared/names';
import { benchPython, scipyMissing } from '../scipy';
import { median } from '../stats';
import { generateWindow, HOURS, MODEL, ENDPOINT, START, REFERENCE_ROWS, versionRecord, type Generated } from './data';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

const N = arg('records', 1_000_000);
const REPS = arg('reps', 3);
const BUCKET = 'mlship-bench';
/** V8 old-space cap of the streamed check's process (the in-memory reference gets the same cap only if it fits: it is not capped). */
const HEAP_MIB = 320;
const here = fileURLToPath(new URL('.', import.meta.url));

interface CheckOut {
  verdict: string;
  rows: number;
  seconds: number;
  peakRssMiB: number;
  data: { verdict: string; driftShare: number; driftedColumns: string[]; columns: { column: string; method: string; statistic: number }[] };
  concept: { verdict: string; value: number | null; joined: number; labelShare?: number };
}

function check(mode: 'stream' | 'memory', url: string, now: number, since: number): CheckOut {
  const cap = mode === 'stream' ? [`--max-old-space-size=${HEAP_MIB}`] : [];
  const args = [
    ...cap,
    '--import',
    'tsx',
    join(here, 'check.ts'),
    mode,
    url,
    BUCKET,
    MODEL,
    new Date(now).toISOString(),
    new Date(since).toISOString(),
  ];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`check.ts ${mode} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as CheckOut;
}

async function setUp(s3: S3Client, dir: string): Promise<Generated> {
  const manifest = parseManifest(
    {
      name: MODEL,
      task: 'regression',
      paths: [`models/${MODEL}/**`],
      serve: { command: 'node serve.mjs' },
      features: [
        { name: 'distance_km', type: 'numeric' },
        { name: 'weight_kg', type: 'numeric' },
        { name: 'items', type: 'numeric' },
        { name: 'score', type: 'numeric' },
        { name: 'service', type: 'categorical' },
        { name: 'region', type: 'categorical' },
      ],
      label: 'hours',
      evaluation: { metrics: { rmse: { direction: 'lower', bound: 5, tolerance: { relative: 0.1 } } } },
    },
    'bench manifest',
  );
  const put = (key: string, body: string | Buffer) => s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
  const gen = await generateWindow(N, dir, put);
  await put(`builds/${MODEL}/v1/data/train.csv`, gen.trainCsv);
  await put(keys.version(MODEL, 'v1'), JSON.stringify(versionRecord(manifest, BUCKET)));
  await put(keys.production(MODEL), JSON.stringify({ model: MODEL, version: 'v1', since: START.toISOString(), endpointName: ENDPOINT }));
  return gen;
}

const dir = mkdtempSync(join(tmpdir(), 'mlship-drift-window-'));
const server = await startS3Server(join(dir, 's3'), BUCKET);
try {
  const s3 = createS3Client({
    endpoint: server.url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'b', secretAccessKey: 'b' },
  });
  const t0 = performance.now();
  const gen = await setUp(s3, dir);
  process.stdout.write(
    `generated ${N.toLocaleString('en')} capture records (${(gen.captureBytes / 2 ** 30).toFixed(2)} GiB JSONL in ${gen.objects} objects) and ` +
      `${gen.labels.toLocaleString('en')} labels in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
  );
  const start = START.getTime();
  const hour = 3_600_000;
  const big: CheckOut[] = [];
  const small: CheckOut[] = [];
  for (let i = 0; i < REPS; i++) {
    small.push(check('stream', server.url, start + (HOURS / 10) * hour - 1, start));
    big.push(check('stream', server.url, start + HOURS * hour - 1, start));
  }
  const sampleNow = start + hour / 10 - 1;
  const sampleStream = check('stream', server.url, sampleNow, start);
  const sampleMemory = check('memory', server.url, sampleNow, start);

  const med = (xs: CheckOut[], f: (c: CheckOut) => number) => median(xs.map(f));
  const [tb, ts] = [med(big, (c) => c.seconds), med(small, (c) => c.seconds)];
  const [rb, rs] = [med(big, (c) => c.peakRssMiB), med(small, (c) => c.peakRssMiB)];
  const b = big[0]!;
  const s = small[0]!;
  const rows: string[][] = [
    ['', `window of ${s.rows.toLocaleString('en')} (reference)`, `window of ${b.rows.toLocaleString('en')}`, 'ratio'],
    ['wall time (s)', ts.toFixed(1), tb.toFixed(1), (tb / ts).toFixed(2)],
    [
      'time per 1M records (s)',
      ((ts / s.rows) * 1e6).toFixed(2),
      ((tb / b.rows) * 1e6).toFixed(2),
      (tb / b.rows / (ts / s.rows)).toFixed(2),
    ],
    ['peak RSS (MiB, target <= 512)', rs.toFixed(0), rb.toFixed(0), (rb / rs).toFixed(2)],
    ['verdict', s.verdict, b.verdict, ''],
    ['data drift share', s.data.driftShare.toFixed(3), b.data.driftShare.toFixed(3), ''],
    ['concept rmse (joined, label share)', fmtConcept(s), fmtConcept(b), ''],
  ];
  printTable(rows);
  compareSample(sampleStream, sampleMemory);
  scipy(dir, gen, b);
} finally {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}

function fmtConcept(c: CheckOut): string {
  return `${c.concept.value?.toFixed(4)} (${c.concept.joined}, ${c.concept.labelShare ?? 1})`;
}

function printTable(rows: string[][]): void {
  const widths = rows[0]!.map((_, j) => Math.max(...rows.map((r) => r[j]!.length)));
  for (const r of rows) process.stdout.write(`${r.map((c, j) => (j === 0 ? c.padEnd(widths[j]!) : c.padStart(widths[j]!))).join('  ')}\n`);
}

/** The streamed check against the in-memory path on the sample: verdicts equal, statistics equal to 1e-9. */
function compareSample(stream: CheckOut, memory: CheckOut): void {
  let worst = 0;
  for (const c of memory.data.columns) {
    const o = stream.data.columns.find((x) => x.column === c.column)!;
    worst = Math.max(worst, Math.abs(o.statistic - c.statistic) / Math.max(1e-12, Math.abs(c.statistic)));
  }
  // The verdicts and the drifted columns must be identical. The join may differ by design: the sample's
  // ground-truth objects hold the whole hour's labels, more than the budget at 10M, so the streamed
  // join then works on a hash sample (label share) where the in-memory one took every label.
  const same =
    stream.data.verdict === memory.data.verdict &&
    stream.concept.verdict === memory.concept.verdict &&
    JSON.stringify(stream.data.driftedColumns) === JSON.stringify(memory.data.driftedColumns);
  process.stdout.write(
    `sample of ${memory.rows.toLocaleString('en')} rows: streamed vs in-memory: verdicts ${same ? 'identical' : 'DIFFERENT'} ` +
      `(data ${stream.data.verdict}/${memory.data.verdict}, concept ${stream.concept.verdict}/${memory.concept.verdict}), ` +
      `largest relative statistic difference ${worst.toExponential(1)}, ` +
      `concept rmse ${stream.concept.value?.toFixed(4)} on ${stream.concept.joined} labels (share ${stream.concept.labelShare ?? 1}) ` +
      `vs ${memory.concept.value?.toFixed(4)} on ${memory.concept.joined}, ` +
      `peak RSS ${stream.peakRssMiB.toFixed(0)} vs ${memory.peakRssMiB.toFixed(0)} MiB (ratio ${(stream.peakRssMiB / memory.peakRssMiB).toFixed(2)})\n`,
  );
}

/** SciPy on the same N rows (bench/drift/scipy_ref.py), beside the streamed check over them. */
function scipy(dir: string, gen: Generated, ours: CheckOut): void {
  const missing = scipyMissing();
  if (missing) {
    process.stdout.write(`${missing}\n`);
    return;
  }
  writeFileSync(join(dir, 'done'), '');
  const r = spawnSync(benchPython(), [join(here, '../drift/scipy_ref.py'), dir, String(REFERENCE_ROWS), String(N), '4', '2', '1'], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (r.status !== 0) {
    process.stdout.write(`SciPy reference failed: ${r.stderr.slice(-500)}\n`);
    return;
  }
  const py = JSON.parse(r.stdout) as { seconds: number[]; peakRssMiB: number; results: number[][] };
  const numeric = ['distance_km', 'weight_kg', 'items', 'score'];
  const diffs = numeric.map((name, j) => {
    const col = ours.data.columns.find((c) => c.column === name)!;
    return col.method === 'wasserstein' ? Math.abs(col.statistic - py.results[j]![2]!) : NaN;
  });
  process.stdout.write(
    `SciPy on the same ${N.toLocaleString('en')} rows (arrays in memory, parsing not counted): ${py.seconds[0]!.toFixed(1)} s, ` +
      `peak RSS ${py.peakRssMiB.toFixed(0)} MiB; streamed check / SciPy: time ${(ours.seconds / py.seconds[0]!).toFixed(2)}, ` +
      `RSS ${(ours.peakRssMiB / py.peakRssMiB).toFixed(2)}; normalised Wasserstein |ours - SciPy| per numeric feature: ` +
      `${diffs.map((d) => d.toExponential(1)).join(', ')} (${gen.labels.toLocaleString('en')} labels generated)\n`,
  );
}
