import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureSettings } from '../../../lib/local/services/sagemaker/capture/format';
import { CaptureWriter } from '../../../lib/local/services/sagemaker/capture/writer';
import { BUCKET, captureProcessPids, credentials, noSignalPending, s3Client, startS3, type S3Fixture } from '../fixtures/harness';
import { eventually } from '../helpers';

const settings = (prefix: string, pct = 100) =>
  captureSettings(
    {
      EnableCapture: true,
      InitialSamplingPercentage: pct,
      DestinationS3Uri: `s3://${BUCKET}/${prefix}`,
      CaptureOptions: [{ CaptureMode: 'Input' }, { CaptureMode: 'Output' }],
    },
    'DataCaptureConfig',
  )!;

const invocation = (n: number, time: number) => ({
  // A view into a larger buffer, as the proxy's bodies are: only its own bytes are captured.
  input: Buffer.from(`xxxx{"n":${n}}yyyy`).subarray(4, -4),
  inputContentType: 'application/json',
  output: Buffer.from(`{"p":${n * 2}}`),
  outputContentType: 'application/json',
  inferenceId: `id-${n}`,
  time,
});

async function lines(s3: S3Client, prefix: string): Promise<Array<{ key: string; line: Record<string, any> }>> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
  const out: Array<{ key: string; line: Record<string, any> }> = [];
  for (const { Key } of listed.Contents ?? []) {
    const text = await (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key }))).Body!.transformToString();
    for (const l of text.trim().split('\n')) out.push({ key: Key!, line: JSON.parse(l) });
  }
  return out;
}

/** A writer that has uploaded invocation 1, with the pid of its running capture process. */
async function writerWithProcess(s3: S3Client, prefix: string, endpoint: string, at: number) {
  const writer = new CaptureWriter(s3, 1000, 60_000);
  const s = settings(prefix);
  writer.add(s, endpoint, 'AllTraffic', invocation(1, at));
  await writer.flush();
  const [pid] = captureProcessPids();
  if (pid === undefined) throw new Error('no capture process is running after a flush');
  return { writer, s, pid };
}

/** Two batches, a flush between them, then close: a failure must be reported for each batch. */
async function twoBatchesThenClose(writer: CaptureWriter, prefix: string, endpoint: string): Promise<void> {
  writer.add(settings(prefix), endpoint, 'AllTraffic', invocation(1, Date.now()));
  await writer.flush();
  writer.add(settings(prefix), endpoint, 'AllTraffic', invocation(2, Date.now()));
  await writer.close();
}

describe('Class: CaptureWriter', () => {
  let s3: S3Fixture;
  beforeAll(async () => {
    s3 = await startS3();
  }, 60_000);
  afterAll(async () => {
    await s3?.close();
  });

  it('uploads every queued invocation on flush, to its endpoint, variant and hour partition', async () => {
    // Arrange
    const writer = new CaptureWriter(s3.client, 1000, 60_000);
    const at = Date.parse('2026-11-27T05:10:00Z');
    const s = settings('capture/m');

    // Act
    for (let n = 0; n < 5; n++) writer.add(s, 'ep-a', 'AllTraffic', invocation(n, at));
    writer.add(s, 'ep-a', 'Canary', invocation(5, at + 3_600_000));
    writer.add(settings('capture/none', 0), 'ep-a', 'AllTraffic', invocation(6, at));
    writer.add(s, 'ep-a', 'AllTraffic', { ...invocation(7, at + 3_600_000), input: Buffer.from('{"text":"naïve ☃ 🚀"}') });
    await writer.flush();
    await writer.close();

    // Assess
    expect(writer.errors).toEqual([]);
    const main = await lines(s3.client, 'capture/m/ep-a/AllTraffic/2026/11/27/05/');
    expect(main.map((l) => l.line.eventMetadata.inferenceId).sort()).toEqual(['id-0', 'id-1', 'id-2', 'id-3', 'id-4']);
    expect(main[0]!.line.captureData.endpointInput).toEqual({
      observedContentType: 'application/json',
      mode: 'INPUT',
      data: expect.stringMatching(/^\{"n":\d\}$/),
      encoding: 'JSON',
    });
    expect((await lines(s3.client, 'capture/m/ep-a/Canary/2026/11/27/06/')).map((l) => l.line.eventMetadata.inferenceId)).toEqual(['id-5']);
    const nextHour = await lines(s3.client, 'capture/m/ep-a/AllTraffic/2026/11/27/06/');
    expect(nextHour.map((l) => [l.line.eventMetadata.inferenceId, l.line.captureData.endpointInput.data])).toEqual([
      ['id-7', '{"text":"naïve ☃ 🚀"}'],
    ]);
    expect(await lines(s3.client, 'capture/none/')).toEqual([]);
  });

  it('uploads a partition once it holds flushRecords lines, without a flush', async () => {
    // Arrange
    const writer = new CaptureWriter(s3.client, 3, 60_000);
    const s = settings('capture/batched');

    // Act
    for (let n = 0; n < 3; n++) writer.add(s, 'ep-b', 'AllTraffic', invocation(n, Date.now()));
    const found = await eventually(async () => {
      const l = await lines(s3.client, 'capture/batched/');
      return l.length >= 3 ? l : undefined;
    });
    await writer.close();

    // Assess
    expect(found).toHaveLength(3);
  });

  it('hands a full frame over early and keeps each record with its own settings and body', async () => {
    // Arrange: 200 KB bodies fill a frame within a few records, and two configs alternate.
    const writer = new CaptureWriter(s3.client, 1000, 60_000);
    const [a, b] = [settings('capture/big-a'), settings('capture/big-b')];
    const at = Date.parse('2026-11-27T07:00:00Z');
    const big = (n: number) => ({ ...invocation(n, at), input: Buffer.from(JSON.stringify({ n, pad: String(n % 10).repeat(200_000) })) });

    // Act
    for (let n = 0; n < 12; n++) writer.add(n % 2 ? b : a, 'ep-c', 'AllTraffic', big(n));
    await writer.flush();
    await writer.close();

    // Assess
    expect(writer.errors).toEqual([]);
    const read = async (prefix: string) =>
      (await lines(s3.client, prefix)).map(({ line }) => {
        const body = JSON.parse(line.captureData.endpointInput.data) as { n: number; pad: string };
        return { id: line.eventMetadata.inferenceId, n: body.n, padOk: body.pad === String(body.n % 10).repeat(200_000) };
      });
    const byN = (x: { n: number }, y: { n: number }) => x.n - y.n;
    expect((await read('capture/big-a/')).sort(byN)).toEqual([0, 2, 4, 6, 8, 10].map((n) => ({ id: `id-${n}`, n, padOk: true })));
    expect((await read('capture/big-b/')).sort(byN)).toEqual([1, 3, 5, 7, 9, 11].map((n) => ({ id: `id-${n}`, n, padOk: true })));
  });

  it('sends an upload again, whole, when its connection drops part way', async () => {
    // Arrange: a proxy in front of s3rver that cuts the first PUT once some of its body is in.
    const puts: number[] = [];
    const proxy: Server = createServer((req, res) => {
      const cut = req.method === 'PUT' && puts.push(0) === 1;
      if (cut) {
        req.once('data', () => req.socket.destroy());
        return;
      }
      const upstream = request(`${s3.server.url}${req.url}`, { method: req.method, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const client = s3Client(`http://127.0.0.1:${(proxy.address() as AddressInfo).port}`);
    const writer = new CaptureWriter(client, 1000, 60_000);
    const s = settings('capture/retried');
    const at = Date.parse('2026-11-27T08:00:00Z');
    const body = (n: number) => Buffer.from(JSON.stringify({ n, pad: 'x'.repeat(4000) }));

    // Act: 50 invocations of 4 KB, a body of several pieces.
    for (let n = 0; n < 50; n++) writer.add(s, 'ep-r', 'AllTraffic', { ...invocation(n, at), input: body(n) });
    await writer.flush();
    await writer.close();
    client.destroy();
    proxy.close();

    // Assess
    expect(writer.errors).toEqual([]);
    expect(puts).toHaveLength(2);
    const found = (await lines(s3.client, 'capture/retried/')).map(({ line }) => line.captureData.endpointInput.data as string);
    expect(found).toEqual(Array.from({ length: 50 }, (_, n) => body(n).toString()));
  });

  it('keeps its capture process through SIGINT and SIGTERM, so a Ctrl-C of mlship up still flushes', async () => {
    // Arrange
    const at = Date.parse('2026-11-27T10:00:00Z');
    const { writer, s, pid } = await writerWithProcess(s3.client, 'capture/interrupted', 'ep-i', at);

    // Act: the signals a terminal's Ctrl-C and a group kill send, then the graceful stop's flush.
    writer.add(s, 'ep-i', 'AllTraffic', invocation(2, at));
    process.kill(pid, 'SIGINT');
    process.kill(pid, 'SIGTERM');
    await eventually(() => (noSignalPending(pid) ? true : undefined));
    await writer.close();

    // Assess
    expect(writer.errors).toEqual([]);
    expect((await lines(s3.client, 'capture/interrupted/')).map((l) => l.line.eventMetadata.inferenceId).sort()).toEqual(['id-1', 'id-2']);
    expect(captureProcessPids()).toEqual([]);
  });

  it('reports a capture process that dies, starts another for the next batch, and leaves none behind', async () => {
    // Arrange
    const at = Date.parse('2026-11-27T09:00:00Z');
    const { writer, s, pid: first } = await writerWithProcess(s3.client, 'capture/restarted', 'ep-k', at);

    // Act
    process.kill(first, 'SIGKILL');
    await eventually(() => (writer.errors.length ? true : undefined));
    writer.add(s, 'ep-k', 'AllTraffic', invocation(2, at));
    await writer.flush();
    const second = captureProcessPids();
    await writer.close();

    // Assess
    expect(writer.errors.map((e) => e.message)).toEqual([
      'data capture: the capture process stopped (SIGKILL); its buffered records are lost',
    ]);
    expect(second).toHaveLength(1);
    expect(second[0]).not.toBe(first);
    expect((await lines(s3.client, 'capture/restarted/')).map((l) => l.line.eventMetadata.inferenceId).sort()).toEqual(['id-1', 'id-2']);
    expect(captureProcessPids()).toEqual([]);
  });

  it('reports uploads that fail, naming the destination, keeps their records for the next flush, and keeps accepting invocations (issue 14.8)', async () => {
    // Arrange: nothing listens on port 9 of 127.0.0.1.
    const unreachable = new S3Client({
      endpoint: 'http://127.0.0.1:9',
      region: 'us-east-1',
      credentials,
      forcePathStyle: true,
      maxAttempts: 1,
    });
    const writer = new CaptureWriter(unreachable, 1000, 60_000);

    // Act
    await twoBatchesThenClose(writer, 'capture/lost', 'ep-c');
    unreachable.destroy();

    // Assess
    // The first flush's record is tried again with the second record at close.
    const failed = expect.stringMatching(
      /^data capture: cannot write 1 records to s3:\/\/mlship-artifacts\/capture\/lost\/ep-c\/AllTraffic\/.*; kept, sent again at the next flush$/,
    );
    expect(writer.errors.map((e) => e.message)).toEqual([failed, failed, failed]);
  });

  it('ends a flush and says so when the capture process cannot start, and tries again on the next batch', async () => {
    // Arrange: credentials that cannot be resolved, so the capture process's S3 settings cannot be made
    const broken = new S3Client({
      endpoint: 'http://127.0.0.1:9',
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: () => Promise.reject(new Error('no credentials here')),
    });
    const writer = new CaptureWriter(broken, 1000, 60_000);

    // Act
    await twoBatchesThenClose(writer, 'capture/never', 'ep-d');
    broken.destroy();

    // Assess
    expect(writer.errors.map((e) => e.message)).toEqual([
      'data capture: the capture process did not start (no credentials here); records are lost',
      'data capture: the capture process did not start (no credentials here); records are lost',
    ]);
  });
});
