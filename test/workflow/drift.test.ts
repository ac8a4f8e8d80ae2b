import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, ListExecutionsCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { LocalCloud } from '../../lib/local/cloud';
import { MODEL, WorkflowHarness } from './harness';

/**
 * The drift workflow against a model in production: no drift starts nothing; drift starts a
 * retraining release; a second drift inside the cooldown starts none.
 */
let h: WorkflowHarness;
let captured = 0;
const PRODUCTION = `mlship-${MODEL}-production`;

/** Send traffic and wait until the endpoint's data capture has written all of it. */
async function trafficCaptured(xs: number[]): Promise<void> {
  const codes = await h.traffic(PRODUCTION, xs.map((x) => ({ x })));
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

async function driftCheck(): Promise<{ path: string[]; output: any; executionArn: string }> {
  const { executionArn } = await h.cloud.startWorkflow('driftCheck', `${MODEL}-drift`, { model: MODEL, trigger: 'manual' });
  const record = await h.wait(executionArn);
  expect(record.status, await h.explain(executionArn)).toBe('SUCCEEDED');
  return { path: await h.path(executionArn), output: JSON.parse(record.output!), executionArn };
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
});
