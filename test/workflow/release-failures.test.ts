import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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
    const { executionArn } = await h.release({ quality: 'good', delayMs: 2500 });
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

/**
 * A model fault ends in its own Fail state whose Cause says what failed, quotes the model's
 * answer and names the log: the local cloud's log file, which the assertions open.
 */
describe('Workflow: release failure causes', () => {
  const STAGING = `mlship-${MODEL}-staging`;
  const logDir = (endpoint: string) => join(h.cloud.dataDir, 'sagemaker', 'logs', endpoint);

  async function causeOf(executionArn: string, error: string, recordState: string): Promise<string> {
    await expectFailedAt(executionArn, error, recordState);
    const record = await h.wait(executionArn);
    return record.cause ?? '';
  }

  it('ends in EvaluationFailed when the model predicts NaN, quoting the answer and naming the log', async () => {
    // Act
    const { executionArn } = await h.release({ quality: 'good', answer: 'nan' });

    // Assess
    const cause = await causeOf(executionArn, 'EvaluationFailed', 'RecordEvaluationFailure');
    expect(cause).toMatch(
      /^ModelAnswerError: the model behind mlship-tiny-staging answered predictions that are NaN or Infinity, which JSON cannot carry: \{"predictions": \[\{"value": NaN\}, /,
    );
    expect(cause).toContain(`; model log: ${logDir(STAGING)}/`);
    expect(await h.path(executionArn)).not.toContain('LoadTest');
  });

  it("ends in EvaluationFailed when the model answers 500, with the model's message and its log file", async () => {
    // Act
    const { executionArn } = await h.release({ quality: 'good', answer: 'error500' });

    // Assess
    const cause = await causeOf(executionArn, 'EvaluationFailed', 'RecordEvaluationFailure');
    expect(cause).toMatch(
      /^ModelInvocationError: the model behind mlship-tiny-staging answered HTTP 500: \{"error":"ValueError: weights are corrupt"\}; model log: (\S+\.log)$/,
    );
    const logFile = /model log: (\S+\.log)$/.exec(cause)![1]!;
    expect(logFile.startsWith(`${logDir(STAGING)}/`)).toBe(true);
    expect(readFileSync(logFile, 'utf8')).toContain('Traceback: ValueError: weights are corrupt');
    expect(cause).not.toContain('/aws/sagemaker/Endpoints');
  });

  it('ends in EvaluationFailed naming a feature of the manifest the data lacks', async () => {
    // Act
    const { executionArn } = await h.release({ quality: 'good' }, (yaml) =>
      yaml.replace('  - { name: x, type: numeric }', '  - { name: x, type: numeric }\n  - { name: z, type: numeric }'),
    );

    // Assess
    const cause = await causeOf(executionArn, 'EvaluationFailed', 'RecordEvaluationFailure');
    expect(cause).toMatch(
      /^InvalidDataError: feature "z" of the manifest is missing from s3:\/\/\S+\/builds\/tiny\/\S+\/data\/holdout\.csv \(its columns: x, y\)$/,
    );
  });

  it('ends in StagingDeployFailed naming the model and the address of a server that listens on loopback only', async () => {
    // Act
    const { executionArn } = await h.release({ quality: 'good', bindLoopback: true });

    // Assess
    const cause = await causeOf(executionArn, 'StagingDeployFailed', 'RecordStagingFailure');
    expect(cause).toMatch(
      /model server mlship-tiny-staging\/AllTraffic of model mlship-tiny-\S+ \(node serve\.mjs\) listens only on 127\.0\.0\.1:\d+; SageMaker reaches a model container from outside it on 0\.0\.0\.0:8080, where this server would not answer: listen on 0\.0\.0\.0 \(all interfaces\)/,
    );
    expect(cause).toContain(`; model log: ${logDir(STAGING)}/`);
  });

  it('ends in DeploymentRolledBack naming the crashed canary server, its last words and its log', async () => {
    // Prepare: a version in production to roll back to, then one whose server exits once
    // the exit file exists, which the test creates when it approves
    const first = await h.releaseApproved({ quality: 'good' });
    expect(first.record.status, await h.explain(first.executionArn)).toBe('SUCCEEDED');
    const production = `mlship-${MODEL}-production`;
    const exitFile = join(h.temp, 'exit-now');
    const started = await h.release({ quality: 'good', exitFile });
    expect(await h.approvalOf(started.name, started.executionArn), await h.explain(started.executionArn)).toBeDefined();

    // Act: approve, then send traffic while the canary bakes
    writeFileSync(exitFile, 'exit');
    await h.decide(started.name, 'approve');
    let done = false;
    const ended = h.wait(started.executionArn).then((r) => {
      done = true;
      return r;
    });
    while (!done)
      await h.traffic(
        production,
        Array.from({ length: 10 }, (_, i) => ({ x: i })),
      );
    const record = await ended;

    // Assess
    expect(record.status, await h.explain(started.executionArn)).toBe('FAILED');
    expect(record.error).toBe('DeploymentRolledBack');
    expect(record.cause).toMatch(
      /^production deployment rolled back, production serves the previous version: Rolled back: model server of variant AllTraffic exited while baking \(exit code 3\); last stderr: fatal: out of memory loading the model/,
    );
    expect(record.cause).toContain(`; model log: ${logDir(production)}/`);
    expect(record.cause).not.toContain('rollback alarm');
    expect(existsSync(logDir(production))).toBe(true);
  });
});
