/**
 * Endpoint host bench: what the local SageMaker endpoint adds to a model's latency.
 *
 * Three targets, the same load, in the same run:
 *   direct    POST straight to the model server's /invocations (the tiny fixture model): the reference
 *   endpoint  POST /endpoints/<name>/invocations through the edge (the real lib/local/edge.ts;
 *             --mini-edge: the test harness's minimal one) -> runtime.invokeEndpoint -> weighted
 *             routing, keep-alive proxy, counters, data capture (100 %) -> the same server
 *   bare      a bare node:http proxy to the same server (host.ts): the floor, what any proxy
 *             written on node:http adds on this machine
 * The host (s3rver, CodeBuild, SageMaker, edge) runs in a child process (host.ts), apart from
 * the load generators.
 *
 * Two load shapes at the same rate:
 *   autocannon  autocannon's rate limiter hands each connection its per-second quota back to
 *               back, so with N connections "1000 req/s" arrives as bursts of N concurrent
 *               requests; --connections (default 1) sets N. Latencies are taken from its
 *               per-response events (fractional ms; its summary histogram rounds to whole ms).
 *   paced       open loop, requests spaced evenly (1 ms apart at 1000 req/s) over keep-alive
 *               sockets — the arrival pattern of real traffic, which autocannon cannot produce;
 *               a small hand-written generator because no installed tool paces evenly.
 *
 * Interleaved blocks: each shape runs --blocks blocks of --block seconds per target, the
 * targets' order rotating from block to block, and each target's percentiles are taken over
 * all its blocks. This machine's latency tails drift by milliseconds from one minute to the
 * next (other tenants); back-to-back runs of 10 s per target measured that drift rather than
 * the endpoint, while blocks a second apart see the same machine.
 *
 * Data capture is on at 100 %, as a release deploys the endpoint; --no-capture turns it off to
 * show its share of the added latency.
 *
 *   npx tsx bench/endpoint/run.ts [--rate 1000] [--blocks 10] [--block 2] [--connections 1] [--mini-edge] [--no-capture]
 * Target: p99 added < 1 ms.
 */
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : dflt;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
  return v;
};
const RATE = arg('rate', 1000);
const BLOCKS = arg('blocks', 10);
const BLOCK_SECONDS = arg('block', 2);
const CONNECTIONS = arg('connections', 1);
const BODY = JSON.stringify({ instances: [{ x: 1.5, y: 2.5 }] });

type Shape = 'autocannon' | 'paced';
type Target = 'direct' | 'endpoint' | 'bare';
const SHAPES: Shape[] = ['autocannon', 'paced'];
const TARGETS: Target[] = ['direct', 'endpoint', 'bare'];

interface Block {
  samples: number[];
  failed: number;
  seconds: number;
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;

function withAutocannon(url: string, seconds: number): Promise<Block> {
  return new Promise((resolve, reject) => {
    const samples: number[] = [];
    const instance = autocannon(
      { url, method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY, connections: CONNECTIONS, overallRate: RATE, duration: seconds },
      (err, result) => (err ? reject(err) : resolve({ samples, failed: result.non2xx + result.errors + result.timeouts, seconds: result.duration })),
    );
    instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
      if (status === 200) samples.push(ms);
    });
  });
}

/** One keep-alive agent per target for the whole run, as a client of a real endpoint keeps its sockets. */
const agents = new Map<string, Agent>();
function paced(url: string, seconds: number): Promise<Block> {
  let agent = agents.get(url);
  if (!agent) agents.set(url, (agent = new Agent({ keepAlive: true, maxSockets: 256 })));
  const total = Math.round(RATE * seconds);
  const gap = 1000 / RATE;
  const samples: number[] = [];
  let sent = 0;
  let done = 0;
  let failed = 0;
  return new Promise((resolve) => {
    const finish = () => {
      if (++done === total) resolve({ samples, failed, seconds });
    };
    const fire = () => {
      const t0 = performance.now();
      const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': BODY.length } }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 200) samples.push(performance.now() - t0);
          else failed++;
          finish();
        });
      });
      req.on('error', () => {
        failed++;
        finish();
      });
      req.end(BODY);
    };
    const start = performance.now();
    const tick = () => {
      const due = Math.min(total, Math.floor((performance.now() - start) / gap) + 1);
      while (sent < due) {
        sent++;
        fire();
      }
      if (sent < total) setTimeout(tick, Math.max(0, gap - 0.5));
    };
    tick();
  });
}

const run = (shape: Shape, url: string, seconds: number) => (shape === 'autocannon' ? withAutocannon(url, seconds) : paced(url, seconds));

const edgeKind = process.argv.includes('--mini-edge') ? 'mini' : 'real';
const host = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./host.ts', import.meta.url))], {
  stdio: ['pipe', 'pipe', 'inherit'],
  env: { ...process.env, BENCH_EDGE: edgeKind, BENCH_CAPTURE: process.argv.includes('--no-capture') ? 'off' : 'on' },
});
const hostLines = createInterface({ input: host.stdout! })[Symbol.asyncIterator]();
const nextLine = async (): Promise<string> => {
  const { value, done } = await hostLines.next();
  if (done) throw new Error('the bench host exited');
  return value as string;
};
host.once('exit', (code) => {
  if (code) console.error(`bench host exited with code ${code}`);
});
const urls = JSON.parse(await nextLine()) as { edge: string; model: string; bare: string; kind: string };
const urlOf: Record<Target, string> = { direct: urls.model, endpoint: urls.edge, bare: urls.bare };

interface HostStats {
  invocations: number;
  cpuMicros: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}
/** Run the endpoint target with the host measuring its own CPU and event-loop delay. */
async function throughHost(shape: Shape, seconds: number): Promise<Block & { host: HostStats }> {
  host.stdin!.write('reset\n');
  const block = await run(shape, urls.edge, seconds);
  host.stdin!.write('stats\n');
  return { ...block, host: JSON.parse(await nextLine()) as HostStats };
}

const fmt = (n: number) => n.toFixed(3).padStart(8);
console.log(`endpoint bench: ${RATE} req/s, ${BLOCKS} interleaved blocks of ${BLOCK_SECONDS} s per target and shape, autocannon connections ${CONNECTIONS}`);
console.log(`  direct   (reference): ${urls.model}`);
console.log(`  endpoint (subject):   ${urls.edge} via the ${urls.kind}, data capture ${process.argv.includes('--no-capture') ? 'off' : 'on (100 %)'}`);
console.log(`  bare     (floor):     ${urls.bare}, a bare node:http proxy`);

let worst = 0;
for (const shape of SHAPES) {
  for (const t of TARGETS) await run(shape, urlOf[t], 2); // warm-up: JIT, keep-alive sockets
  const all: Record<Target, Block[]> = { direct: [], endpoint: [], bare: [] };
  const hostStats: HostStats[] = [];
  for (let b = 0; b < BLOCKS; b++) {
    // Rotate the order so no target always follows another.
    for (let k = 0; k < TARGETS.length; k++) {
      const t = TARGETS[(b + k) % TARGETS.length]!;
      if (t === 'endpoint') {
        const { host: h, ...block } = await throughHost(shape, BLOCK_SECONDS);
        all.endpoint.push(block);
        hostStats.push(h);
      } else {
        all[t].push(await run(shape, urlOf[t], BLOCK_SECONDS));
      }
    }
  }
  const summary = (blocks: Block[]) => {
    const samples = blocks.flatMap((b) => b.samples).sort((a, b) => a - b);
    const seconds = blocks.reduce((s, b) => s + b.seconds, 0);
    return { p50: quantile(samples, 0.5), p99: quantile(samples, 0.99), rps: samples.length / seconds, failed: blocks.reduce((s, b) => s + b.failed, 0) };
  };
  const [d, e, f] = [summary(all.direct), summary(all.endpoint), summary(all.bare)];
  // The same figure per quarter of the run (blocks split as evenly as they go), to show how steady it is.
  const quarters = [];
  for (let k = 0; k < Math.min(4, BLOCKS); k++) {
    const [from, to] = [Math.round((k * BLOCKS) / 4), Math.round(((k + 1) * BLOCKS) / 4)];
    if (to > from) quarters.push(summary(all.endpoint.slice(from, to)).p99 - summary(all.direct.slice(from, to)).p99);
  }
  const invocations = hostStats.reduce((s, h) => s + h.invocations, 0);
  const cpu = hostStats.reduce((s, h) => s + h.cpuMicros, 0) / invocations;
  const loopP99 = [...hostStats.map((h) => h.loopDelayP99Ms)].sort((a, b) => a - b)[Math.floor(hostStats.length / 2)]!;
  worst = Math.max(worst, e.p99 - d.p99);
  console.log(`\n${shape}: ${BLOCKS * BLOCK_SECONDS} s per target (ms)      p50       p99   req/s  failed`);
  for (const [label, s] of [['direct to model server', d], ['through endpoint host', e], ['through bare node proxy', f]] as const) {
    console.log(`  ${label.padEnd(26)} ${fmt(s.p50)}  ${fmt(s.p99)}  ${s.rps.toFixed(0).padStart(6)}  ${s.failed}`);
  }
  console.log(`  added by endpoint host     ${fmt(e.p50 - d.p50)}  ${fmt(e.p99 - d.p99)}   (per quarter of the run: ${quarters.map((x) => x.toFixed(2)).join(', ')})`);
  console.log(`  added by bare node proxy   ${fmt(f.p50 - d.p50)}  ${fmt(f.p99 - d.p99)}`);
  console.log(`  ratio endpoint/direct      ${(e.p50 / d.p50).toFixed(2).padStart(8)}  ${(e.p99 / d.p99).toFixed(2).padStart(8)}`);
  console.log(`  ratio endpoint/bare proxy  ${(e.p50 / f.p50).toFixed(2).padStart(8)}  ${(e.p99 / f.p99).toFixed(2).padStart(8)}`);
  console.log(`  host CPU per invocation ${cpu.toFixed(0)} µs (edge + endpoint host + capture thread); host event-loop delay p99 ${loopP99.toFixed(2)} ms (median block)`);
}
console.log(`\ntarget p99 added < 1 ms: ${worst < 1 ? 'met' : 'NOT met'} (worst shape ${worst.toFixed(3)} ms)`);

for (const a of agents.values()) a.destroy();
host.stdin!.end();
await new Promise((r) => host.once('exit', r));
