/**
 * Endpoint host bench: what the local SageMaker endpoint adds to a model's latency.
 *
 * Same load, same run, alternating targets each round:
 *   reference: POST straight to the model server's /invocations (the tiny fixture model)
 *   subject:   POST /endpoints/<name>/invocations through the edge (the real lib/local/edge.ts;
 *              --mini-edge: the test harness's minimal one) -> runtime.invokeEndpoint
 *              -> weighted routing, keep-alive proxy, counters, data capture (100 %) -> the same server
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
 *   npx tsx bench/endpoint/run.ts [--rate 1000] [--duration 10] [--rounds 3] [--connections 1] [--mini-edge]
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
const DURATION = arg('duration', 10);
const ROUNDS = arg('rounds', 3);
const CONNECTIONS = arg('connections', 1);
const BODY = JSON.stringify({ instances: [{ x: 1.5, y: 2.5 }] });

interface Figures {
  p50: number;
  p99: number;
  rps: number;
  failed: number;
}
type Shape = 'autocannon' | 'paced';

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
const median = (xs: number[]) => quantile([...xs].sort((a, b) => a - b), 0.5);
const figures = (samples: number[], seconds: number, failed: number): Figures => {
  samples.sort((a, b) => a - b);
  return { p50: quantile(samples, 0.5), p99: quantile(samples, 0.99), rps: samples.length / seconds, failed };
};

function withAutocannon(url: string, seconds: number): Promise<Figures> {
  return new Promise((resolve, reject) => {
    const samples: number[] = [];
    const instance = autocannon(
      { url, method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY, connections: CONNECTIONS, overallRate: RATE, duration: seconds },
      (err, result) => (err ? reject(err) : resolve(figures(samples, result.duration, result.non2xx + result.errors + result.timeouts))),
    );
    instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
      if (status === 200) samples.push(ms);
    });
  });
}

function paced(url: string, seconds: number): Promise<Figures> {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const total = Math.round(RATE * seconds);
  const gap = 1000 / RATE;
  const samples: number[] = [];
  let sent = 0;
  let done = 0;
  let failed = 0;
  return new Promise((resolve) => {
    const finish = () => {
      if (++done < total) return;
      agent.destroy();
      resolve(figures(samples, seconds, failed));
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
  env: { ...process.env, BENCH_EDGE: edgeKind },
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
const urls = JSON.parse(await nextLine()) as { edge: string; model: string; kind: string };

interface HostStats {
  invocations: number;
  cpuMicrosPerInvocation: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}
/** Run the endpoint target with the host measuring its own CPU and event-loop delay. */
async function throughHost(shape: Shape, seconds: number): Promise<Figures & { host: HostStats }> {
  host.stdin!.write('reset\n');
  const figures = await run(shape, urls.edge, seconds);
  host.stdin!.write('stats\n');
  return { ...figures, host: JSON.parse(await nextLine()) as HostStats };
}

const fmt = (n: number) => n.toFixed(3).padStart(8);
console.log(`endpoint bench: ${RATE} req/s, ${DURATION} s per target and shape, ${ROUNDS} rounds, autocannon connections ${CONNECTIONS}`);
console.log(`  reference (direct): ${urls.model}`);
console.log(`  subject (endpoint): ${urls.edge} via the ${urls.kind}`);
for (const shape of ['autocannon', 'paced'] as const) {
  await run(shape, urls.model, 2); // warm-up: JIT, keep-alive sockets
  await run(shape, urls.edge, 2);
}

type Row = { direct: Figures; endpoint: Figures & { host: HostStats } };
const rows: Record<Shape, Row[]> = { autocannon: [], paced: [] };
for (let r = 1; r <= ROUNDS; r++) {
  for (const shape of ['autocannon', 'paced'] as const) {
    // Alternate which target goes first, so a drift in machine load favours neither.
    let direct: Figures;
    let endpoint: Row['endpoint'];
    if (r % 2 === 1) {
      direct = await run(shape, urls.model, DURATION);
      endpoint = await throughHost(shape, DURATION);
    } else {
      endpoint = await throughHost(shape, DURATION);
      direct = await run(shape, urls.model, DURATION);
    }
    rows[shape].push({ direct, endpoint });
    console.log(
      `round ${r} ${shape.padEnd(10)} direct p50 ${fmt(direct.p50)} p99 ${fmt(direct.p99)} ms ${direct.rps.toFixed(0)} req/s | endpoint p50 ${fmt(endpoint.p50)} p99 ${fmt(endpoint.p99)} ms ${endpoint.rps.toFixed(0)} req/s | failed ${direct.failed}/${endpoint.failed} | host ${endpoint.host.cpuMicrosPerInvocation.toFixed(0)} µs CPU/req, loop delay p99 ${endpoint.host.loopDelayP99Ms.toFixed(2)} max ${endpoint.host.loopDelayMaxMs.toFixed(1)} ms`,
    );
  }
}

let worst = 0;
for (const shape of ['autocannon', 'paced'] as const) {
  const m = (pick: (r: Row) => number) => median(rows[shape].map(pick));
  const [d50, d99, e50, e99] = [m((r) => r.direct.p50), m((r) => r.direct.p99), m((r) => r.endpoint.p50), m((r) => r.endpoint.p99)];
  const added99 = m((r) => r.endpoint.p99 - r.direct.p99);
  worst = Math.max(worst, added99);
  console.log(`\n${shape}: medians over ${ROUNDS} rounds (ms)   p50       p99   req/s`);
  console.log(`  direct to model server   ${fmt(d50)}  ${fmt(d99)}  ${m((r) => r.direct.rps).toFixed(0)}`);
  console.log(`  through endpoint host    ${fmt(e50)}  ${fmt(e99)}  ${m((r) => r.endpoint.rps).toFixed(0)}`);
  console.log(`  added                    ${fmt(m((r) => r.endpoint.p50 - r.direct.p50))}  ${fmt(added99)}`);
  console.log(`  ratio endpoint/direct    ${(e50 / d50).toFixed(2).padStart(8)}  ${(e99 / d99).toFixed(2).padStart(8)}`);
  console.log(`  host CPU per invocation  ${m((r) => r.endpoint.host.cpuMicrosPerInvocation).toFixed(0)} µs (edge + endpoint host); host event-loop delay p99 ${m((r) => r.endpoint.host.loopDelayP99Ms).toFixed(2)} ms`);
}
console.log(`\ntarget p99 added < 1 ms: ${worst < 1 ? 'met' : 'NOT met'} (worst shape ${worst.toFixed(3)} ms)`);

host.stdin!.end();
await new Promise((r) => host.once('exit', r));
