import './task-env';
import './metrics-env';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { handler as decideHandler } from '../../../lambdas/decide-approval/handler';
import { handler as recordOutcome } from '../../../lambdas/record-outcome/handler';
import { emitMetric } from '../../../lambdas/shared/metrics';
import { METRICS_NAMESPACE } from '../../../lib/metrics';
import { fakeS3, type FakeBucket } from './fake-s3';
import { approvalRecord, approvalToken, EXECUTION_ARN, versionRecord } from './fixtures';

/**
 * The custom metrics as CloudWatch receives them: EMF lines on stdout, each with the
 * namespace the dashboard searches, its dimension set and its value.
 */

interface Emf {
  _aws: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string; Unit: string }> }> };
  [key: string]: unknown;
}

let lines: string[];
beforeEach(() => {
  lines = [];
  vi.spyOn(console, 'log').mockImplementation((line: unknown) => void lines.push(String(line)));
});
afterEach(() => vi.restoreAllMocks());

/** The EMF documents written so far that carry `name`. */
const emitted = (name: string): Emf[] =>
  lines
    .filter((l) => l.startsWith('{') && l.includes('"CloudWatchMetrics"'))
    .map((l) => JSON.parse(l) as Emf)
    .filter((d) => d._aws.CloudWatchMetrics.some((m) => m.Metrics.some((x) => x.Name === name)));

describe('Function: emitMetric', () => {
  it('writes one EMF document in the mlship namespace with the metric dimensions and the service', () => {
    emitMetric('loadTestP99', { model: 'delivery-time' }, 812.5);
    const [doc] = emitted('LoadTestP99');
    expect(doc?._aws.CloudWatchMetrics[0]).toMatchObject({
      Namespace: METRICS_NAMESPACE,
      Metrics: [{ Name: 'LoadTestP99', Unit: 'Milliseconds' }],
    });
    expect([...doc!._aws.CloudWatchMetrics[0]!.Dimensions[0]!].sort()).toEqual(['model', 'service']);
    expect(doc).toMatchObject({ model: 'delivery-time', service: 'mlship', LoadTestP99: 812.5 });
  });

  it('writes nothing outside Lambda unless POWERTOOLS_METRICS_DISABLED says so (the CLI and scripts share stdout with people)', () => {
    // Prepare: the environment of a script or the CLI (no Powertools settings), stdout watched
    const saved = { disabled: process.env.POWERTOOLS_METRICS_DISABLED, dev: process.env.POWERTOOLS_DEV };
    delete process.env.POWERTOOLS_METRICS_DISABLED;
    delete process.env.POWERTOOLS_DEV;
    const written: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => written.push(String(chunk)) > 0);
    try {
      // Act
      emitMetric('loadTestP99', { model: 'outside' }, 1);
      process.env.AWS_LAMBDA_FUNCTION_NAME = 'mlship-LoadTest';
      emitMetric('loadTestP99', { model: 'on-lambda' }, 1);
    } finally {
      write.mockRestore();
      Object.assign(process.env, { POWERTOOLS_METRICS_DISABLED: saved.disabled, POWERTOOLS_DEV: saved.dev });
      delete process.env.AWS_LAMBDA_FUNCTION_NAME;
    }

    // Assess
    const models = written.filter((w) => w.includes('"LoadTestP99"')).map((w) => (JSON.parse(w) as { model: string }).model);
    expect(models).toEqual(['on-lambda']);
  });

  it('skips a value that is not a number rather than emitting an invalid document', () => {
    emitMetric('driftShare', { model: 'delivery-time' }, Number.NaN);
    expect(emitted('DriftShare')).toEqual([]);
  });
});

describe('Handler: RecordOutcome (metrics)', () => {
  let bucket: FakeBucket;
  const sns = mockClient(SNSClient);
  mockClient(SageMakerClient);
  beforeEach(() => {
    bucket = fakeS3();
    sns.reset();
    sns.on(PublishCommand).resolves({});
    bucket.put('registry/delivery-time/versions/abcdef1-0a0b.json', versionRecord({ status: 'evaluated' }));
  });
  afterEach(() => bucket.mock.restore());

  it('counts the release by model and end state', async () => {
    await recordOutcome({
      workflow: 'release',
      outcome: 'gate-failed',
      state: { model: 'delivery-time', PrepareReleaseResult: { version: 'abcdef1-0a0b' }, EvaluateModelResult: { failures: ['x'] } },
      executionId: EXECUTION_ARN,
      executionName: 'e1',
    });
    const docs = emitted('ReleaseOutcome');
    expect(docs).toHaveLength(1);
    expect(docs[0]).toMatchObject({ model: 'delivery-time', outcome: 'gate-failed', ReleaseOutcome: 1 });
  });
});

describe('Handler: DecideApproval (metrics)', () => {
  let bucket: FakeBucket;
  const sfn = mockClient(SFNClient);
  beforeEach(() => {
    bucket = fakeS3();
    sfn.reset();
    sfn.on(SendTaskSuccessCommand).resolves({});
  });
  afterEach(() => bucket.mock.restore());

  it('records how long the request waited for its decision, once', async () => {
    // Prepare: a request made ten minutes ago
    const requestedAt = new Date(Date.now() - 600_000).toISOString();
    const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
    bucket.put('approvals/delivery-time/e1.json', approvalRecord({ requestedAt, expiresAt, author: null }));
    bucket.put('approval-tokens/delivery-time/e1.json', approvalToken());
    const event = {
      requestContext: { http: { method: 'POST' }, authorizer: { iam: { userArn: 'arn:aws:iam::000000000000:user/alice' } } },
      body: JSON.stringify({ id: 'delivery-time/e1', decision: 'approve' }),
    };

    // Act: decide, then repeat the decision
    expect((await decideHandler(event)).statusCode).toBe(200);
    expect((await decideHandler(event)).statusCode).toBe(200);

    // Assess
    const docs = emitted('ApprovalWaitSeconds');
    expect(docs).toHaveLength(1);
    expect(docs[0]).toMatchObject({ model: 'delivery-time', decision: 'approved' });
    expect(docs[0]!.ApprovalWaitSeconds).toBeGreaterThanOrEqual(600);
    expect(docs[0]!.ApprovalWaitSeconds).toBeLessThan(700);
  });
});
