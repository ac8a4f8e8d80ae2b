import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, ListExecutionsCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { LocalCloud } from '../../lib/local/cloud';
import { NOTIFICATIONS_FILE } from '../../lib/local/constants';
import { MODEL, WorkflowHarness } from './harness';

/**
 * The drift workflow against a model in production: no drift starts nothing; drift starts a
 * retraining release; a second drift inside the cooldown starts none; bad capture rows are
 * skipped and counted; a feature that stops arriving is a notified data-quality alert.
 */
let h: WorkflowHarness;
let captured = 0;
const PRODUCTION = `mlship-${MODEL}-production`;

/** Send traffic and wait until the endpoint's data capture has written all of it. */
async function trafficCaptured(xs: number[]): Promise<void> {
  const codes = await h.traffic(
    PRODUCTION,
    xs.map((x) => ({ x })),
  );
  expect(codes.every((c) => c === 200)).toBe(true);
  captured += xs.length;
  for (;;) {
    let lines = 0;
    for (const key of await h.keys(`capture/${MODEL}/`)) {
      const out = await h.s3.send(new GetObjectCommand({ Bucket: h.cloud.bucket, Key: key }));
      lines += (await out.Body!.transformToString()).split('\n').filter(Boolean).length;
    }
    if (lines >= captured) return;
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function driftCheck(extra: Record<string, unknown> = {}): Promise<{ path: string[]; output: any; executionArn: string }> {
  const { executionArn } = await h.cloud.startWorkflow('driftCheck', `${MODEL}-drift`, { model: MODEL, trigger: 'manual', ...extra });
  const record = await h.wait(executionArn);
  expect(record.status, await h.explain(executionArn)).toBe('SUCCEEDED');
  return { path: await h.path(executionArn), output: JSON.parse(record.output!), executionArn };
}

/** One capture line as the endpoint host writes it, with any instance (the tiny server refuses non-numbers, an upstream bug need not). */
function captureLine(id: string, instance: Record<string, unknown>): string {
  return JSON.stringify({
    captureData: {
      endpointInput: {
        observedContentType: 'application/json',
        mode: 'INPUT',
        data: JSON.stringify({ instances: [instance] }),
        encoding: 'JSON',
      },
      endpointOutput: {
        observedContentType: 'application/json',
        mode: 'OUTPUT',
        data: JSON.stringify({ predictions: [{ value: 1 }] }),
        encoding: 'JSON',
      },
    },
    eventMetadata: { eventId: `ev-${id}`, inferenceId: id, inferenceTime: new Date().toISOString() },
    eventVersion: '0',
  });
}

let variant: string | undefined;
/** Write a capture file next to the endpoint's own (same endpoint, variant and hour layout). */
async function putCapture(name: string, text: string): Promise<string> {
  variant ??= (await h.keys(`capture/${MODEL}/${PRODUCTION}/`))[0]!.split('/')[3];
  const key = `capture/${MODEL}/${PRODUCTION}/${variant}/${new Date().toISOString().slice(0, 13).replace(/[-T]/g, '/')}/${name}`;
  await h.s3.send(new PutObjectCommand({ Bucket: h.cloud.bucket, Key: key, Body: text }));
  return key;
}

async function driftReleases(): Promise<string[]> {
  const { executions = [] } = await h.sfn.send(new ListExecutionsCommand({ stateMachineArn: LocalCloud.stateMachineArn('release') }));
  const out: string[] = [];
  for (const e of executions) {
    const d = await h.sfn.send(new DescribeExecutionCommand({ executionArn: e.executionArn }));
    if (JSON.parse(d.input!).trigger === 'drift') out.push(e.executionArn!);
  }
  return out;
}

beforeAll(async () => {
  h = await WorkflowHarness.start();
  const { record, executionArn } = await h.releaseApproved({ quality: 'good' });
  expect(record.status, await h.explain(executionArn)).toBe('SUCCEEDED');
});
afterAll(async () => {
  await h?.close();
});

describe('Workflow: drift check', () => {
  it('finds no drift in traffic like the training data and starts nothing', async () => {
    // Prepare: x spread over [0, 10) like the training data
    await trafficCaptured(Array.from({ length: 80 }, (_, i) => (i * 7.31) % 10));

    // Act
    const { path, output } = await driftCheck();

    // Assess
    expect(output.CheckDriftResult.verdict).toBe('no-drift');
    expect(path).not.toContain('TriggerRetraining');
    expect(await driftReleases()).toEqual([]);
  });

  it('finds drift in shifted traffic and starts a retraining release', async () => {
    // Prepare: x far outside the training range
    await trafficCaptured(Array.from({ length: 120 }, (_, i) => 40 + ((i * 3.7) % 10)));

    // Act
    const { path, output } = await driftCheck();

    // Assess
    expect(output.CheckDriftResult.verdict).toBe('drift');
    expect(path).toContain('TriggerRetraining');
    expect(output.TriggerRetrainingResult).toMatchObject({ started: true });
    const releases = await driftReleases();
    expect(releases).toEqual([output.TriggerRetrainingResult.executionArn]);
    // The retraining release itself is the release workflow tested elsewhere.
    await h.sfn.send(new StopExecutionCommand({ executionArn: releases[0], cause: 'drift test: not needed' }));
    await h.wait(releases[0]!);
  });

  it('respects the retraining cooldown on a second drift', async () => {
    // Act
    const { path, output } = await driftCheck();

    // Assess
    expect(output.CheckDriftResult.verdict).toBe('drift');
    expect(path).toContain('TriggerRetraining');
    expect(output.TriggerRetrainingResult.started).toBe(false);
    expect(output.TriggerRetrainingResult.skippedReason).toMatch(/cooldown/i);
    expect(await driftReleases()).toHaveLength(1);
  });

  it('completes a check over a capture file with a truncated line and a "NaN" value, with their counts', async () => {
    // Prepare: one request whose x is "NaN", then a line torn mid-record
    const torn = captureLine('torn', { x: 3 });
    const key = await putCapture('bad-rows.jsonl', `${captureLine('nan', { x: 'NaN' })}\n${torn.slice(0, torn.length >> 1)}`);

    // Act
    const { output } = await driftCheck();

    // Assess: the drift verdict of the 200 good rows stands; the two bad ones are counted
    expect(output.CheckDriftResult.verdict).toBe('drift');
    expect(output.CheckDriftResult.dataQuality).toMatchObject({
      verdict: 'ok',
      captureLines: captured + 2,
      skippedLines: 1,
      skippedValues: { x: 1 },
      alerts: [],
    });
    const report = await h.getJson(`monitoring/${MODEL}/${output.CheckDriftResult.run}/drift-report.json`);
    expect(report.dataQuality.capture.examples).toEqual([{ source: key, line: 2, reason: 'not valid JSON' }]);
  });

  it('splits a window of more capture than batchBytes into batches, maps over them and gives the verdict of one pass', async () => {
    // Prepare: the window of the test before (endpoint capture and a file with bad rows), read in one pass
    const single = await driftCheck();
    const objects = (await h.keys(`capture/${MODEL}/${PRODUCTION}/`)).length;
    expect(objects).toBeGreaterThan(1);

    // Act: the same window, one capture object per batch
    const { path, output } = await driftCheck({ batchBytes: 1 });

    // Assess: pass 1 (and pass 2 if the merge asked for it) ran over every batch, and the outcome is the single pass's
    const scans = path.filter((s) => s === 'ScanCaptureBatch').length;
    expect([objects, 2 * objects]).toContain(scans);
    expect(path.filter((s) => s === 'MergeCaptureBatches')).toHaveLength(scans / objects);
    expect(path).toContain('RecordDriftOutcome');
    const strip = (r: any) => ({ ...r, run: null, reportUri: null });
    expect(strip(output.CheckDriftResult)).toEqual(strip(single.output.CheckDriftResult));
    const report = (o: any) => h.getJson(`monitoring/${MODEL}/${o.CheckDriftResult.run}/drift-report.json`);
    const [one, two] = [await report(single.output), await report(output)];
    expect(two.data.columns.map((c: any) => [c.column, c.drifted])).toEqual(one.data.columns.map((c: any) => [c.column, c.drifted]));
    expect(two.dataQuality).toEqual(one.dataQuality);
  });

  it('raises a data-quality alert, notified, when a feature becomes 100 % null', async () => {
    // Prepare: a window whose only traffic carries x = null
    for (const k of await h.keys(`capture/${MODEL}/`)) await h.s3.send(new DeleteObjectCommand({ Bucket: h.cloud.bucket, Key: k }));
    await putCapture('nulls.jsonl', Array.from({ length: 40 }, (_, i) => captureLine(`null-${i}`, { x: null })).join('\n'));

    // Act
    const { path, output, executionArn } = await driftCheck();

    // Assess
    expect(output.CheckDriftResult).toMatchObject({
      verdict: 'data-quality',
      retrain: false,
      dataQuality: { verdict: 'data-quality', alerts: ['x: 100.0% missing against 0.0% in the baseline'] },
    });
    expect(path).toEqual(['CheckDrift', 'IsWindowSplit', 'IsRetrainingNeeded', 'RecordDriftOutcome', 'DriftCheckDone']);
    expect(output.RecordOutcomeResult).toEqual({ outcome: 'data-quality', notified: true });
    const feed = readFileSync(join(h.temp, 'data', NOTIFICATIONS_FILE), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(feed).toContainEqual(
      expect.objectContaining({
        subject: `mlship: ${MODEL} drift check data-quality`,
        message: expect.stringMatching(new RegExp(`Data-quality alert: x: 100\\.0% missing[^]*Execution: ${executionArn}`)),
        attributes: expect.objectContaining({ outcome: 'data-quality' }),
      }),
    );
  });
});
