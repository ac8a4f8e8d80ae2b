import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODEL, WorkflowHarness } from './harness';

/**
 * Every failure branch of the release ends in its own Fail state, with the outcome recorded
 * and notified, and production untouched (there is none in this file's cloud).
 */
let h: WorkflowHarness;
beforeAll(async () => {
  h = await WorkflowHarness.start();
});
afterAll(async () => {
  await h?.close();
});

async function expectFailedAt(executionArn: string, error: string, recordState: string): Promise<void> {
  const record = await h.wait(executionArn);
  const explain = await h.explain(executionArn);
  expect(record.status, explain).toBe('FAILED');
  expect(record.error, explain).toBe(error);
  expect(await h.path(executionArn), explain).toContain(recordState);
  expect(await h.getJson(`registry/${MODEL}/production.json`)).toBeUndefined();
}

describe('Workflow: release failures', () => {
  it('ends in BuildFailed when the build fails', async () => {
    const { executionArn } = await h.release({ failBuild: true });
    await expectFailedAt(executionArn, 'BuildFailed', 'RecordBuildFailure');
  });

  it('ends in QualityGateFailed when the model misses its metric bound', async () => {
    const { executionArn } = await h.release({ quality: 'bad' });
    await expectFailedAt(executionArn, 'QualityGateFailed', 'RecordQualityGateFailure');
    expect(await h.path(executionArn)).not.toContain('LoadTest');
  });

  it('ends in LoadTestFailed when the model is too slow for its p99 bound', async () => {
    const { executionArn } = await h.release({ quality: 'good', delayMs: 400 });
    await expectFailedAt(executionArn, 'LoadTestFailed', 'RecordLoadTestFailure');
    expect(await h.path(executionArn)).not.toContain('RequestApproval');
  });

  it('ends in ApprovalRejected when the approver rejects', async () => {
    const { executionArn, name } = await h.release({ quality: 'good' });
    const approval = await h.approvalOf(name, executionArn);
    expect(approval, await h.explain(executionArn)).toMatchObject({ model: MODEL, status: 'pending' });
    await h.decide(name, 'reject', 'not this week');
    await expectFailedAt(executionArn, 'ApprovalRejected', 'RecordRejection');
    expect(await h.getJson(`approvals/${MODEL}/${name}.json`)).toMatchObject({ status: 'rejected', decision: { by: 'workflow-test' } });
  });

  it('ends in ApprovalTimedOut when nobody decides within the manifest timeout', async () => {
    const { executionArn, name } = await h.release({ quality: 'good' }, (yaml) => yaml.replace('timeout: 10m', 'timeout: 2s'));
    expect(await h.approvalOf(name, executionArn), await h.explain(executionArn)).toBeDefined();
    await expectFailedAt(executionArn, 'ApprovalTimedOut', 'RecordApprovalTimeout');
  });
});
