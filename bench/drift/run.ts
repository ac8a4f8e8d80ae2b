/**
 * Drift benchmark: the full drift check (DriftSession, Evidently's defaults + PSI + Model Monitor
 * violations) on 1,000,000 current rows × (10 numeric + 3 categorical) against a 100,000-row
 * reference, beside SciPy's ks_2samp + wasserstein_distance + jensenshannon on the same data,
 * measured in the same run.
 *
 *     npx tsx bench/drift/run.ts [--rows 1000000] [--reps 3]
 *
 * The data is generated once (seeded), written as binary files for Python, and read back by both
 * sides. Our side runs in a child process that streams the current rows from disk in chunks of
 * 50,000, twice (pass 1 and pass 2), so its peak RSS is the computation's own; it runs at three
 * current sizes to show that memory stays flat in the number of current rows. SciPy needs the
 * whole arrays in memory, so its peak includes them. Not part of the test suite.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DriftSession } from '../../lambdas/ml/drift';
import { toConstraintViolations } from '../../lambdas/ml/index';
import { mulberry32 } from '../../lambdas/ml/prng';
import type { FeatureSpec } from '../../lambdas/ml/types';
import { benchPython, scipyMissing } from '../scipy';
import { median } from '../stats';

const N_NUM = 10;
const N_CAT = 3;
const CHUNK = 50_000;
const CATS = Array.from({ length: 12 }, (_, i) => `c${i}`);
const features: FeatureSpec[] = [
  ...Array.from({ length: N_NUM }, (_, j) => ({ name: `x${j}`, type: 'numeric' as const, critical: false })),
  ...Array.from({ length: N_CAT }, (_, j) => ({ name: `k${j}`, type: 'categorical' as const, critical: false })),
];

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

/** Rows of one side: numeric row-major float64, categorical row-major uint8 codes. Half the features drift in current. */
function generate(rows: number, seed: number, drift: boolean): { num: Float64Array; cat: Uint8Array } {
  const rand = mulberry32(seed);
  const num = new Float64Array(rows * N_NUM);
  const cat = new Uint8Array(rows * N_CAT);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < N_NUM; j++) {
      const z = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
      const shift = drift && j % 2 === 0 ? 0.15 * (j + 1) : 0;
      // Mixed shapes: normal, log-normal, and rounded (ties) columns.
      num[i * N_NUM + j] =
        j % 3 === 0 ? 50 + 10 * (z + shift) : j % 3 === 1 ? Math.exp(0.5 * (z + shift)) : Math.round(20 + 5 * (z + shift));
    }
    for (let j = 0; j < N_CAT; j++) {
      const u = rand();
      const skew = drift && j === 0 ? 1.6 : 1.2;
      cat[i * N_CAT + j] = Math.min(CATS.length - 1, Math.floor(CATS.length * Math.pow(u, skew)));
    }
  }
  return { num, cat };
}

/** Reads [row, row+count) of a row-major file into columns, reusing its buffers so a chunk allocates nothing. */
class ChunkReader {
  private readonly nb: Buffer;
  private readonly cb: Buffer;
  private readonly num: Float64Array[];
  private readonly cat: string[][];
  constructor(
    private readonly fdNum: number,
    private readonly fdCat: number,
    private readonly size: number,
  ) {
    this.nb = Buffer.alloc(size * N_NUM * 8);
    this.cb = Buffer.alloc(size * N_CAT);
    this.num = Array.from({ length: N_NUM }, () => new Float64Array(size));
    this.cat = Array.from({ length: N_CAT }, () => new Array<string>(size).fill(''));
  }
  read(row: number, count: number): Record<string, Float64Array | string[]> {
    readSync(this.fdNum, this.nb, 0, count * N_NUM * 8, row * N_NUM * 8);
    readSync(this.fdCat, this.cb, 0, count * N_CAT, row * N_CAT);
    const flat = new Float64Array(this.nb.buffer, this.nb.byteOffset, count * N_NUM);
    const cols: Record<string, Float64Array | string[]> = {};
    for (let j = 0; j < N_NUM; j++) {
      const c = this.num[j]!;
      for (let i = 0; i < count; i++) c[i] = flat[i * N_NUM + j]!;
      cols[`x${j}`] = count === this.size ? c : c.subarray(0, count);
    }
    for (let j = 0; j < N_CAT; j++) {
      const c = this.cat[j]!;
      for (let i = 0; i < count; i++) c[i] = CATS[this.cb[i * N_CAT + j]!]!;
      cols[`k${j}`] = count === this.size ? c : c.slice(0, count);
    }
    return cols;
  }
}

/** Child: the streaming drift check over `rows` current rows, `reps` times. */
function child(dir: string, nRef: number, rows: number, reps: number, method: 'auto' | 'ks'): void {
  const ref = new ChunkReader(openSync(join(dir, 'ref_num.bin'), 'r'), openSync(join(dir, 'ref_cat.bin'), 'r'), nRef).read(0, nRef);
  const fdNum = openSync(join(dir, 'cur_num.bin'), 'r');
  const fdCat = openSync(join(dir, 'cur_cat.bin'), 'r');
  const reader = new ChunkReader(fdNum, fdCat, CHUNK);
  const seconds: number[] = [];
  const computeSeconds: number[] = [];
  let summary: unknown;
  let held = 0;
  let readMs = 0;
  const read = (row: number, count: number) => {
    const t = performance.now();
    const chunk = reader.read(row, count);
    readMs += performance.now() - t;
    return chunk;
  };
  const cpuSeconds: number[] = [];
  for (let r = 0; r < reps; r++) {
    readMs = 0;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const session = new DriftSession(ref, features, { methods: { numeric: method, categorical: 'auto', text: 'auto' } });
    for (let row = 0; row < rows; row += CHUNK) session.push(read(row, Math.min(CHUNK, rows - row)));
    if (session.needsRefine()) for (let row = 0; row < rows; row += CHUNK) session.refine(read(row, Math.min(CHUNK, rows - row)));
    const report = session.report();
    const violations = toConstraintViolations(report);
    seconds.push((performance.now() - t0) / 1000);
    computeSeconds.push((performance.now() - t0 - readMs) / 1000);
    const c = process.cpuUsage(c0);
    cpuSeconds.push((c.user + c.system) / 1e6);
    held = session.heldValues();
    summary = {
      verdict: report.verdict,
      drifted: report.driftedColumns,
      violations: violations.violations.length,
      columns: report.columns.map((c) => [c.column, c.method, c.statistic, c.pValue, c.psi]),
    };
  }
  closeSync(fdNum);
  closeSync(fdCat);
  process.stdout.write(
    JSON.stringify({ seconds, computeSeconds, cpuSeconds, peakRssMiB: process.resourceUsage().maxRSS / 1024, summary, held }) + '\n',
  );
}

function main(): void {
  const rows = arg('rows', 1_000_000);
  const nRef = arg('ref', 100_000);
  const reps = arg('reps', 3);
  const noScipy = scipyMissing();
  if (noScipy) console.log(noScipy);
  const dir = mkdtempSync(join(tmpdir(), 'mlship-drift-bench-'));
  try {
    console.log(
      `generating ${nRef.toLocaleString()} reference and ${rows.toLocaleString()} current rows × ${N_NUM} numeric + ${N_CAT} categorical (seeded) ...`,
    );
    const ref = generate(nRef, 1, false);
    const cur = generate(rows, 2, true);
    writeFileSync(join(dir, 'ref_num.bin'), ref.num);
    writeFileSync(join(dir, 'ref_cat.bin'), ref.cat);
    writeFileSync(join(dir, 'cur_num.bin'), cur.num);
    writeFileSync(join(dir, 'cur_cat.bin'), cur.cat);
    const self = fileURLToPath(import.meta.url);
    const runChild = (n: number, r: number, method: 'auto' | 'ks') => {
      const res = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', dir, String(nRef), String(n), String(r), method], {
        encoding: 'utf8',
        maxBuffer: 1 << 26,
      });
      if (res.status !== 0) throw new Error(`bench child failed: ${res.stderr}`);
      return JSON.parse(res.stdout.trim().split('\n').pop()!) as {
        seconds: number[];
        computeSeconds: number[];
        cpuSeconds: number[];
        peakRssMiB: number;
        held: number;
        summary: { columns: [string, string, number, number | null, number][] };
      };
    };
    type Ours = ReturnType<typeof runChild>;
    const runScipy = () =>
      JSON.parse(
        execFileSync(
          benchPython(),
          [
            join(fileURLToPath(new URL('.', import.meta.url)), 'scipy_ref.py'),
            dir,
            String(nRef),
            String(rows),
            String(N_NUM),
            String(N_CAT),
            '1',
          ],
          { encoding: 'utf8', maxBuffer: 1 << 26 },
        ),
      ) as { seconds: number[]; cpuSeconds: number[]; peakRssMiB: number; results: number[][] };
    // Interleaved (ours auto, ours KS, SciPy) per repetition, so a change in machine load hits all three alike.
    const runs: { auto: Ours; ks: Ours; py: ReturnType<typeof runScipy> }[] = [];
    const oursOnly: { auto: Ours; ks: Ours }[] = [];
    for (let r = 0; r < reps; r++) {
      process.stdout.write(`repetition ${r + 1}/${reps} ...\n`);
      if (noScipy) oursOnly.push({ auto: runChild(rows, 1, 'auto'), ks: runChild(rows, 1, 'ks') });
      else runs.push({ auto: runChild(rows, 1, 'auto'), ks: runChild(rows, 1, 'ks'), py: runScipy() });
    }
    if (noScipy) {
      reportWithoutReference(oursOnly, rows, nRef);
      return;
    }
    const ours = runs[0]!.auto;
    const oursKs = runs[0]!.ks;
    const py = runs[0]!.py;
    const features = N_NUM + N_CAT;
    const med = (f: (x: (typeof runs)[number]) => number) => median(runs.map(f));
    const tOurs = med((x) => x.auto.seconds[0]!);
    const cOurs = med((x) => x.auto.computeSeconds[0]!);
    const tKs = med((x) => x.ks.seconds[0]!);
    const cKs = med((x) => x.ks.computeSeconds[0]!);
    const tPy = med((x) => x.py.seconds[0]!);
    const maxRss = (f: (x: (typeof runs)[number]) => number) => Math.max(...runs.map(f));
    const line = (name: string, t: number, mem: number) =>
      console.log(
        `${name.padEnd(62)} ${t.toFixed(3).padStart(7)} s  ${((t / features) * 1000).toFixed(1).padStart(7)} ms/feature  ${Math.round(
          rows / t,
        )
          .toLocaleString()
          .padStart(11)} rows/s  peak RSS ${mem.toFixed(0).padStart(5)} MiB`,
      );
    console.log(
      `\nmedians of ${reps} interleaved runs, ${rows.toLocaleString()} current rows, ${features} features, reference ${nRef.toLocaleString()} rows (load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores)`,
    );
    line(
      'mlship auto (Wasserstein+PSI, JS+PSI), incl. 2 passes of disk reads',
      tOurs,
      maxRss((x) => x.auto.peakRssMiB),
    );
    line(
      'mlship auto, compute only',
      cOurs,
      maxRss((x) => x.auto.peakRssMiB),
    );
    line(
      'mlship KS+PSI, JS+PSI, incl. disk reads',
      tKs,
      maxRss((x) => x.ks.peakRssMiB),
    );
    line(
      'mlship KS+PSI, JS+PSI, compute only',
      cKs,
      maxRss((x) => x.ks.peakRssMiB),
    );
    line(
      'SciPy ks_2samp + wasserstein_distance, jensenshannon (in RAM)',
      tPy,
      maxRss((x) => x.py.peakRssMiB),
    );
    const ratio = (f: (x: (typeof runs)[number]) => number) => median(runs.map((x) => x.py.seconds[0]! / f(x)));
    const ratio2 = (f: (x: (typeof runs)[number]) => number) => median(runs.map(f));
    const cpu = (f: (x: (typeof runs)[number]) => number) => med(f).toFixed(2);
    console.log(
      `CPU seconds (user+system, median; the machine is shared): mlship auto ${cpu((x) => x.auto.cpuSeconds[0]!)} s incl. reads, mlship KS ${cpu((x) => x.ks.cpuSeconds[0]!)} s incl. reads, SciPy ${cpu((x) => x.py.cpuSeconds[0]!)} s`,
    );
    console.log(`\nratio SciPy / mlship, median of per-repetition ratios (> 1: mlship is faster):`);
    console.log(
      `  CPU time: auto incl. reads ${ratio2((x) => x.py.cpuSeconds[0]! / x.auto.cpuSeconds[0]!).toFixed(2)}×   KS incl. reads ${ratio2((x) => x.py.cpuSeconds[0]! / x.ks.cpuSeconds[0]!).toFixed(2)}×`,
    );
    console.log(
      `  wall: auto, compute only ${ratio((x) => x.auto.computeSeconds[0]!).toFixed(2)}×   auto incl. reads ${ratio((x) => x.auto.seconds[0]!).toFixed(2)}×   KS compute only ${ratio((x) => x.ks.computeSeconds[0]!).toFixed(2)}×   KS incl. reads ${ratio((x) => x.ks.seconds[0]!).toFixed(2)}×`,
    );
    // Agreement on the same data: the normalised Wasserstein and KS statistics must match SciPy's.
    let maxW = 0;
    let maxD = 0;
    for (let j = 0; j < N_NUM; j++) {
      maxW = Math.max(maxW, Math.abs(ours.summary.columns[j]![2] - py.results[j]![2]!));
      maxD = Math.max(maxD, Math.abs(oursKs.summary.columns[j]![2] - py.results[j]![0]!));
    }
    console.log(`agreement with SciPy: max |ΔWasserstein_norm| = ${maxW.toExponential(2)}, max |ΔD_KS| = ${maxD.toExponential(2)}`);
    console.log('\nmemory vs current rows (mlship, 1 run each):');
    for (const n of [rows / 10, rows / 2, rows].map(Math.round)) {
      const r = runChild(n, 1, 'auto');
      console.log(
        `  ${n.toLocaleString().padStart(10)} rows: peak RSS ${r.peakRssMiB.toFixed(0)} MiB, ${r.seconds[0]!.toFixed(2)} s, values held for pass 2: ${r.held.toLocaleString()}`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Without SciPy: mlship's own figures, and no ratio (there is no reference to divide by). */
function reportWithoutReference(
  runs: {
    auto: { seconds: number[]; computeSeconds: number[]; peakRssMiB: number };
    ks: { seconds: number[]; computeSeconds: number[]; peakRssMiB: number };
  }[],
  rows: number,
  nRef: number,
): void {
  const features = N_NUM + N_CAT;
  console.log(
    `\nmedians of ${runs.length} runs, ${rows.toLocaleString()} current rows, ${features} features, reference ${nRef.toLocaleString()} rows (no SciPy reference, so no ratio)`,
  );
  for (const [name, pick] of [
    ['mlship auto, incl. 2 passes of disk reads', (x: (typeof runs)[number]) => x.auto.seconds[0]!],
    ['mlship auto, compute only', (x: (typeof runs)[number]) => x.auto.computeSeconds[0]!],
    ['mlship KS+PSI, JS+PSI, incl. disk reads', (x: (typeof runs)[number]) => x.ks.seconds[0]!],
  ] as const) {
    const t = median(runs.map(pick));
    console.log(
      `${name.padEnd(62)} ${t.toFixed(3).padStart(7)} s  ${Math.round(rows / t)
        .toLocaleString()
        .padStart(11)} rows/s`,
    );
  }
}

if (process.argv.includes('--child')) {
  const i = process.argv.indexOf('--child');
  const [dir, nRef, rows, reps, method] = process.argv.slice(i + 1);
  child(dir!, Number(nRef), Number(rows), Number(reps), method as 'auto' | 'ks');
} else {
  main();
}
