import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { ListObjectsV2Command, GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUCKET, processesMentioning } from '../fixtures/harness';
import { eventually } from '../helpers';
import { startCloud, type Cloud } from './setup';

/**
 * The shadow variant's copies leave the endpoint host as they leave SageMaker's front end: the
 * shadow is served by its own instance (locally, its model server and a mirror process that
 * sends it the copies), so production's host pays neither a second HTTP exchange nor the CPU
 * of the shadow's work (docs/shadow.md, Decisions).
 */
let cloud: Cloud;
const ENDPOINT = 'ep-shadow-mirror';
const body = Buffer.from(JSON.stringify({ instances: [{ x: 1, y: 2 }] }));

/** Every descendant of this process (Linux /proc): the model servers, the capture and mirror processes. */
function descendants(pid = process.pid): number[] {
  const direct = readdirSync(`/proc/${pid}/task`).flatMap((t) => {
    try {
      return readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(' ').filter(Boolean).map(Number);
    } catch {
      return [];
    }
  });
  return direct.flatMap((c) => [c, ...descendants(c)]);
}
/** The nice value of a process (/proc/<pid>/stat field 19). */
const niceOf = (pid: number) => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[16]);
/** The model server listening on `port`: the descendant whose environment binds it there. */
function serverPid(port: number): number {
  const pid = descendants().find((p) => {
    try {
      return readFileSync(`/proc/${p}/environ`, 'utf8').split('\0').includes(`SAGEMAKER_BIND_TO_PORT=${port}`);
    } catch {
      return false;
    }
  });
  if (pid === undefined) throw new Error(`no model server of this process listens on port ${port}`);
  return pid;
}
const mirrorPids = () => processesMentioning('mirror/process.mjs', descendants());

/** Established TCP connections of this process (its own sockets, not its children's) to 127.0.0.1:`port`. */
function connectionsTo(port: number): number {
  const inodes = new Set<string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // closed between the listing and the read
    }
  }
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return ['/proc/self/net/tcp', '/proc/self/net/tcp6']
    .flatMap((f) => readFileSync(f, 'utf8').split('\n').slice(1).filter(Boolean))
    .map((l) => l.trim().split(/\s+/))
    .filter(([, , remote, state, , , , , , inode]) => remote!.endsWith(`:${hexPort}`) && state === '01' && inodes.has(inode!)).length;
}

const ports = () => {
  const vs = cloud.sagemaker.variantMetrics(ENDPOINT);
  return { production: vs.find((v) => v.variant === 'AllTraffic')!, shadow: vs.find((v) => v.variant === 'Shadow')! };
};
const invoke = (inferenceId?: string) =>
  cloud.sagemaker.runtime.invokeEndpoint({ endpointName: ENDPOINT, body, contentType: 'application/json', inferenceId });

beforeAll(async () => {
  cloud = await startCloud({ ok: { mode: 'ok' } });
  await cloud.sagemaker.handle('CreateModel', {
    ModelName: 'm-mirror',
    PrimaryContainer: { Image: cloud.images.ok },
    ExecutionRoleArn: 'arn:aws:iam::000000000000:role/sm',
  });
  const variant = (VariantName: string) => ({
    VariantName,
    ModelName: 'm-mirror',
    InitialInstanceCount: 1,
    InstanceType: 'ml.m5.large',
    InitialVariantWeight: 1,
  });
  await cloud.sagemaker.handle('CreateEndpointConfig', {
    EndpointConfigName: 'ec-mirror',
    ProductionVariants: [variant('AllTraffic')],
    ShadowProductionVariants: [variant('Shadow')],
    DataCaptureConfig: {
      EnableCapture: true,
      InitialSamplingPercentage: 100,
      DestinationS3Uri: `s3://${BUCKET}/capture/mirror`,
      CaptureOptions: [{ CaptureMode: 'Input' }, { CaptureMode: 'Output' }],
    },
  });
  await cloud.sagemaker.handle('CreateEndpoint', { EndpointName: ENDPOINT, EndpointConfigName: 'ec-mirror' });
  await cloud.sagemaker.waitForEndpoint(ENDPOINT);
}, 240_000);

afterAll(async () => {
  await cloud?.close();
});

describe('Function: the shadow variant served by its own processes', () => {
  it('sends the copies from a process of its own: the endpoint host holds no connection to the shadow model server', async () => {
    // Prepare
    const before = ports().shadow.metrics.invocations;

    // Act: 20 requests, each copied (the shadow's weight equals production's: 100 %)
    for (let i = 0; i < 20; i++) expect((await invoke()).status).toBe(200);
    await eventually(() => (ports().shadow.metrics.invocations >= before + 20 ? true : undefined));

    // Assess: the shadow answered every copy, and not over a socket of this process
    expect(ports().shadow.metrics).toMatchObject({ invocations: before + 20, errors5xx: 0 });
    expect(connectionsTo(ports().production.port)).toBeGreaterThan(0);
    expect(connectionsTo(ports().shadow.port)).toBe(0);
  });

  it("runs the shadow's model server and its mirror process at the lowest CPU priority (nice 19), production's as the host", async () => {
    // Prepare: a copy starts the mirror process
    await invoke();
    const host = niceOf(process.pid);

    // Assess
    expect(niceOf(serverPid(ports().production.port))).toBe(host);
    expect(niceOf(serverPid(ports().shadow.port))).toBe(19);
    const mirrors = mirrorPids();
    expect(mirrors).toHaveLength(1);
    expect(niceOf(mirrors[0]!)).toBe(19);
  });

  it("captures the shadow's answers under the inferenceId of production's", async () => {
    // Act
    const ids = ['mirror-id-1', 'mirror-id-2', 'mirror-id-3'];
    for (const id of ids) await invoke(id);
    await cloud.sagemaker.flushCapture();

    // Assess
    const captured = async (variant: string) => {
      const listed = await cloud.s3.client.send(
        new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `capture/mirror/${ENDPOINT}/${variant}/` }),
      );
      const found = new Set<string>();
      for (const o of listed.Contents ?? []) {
        const got = await cloud.s3.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: o.Key }));
        for (const line of (await got.Body!.transformToString()).split('\n').filter(Boolean))
          found.add(JSON.parse(line).eventMetadata.inferenceId as string);
      }
      return found;
    };
    const [production, shadow] = [await captured('AllTraffic'), await captured('Shadow')];
    for (const id of ids) {
      expect(production.has(id)).toBe(true);
      expect(shadow.has(id)).toBe(true);
    }
  });

  it('counts the copies a crashed mirror process held as 503s of the shadow, answers every caller, and mirrors again', async () => {
    // Prepare
    await cloud.sagemaker.flushCapture();
    const counted = ports().shadow.metrics.invocations;
    await invoke();
    const [mirror] = mirrorPids();
    expect(mirror).toBeDefined();

    // Act: kill -9 the mirror process while requests go on
    process.kill(mirror!, 'SIGKILL');
    const answers = [];
    for (let i = 0; i < 30; i++) answers.push((await invoke()).status);
    await cloud.sagemaker.flushCapture();

    // Assess: production answered every caller; a new mirror process took the later copies
    expect(answers.every((s) => s === 200)).toBe(true);
    const after = mirrorPids();
    expect(after).toHaveLength(1);
    expect(after[0]).not.toBe(mirror);
    const before = ports().shadow.metrics.invocations;
    await invoke();
    await cloud.sagemaker.flushCapture();
    expect(ports().shadow.metrics.invocations).toBe(before + 1);
    // Every copy is counted, answered or lost with the process (a 503 of the shadow)
    expect(ports().shadow.metrics.invocations).toBe(counted + 32);
  });

  it("ends the shadow's processes with the endpoint: no orphan after DeleteEndpoint", async () => {
    // Prepare
    await invoke();
    const shadowServer = serverPid(ports().shadow.port);
    const [mirror] = mirrorPids();
    expect(mirror).toBeDefined();

    // Act
    await cloud.sagemaker.handle('DeleteEndpoint', { EndpointName: ENDPOINT });
    await eventually(() => (cloud.sagemaker.variantMetrics(ENDPOINT).length === 0 ? true : undefined));

    // Assess: neither process is left (ps: /proc)
    await eventually(() => (processesMentioning('', [shadowServer, mirror!]).length === 0 ? true : undefined));
  });
});
