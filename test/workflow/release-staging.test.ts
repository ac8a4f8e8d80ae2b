import { DescribeEndpointCommand } from '@aws-sdk/client-sagemaker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODEL, WorkflowHarness } from './harness';

/**
 * The staging endpoint lives as long as its release: every end deletes it (its model server
 * processes stop), unless the manifest keeps it with `staging.keepEndpoint: true`.
 */
let h: WorkflowHarness;
beforeAll(async () => {
  h = await WorkflowHarness.start();
});
afterAll(async () => {
  await h?.close();
});

const STAGING = `mlship-${MODEL}-staging`;

/** DescribeEndpoint's status, or `gone` when SageMaker answers "Could not find endpoint". */
async function stagingStatus(): Promise<string> {
  try {
    return (await h.sagemaker.send(new DescribeEndpointCommand({ EndpointName: STAGING }))).EndpointStatus ?? 'unknown';
  } catch (err) {
    if ((err as Error).name === 'ValidationException' && /could not find endpoint/i.test((err as Error).message)) return 'gone';
    throw err;
  }
}

/** Whether anything still answers on a model server's port. */
async function answers(port: number): Promise<boolean> {
  try {
    await fetch(`http://127.0.0.1:${port}/ping`, { signal: AbortSignal.timeout(2000) });
    return true;
  } catch {
    return false;
  }
}

/** Release, and when the approval is asked (staging is then in service) decide it; returns the staging server ports seen then. */
async function releaseAndDecide(decision: 'approve' | 'reject', manifestEdit?: (yaml: string) => string) {
  const started = await h.release({ quality: 'good' }, manifestEdit);
  const approval = await h.approvalOf(started.name, started.executionArn);
  expect(approval, await h.explain(started.executionArn)).toBeDefined();
  const ports = h.cloud.sageMaker.variantMetrics(STAGING).map((v) => v.port);
  expect(ports.length).toBeGreaterThan(0);
  await h.decide(started.name, decision, `workflow test: ${decision}`);
  return { ...started, ports, record: await h.wait(started.executionArn) };
}

describe('Workflow: the staging endpoint at the end of a release', () => {
  it('is deleted, its model servers stopped, after a promoted release', async () => {
    // Act
    const { record, executionArn, ports } = await releaseAndDecide('approve');

    // Assess
    expect(record.status, await h.explain(executionArn)).toBe('SUCCEEDED');
    const output = JSON.parse(record.output!);
    expect(output.DeleteStagingEndpointResult).toMatchObject({ endpointName: STAGING, action: 'deleted' });
    expect((await h.getJson(`registry/${MODEL}/versions/${output.PrepareReleaseResult.version}.json`)).stagingCleanup).toEqual({
      action: 'deleted',
      detail: `deleted ${STAGING}`,
    });
    expect(await stagingStatus()).toBe('gone');
    for (const port of ports) expect(await answers(port), `port ${port}`).toBe(false);
    expect(await h.traffic(`mlship-${MODEL}-production`, [{ x: 1 }])).toEqual([200]);
  });

  it('is deleted after a rejected release, which still ends ApprovalRejected', async () => {
    // Act
    const { record, executionArn, ports } = await releaseAndDecide('reject');

    // Assess
    expect(record.status, await h.explain(executionArn)).toBe('FAILED');
    expect(record.error).toBe('ApprovalRejected');
    expect(await h.path(executionArn)).toEqual(expect.arrayContaining(['DeleteStagingEndpoint', 'RecordRejection']));
    expect(await stagingStatus()).toBe('gone');
    for (const port of ports) expect(await answers(port), `port ${port}`).toBe(false);
    expect(await h.traffic(`mlship-${MODEL}-production`, [{ x: 1 }])).toEqual([200]);
  });

  it('keeps serving after the release when the manifest sets staging.keepEndpoint', async () => {
    // Act
    const { record, executionArn } = await releaseAndDecide('reject', (yaml) => `${yaml}staging:\n  keepEndpoint: true\n`);

    // Assess
    expect(record.error, await h.explain(executionArn)).toBe('ApprovalRejected');
    expect(await stagingStatus()).toBe('InService');
    expect(await h.traffic(STAGING, [{ x: 1 }, { x: 2 }])).toEqual([200, 200]);
  });
});
