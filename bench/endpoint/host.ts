/**
 * The endpoint bench's host process: a real s3rver, the local CodeBuild building the tiny
 * fixture model, the local SageMaker serving it (data capture on, as in a release, unless the
 * bench passes --no-capture), the edge in front, and beside it a bare node:http proxy to the
 * same model server (the floor: what any proxy written on node:http adds on this machine).
 * Runs apart from the load generator so autocannon's own work does not share the endpoint
 * host's event loop. Prints one JSON line with the URLs; exits when its stdin closes.
 */
import '../../bin/polyfills';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { createCodeBuildService } from '../../lib/local/services/codebuild';
import { createSageMakerService } from '../../lib/local/services/sagemaker';
import {
  ACCOUNT,
  BUCKET,
  captureProcessPids,
  processesMentioning,
  REGION,
  startS3,
  tinyModel,
  tmpDataDir,
  uploadTinySource,
} from '../../test/local/fixtures/harness';
import { startMiniEdge } from '../../test/local/fixtures/mini-edge';

const ENDPOINT = 'bench-endpoint';
/** With BENCH_SHADOW=on: a second endpoint like the first, plus a shadow variant of the same model copying 50 % of its requests. */
const SHADOW_ENDPOINT = 'bench-endpoint-shadow';
const SHADOW = process.env.BENCH_SHADOW === 'on';

const s3 = await startS3();
const dataDir = tmpDataDir();
const codebuild = createCodeBuildService({
  dataDir,
  s3: s3.client,
  bucket: BUCKET,
  models: [tinyModel()],
  region: REGION,
  accountId: ACCOUNT,
});
const sagemaker = createSageMakerService({ dataDir, s3: s3.client, bucket: BUCKET, region: REGION, accountId: ACCOUNT });
/** The real edge (lib/local/core/edge.ts) unless BENCH_EDGE=mini asks for the test harness's minimal one. */
async function startEdge(): Promise<{ url: string; close(): Promise<void> }> {
  if (process.env.BENCH_EDGE === 'mini') return startMiniEdge([codebuild, sagemaker], sagemaker);
  const [{ Edge }, { LocalSns }] = await Promise.all([import('../../lib/local/core/edge'), import('../../lib/local/services/sns')]);
  const edge = new Edge({
    port: 0,
    services: [codebuild, sagemaker],
    s3Url: s3.server.url,
    sns: new LocalSns(join(dataDir, 'notifications.jsonl'), []),
    invokeEndpoint: (req) => sagemaker.runtime.invokeEndpoint(req),
  });
  const port = await edge.listen();
  return { url: `http://127.0.0.1:${port}`, close: () => edge.close() };
}
const edge = await startEdge();

/**
 * The floor reference, written by hand because it is the measuring stick: read the body,
 * POST it to the model server over a keep-alive agent, send the answer back. No routing,
 * metrics, capture or error mapping.
 */
let bareInvocations = 0;
async function startBareProxy(modelPort: number): Promise<Server> {
  const agent = new Agent({ keepAlive: true });
  const server = createServer((req, res) => {
    bareInvocations++;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const headers = { 'content-type': req.headers['content-type'] ?? 'application/json', 'content-length': body.length };
      const out = request({ agent, host: '127.0.0.1', port: modelPort, method: 'POST', path: '/invocations', headers }, (up) => {
        const back: Buffer[] = [];
        up.on('data', (c: Buffer) => back.push(c));
        up.on('end', () => {
          res.writeHead(up.statusCode ?? 502, { 'content-type': up.headers['content-type'] ?? 'application/json' });
          res.end(Buffer.concat(back));
        });
      });
      out.on('error', () => res.destroy());
      out.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

// Set once the proxy listens; close() may run before that (a failed start).
let bare: Server | undefined = undefined;
const close = async () => {
  bare?.closeAllConnections();
  bare?.close();
  await sagemaker.close();
  await codebuild.close();
  await edge.close();
  await s3.close();
  rmSync(dataDir, { recursive: true, force: true });
  process.exit(0);
};
// stdin: "reset" starts a measurement window, "stats" answers one JSON line about it — the
// host's own CPU per invocation and its event-loop delay, to tell the host's cost from the
// machine's scheduling in the latency tails. End of stdin: shut down.
// A coarse sampling timer: at 1 ms the monitor's own wake-ups were a load on the host it
// measures. Each sample is the timer's interval plus the delay, so the resolution is subtracted.
const LOOP_RESOLUTION_MS = 20;
const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
loop.enable();
/**
 * CPU of this process's capture processes (capture/process.mjs), in µs: the capture work ran
 * on a thread of this process before, and belongs to the endpoint host. Linux's /proc, in clock
 * ticks of 10 ms; summed over a run's blocks.
 */
function captureCpuMicros(): number {
  return cpuMicrosOf(captureProcessPids());
}
/**
 * CPU of the shadow variants' mirror processes (lib/local/services/sagemaker/mirror/), in µs: the
 * shadow instance's work (sending each copy, capturing its answer), not the endpoint host's, so
 * not in the host's figure; reported on its own line per copy so the work is seen, not hidden.
 */
function mirrorCpuMicros(): number {
  return cpuMicrosOf(processesMentioning('mirror/process.mjs', childPids()));
}
/** The children of this process (Linux /proc). */
function childPids(): number[] {
  return readdirSync(`/proc/${process.pid}/task`).flatMap((t) => {
    try {
      return readFileSync(`/proc/${process.pid}/task/${t}/children`, 'utf8').trim().split(' ').filter(Boolean).map(Number);
    } catch {
      return [];
    }
  });
}
/** User + system CPU of `pids`, in µs (clock ticks of 10 ms). */
function cpuMicrosOf(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone between the listing and the read
    }
  }
  return ticks * 10_000;
}
const cpuNow = () => {
  const own = process.cpuUsage();
  return own.user + own.system + captureCpuMicros();
};
let window = { cpu: cpuNow(), invocations: 0, mirrorCpu: mirrorCpuMicros(), copies: 0 };
// Requests served in this process: through the endpoint host and through the bare proxy (one
// of the two is under load in a window).
// The shadow variant's copies are not invocations a caller made (share 0): CPU is per production invocation.
const invocations = () =>
  [ENDPOINT, SHADOW_ENDPOINT]
    .flatMap((e) => sagemaker.variantMetrics(e))
    .reduce((n, v) => n + (v.share > 0 ? v.metrics.invocations : 0), 0) + bareInvocations;
/** Copies the shadow variant answered or lost (its invocations). */
const copies = () => sagemaker.variantMetrics(SHADOW_ENDPOINT).reduce((n, v) => n + (v.share === 0 ? v.metrics.invocations : 0), 0);
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (line === 'reset') {
    loop.reset();
    window = { cpu: cpuNow(), invocations: invocations(), mirrorCpu: mirrorCpuMicros(), copies: copies() };
  } else if (line === 'stats') {
    const n = invocations() - window.invocations;
    const stats = {
      invocations: n,
      cpuMicros: cpuNow() - window.cpu,
      loopDelayP99Ms: Math.max(0, loop.percentile(99) / 1e6 - LOOP_RESOLUTION_MS),
      mirrorCpuMicros: mirrorCpuMicros() - window.mirrorCpu,
      copies: copies() - window.copies,
    };
    process.stdout.write(`${JSON.stringify(stats)}\n`);
  }
});
lines.on('close', () => void close());

const location = await uploadTinySource(s3.client, 'bench01');
const { build } = (await codebuild.handle('StartBuild', {
  projectName: 'mlship-build-tiny',
  sourceLocationOverride: location,
  sourceVersion: 'bench01',
})) as { build: { id: string } };
const done = (await codebuild.waitForBuild(build.id)) as {
  buildStatus: string;
  exportedEnvironmentVariables: { name: string; value: string }[];
};
if (done.buildStatus !== 'SUCCEEDED') throw new Error(`bench build ended ${done.buildStatus}`);
const image = done.exportedEnvironmentVariables.find((v) => v.name === 'IMAGE_URI')!.value;
await sagemaker.handle('CreateModel', { ModelName: 'bench-model', PrimaryContainer: { Image: image } });
await sagemaker.handle('CreateEndpointConfig', {
  EndpointConfigName: 'bench-config',
  ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: 'bench-model', InitialInstanceCount: 1, InitialVariantWeight: 1 }],
  DataCaptureConfig: {
    EnableCapture: process.env.BENCH_CAPTURE !== 'off',
    InitialSamplingPercentage: 100,
    DestinationS3Uri: `s3://${BUCKET}/capture/tiny`,
    CaptureOptions: [{ CaptureMode: 'Input' }, { CaptureMode: 'Output' }],
  },
});
await sagemaker.handle('CreateEndpoint', { EndpointName: ENDPOINT, EndpointConfigName: 'bench-config' });
const ep = await sagemaker.waitForEndpoint(ENDPOINT);
if (ep.EndpointStatus !== 'InService') throw new Error(`bench endpoint is ${String(ep.EndpointStatus)}: ${String(ep.FailureReason)}`);
if (SHADOW) {
  await sagemaker.handle('CreateEndpointConfig', {
    EndpointConfigName: 'bench-config-shadow',
    ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: 'bench-model', InitialInstanceCount: 1, InitialVariantWeight: 1 }],
    ShadowProductionVariants: [{ VariantName: 'Shadow', ModelName: 'bench-model', InitialInstanceCount: 1, InitialVariantWeight: 0.5 }],
    DataCaptureConfig: {
      EnableCapture: process.env.BENCH_CAPTURE !== 'off',
      InitialSamplingPercentage: 100,
      DestinationS3Uri: `s3://${BUCKET}/capture/tiny`,
      CaptureOptions: [{ CaptureMode: 'Input' }, { CaptureMode: 'Output' }],
    },
  });
  await sagemaker.handle('CreateEndpoint', { EndpointName: SHADOW_ENDPOINT, EndpointConfigName: 'bench-config-shadow' });
  const shadowEp = await sagemaker.waitForEndpoint(SHADOW_ENDPOINT);
  if (shadowEp.EndpointStatus !== 'InService')
    throw new Error(`bench shadow endpoint is ${String(shadowEp.EndpointStatus)}: ${String(shadowEp.FailureReason)}`);
}
const port = sagemaker.variantMetrics(ENDPOINT)[0]!.port;
bare = await startBareProxy(port);
const bareUrl = `http://127.0.0.1:${(bare.address() as AddressInfo).port}/invocations`;
process.stdout.write(
  `${JSON.stringify({ edge: `${edge.url}/endpoints/${ENDPOINT}/invocations`, shadow: SHADOW ? `${edge.url}/endpoints/${SHADOW_ENDPOINT}/invocations` : undefined, model: `http://127.0.0.1:${port}/invocations`, bare: bareUrl, kind: process.env.BENCH_EDGE === 'mini' ? 'mini edge (test harness)' : 'real edge (lib/local/core/edge.ts)' })}\n`,
);
