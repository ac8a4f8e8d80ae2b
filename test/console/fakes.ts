/**
 * Test doubles for the console: an in-memory S3 bucket behind aws-sdk-client-mock (GetObject,
 * PutObject with If-Match / If-None-Match, ListObjectsV2 with Delimiter) so the real
 * DecideApproval function runs unchanged, and a Step Functions mock with one waiting release
 * execution.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import { mockClient, type AwsStub } from 'aws-sdk-client-mock';
import type { ServiceInputTypes, ServiceOutputTypes, S3ClientResolvedConfig } from '@aws-sdk/client-s3';
import type { Target } from '../../lib/console/target';
import type { Decider, DecisionResponse } from '../../lib/console/decision-client';

export const BUCKET = 'mlship-artifacts';
export const SM_ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:mlship-release';
export const EXEC_NAME = 'release-0001';
export const EXEC_ARN = `arn:aws:states:us-east-1:000000000000:execution:mlship-release:${EXEC_NAME}`;
/** Looks like a real task token; the tests assert it never reaches a response. */
export const TASK_TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAfakeTaskToken+SECRET/9f8e7d6c5b4a39281706f5e4d3c2b1a0==';

function s3Error(name: string, status: number, message: string): S3ServiceException {
  return new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: status }, message });
}

export class FakeBucket {
  readonly objects = new Map<string, { body: string; etag: string; lastModified: Date }>();
  /** Key prefixes the caller may not read or list, as under the approver policy. */
  denied: string[] = [];

  private check(key: string): void {
    if (this.denied.some((p) => key.startsWith(p))) throw s3Error('AccessDenied', 403, 'Access Denied');
  }

  put(key: string, value: unknown): void {
    const body = typeof value === 'string' ? value : `${JSON.stringify(value, null, 2)}\n`;
    this.objects.set(key, { body, etag: `"${createHash('md5').update(body).digest('hex')}"`, lastModified: new Date() });
  }

  json(key: string): Record<string, unknown> | undefined {
    const o = this.objects.get(key);
    return o ? (JSON.parse(o.body) as Record<string, unknown>) : undefined;
  }

  install(): AwsStub<ServiceInputTypes, ServiceOutputTypes, S3ClientResolvedConfig> {
    const mock = mockClient(S3Client);
    mock.on(GetObjectCommand).callsFake((input: { Key: string }) => {
      this.check(input.Key);
      const o = this.objects.get(input.Key);
      if (!o) throw new NoSuchKey({ message: `no such key ${input.Key}`, $metadata: { httpStatusCode: 404 } });
      const body = Object.assign(Readable.from([Buffer.from(o.body)]), {
        transformToString: async () => o.body,
        transformToByteArray: async () => new Uint8Array(Buffer.from(o.body)),
      });
      return { Body: body, ETag: o.etag, LastModified: o.lastModified, ContentType: 'application/json' };
    });
    mock.on(HeadObjectCommand).callsFake((input: { Key: string }) => {
      const o = this.objects.get(input.Key);
      if (!o) throw s3Error('NotFound', 404, 'not found');
      return { ETag: o.etag, LastModified: o.lastModified };
    });
    mock.on(PutObjectCommand).callsFake((input: { Key: string; Body: string | Uint8Array; IfMatch?: string; IfNoneMatch?: string }) => {
      const existing = this.objects.get(input.Key);
      if (input.IfNoneMatch === '*' && existing)
        throw s3Error('PreconditionFailed', 412, 'At least one of the pre-conditions you specified did not hold');
      if (input.IfMatch && existing?.etag !== input.IfMatch)
        throw s3Error('PreconditionFailed', 412, 'At least one of the pre-conditions you specified did not hold');
      this.put(input.Key, typeof input.Body === 'string' ? input.Body : Buffer.from(input.Body).toString('utf8'));
      return { ETag: this.objects.get(input.Key)!.etag };
    });
    mock.on(ListObjectsV2Command).callsFake((input: { Prefix?: string; Delimiter?: string }) => {
      const prefix = input.Prefix ?? '';
      this.check(prefix);
      const keys = [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
      if (!input.Delimiter) {
        return {
          Contents: keys.map((Key) => ({ Key, LastModified: this.objects.get(Key)!.lastModified })),
          IsTruncated: false,
          KeyCount: keys.length,
        };
      }
      const prefixes = new Set<string>();
      const contents: { Key: string }[] = [];
      for (const k of keys) {
        const rest = k.slice(prefix.length);
        const i = rest.indexOf(input.Delimiter);
        if (i >= 0) prefixes.add(prefix + rest.slice(0, i + 1));
        else contents.push({ Key: k });
      }
      return { Contents: contents, CommonPrefixes: [...prefixes].map((Prefix) => ({ Prefix })), IsTruncated: false };
    });
    return mock;
  }
}

/** A small release definition with the approval state, like statemachines/release.asl.json. */
export const DEFINITION = JSON.stringify({
  StartAt: 'PrepareRelease',
  States: {
    PrepareRelease: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Next: 'EvaluateModel' },
    EvaluateModel: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Next: 'RequestApproval',
      Catch: [{ ErrorEquals: ['States.ALL'], Next: 'ReleaseFailed' }],
    },
    RequestApproval: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      Next: 'PromoteVersion',
      Catch: [{ ErrorEquals: ['ApprovalRejectedError'], Next: 'ApprovalRejected' }],
    },
    PromoteVersion: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Next: 'ReleaseSucceeded' },
    ReleaseSucceeded: { Type: 'Succeed' },
    ApprovalRejected: { Type: 'Fail', Error: 'ApprovalRejected' },
    ReleaseFailed: { Type: 'Fail', Error: 'ReleaseFailed' },
  },
});

const t = (s: number) => new Date(Date.UTC(2026, 10, 27, 1, 0, s));

/** History of an execution waiting in RequestApproval; the token appears where AWS puts it. */
export function waitingHistory(): HistoryEvent[] {
  const input = JSON.stringify({ model: 'delivery-time', commitId: 'abc1234', trigger: 'push' });
  const prepared = JSON.stringify({ model: 'delivery-time', PrepareReleaseResult: { version: 'abc1234-0001' } });
  return [
    { id: 1, type: 'ExecutionStarted', timestamp: t(0), executionStartedEventDetails: { input } },
    { id: 2, type: 'TaskStateEntered', timestamp: t(1), stateEnteredEventDetails: { name: 'PrepareRelease', input } },
    { id: 3, type: 'TaskStateExited', timestamp: t(2), stateExitedEventDetails: { name: 'PrepareRelease', output: prepared } },
    { id: 4, type: 'TaskStateEntered', timestamp: t(3), stateEnteredEventDetails: { name: 'EvaluateModel', input: prepared } },
    { id: 5, type: 'TaskStateExited', timestamp: t(9), stateExitedEventDetails: { name: 'EvaluateModel', output: prepared } },
    { id: 6, type: 'TaskStateEntered', timestamp: t(10), stateEnteredEventDetails: { name: 'RequestApproval', input: prepared } },
    {
      id: 7,
      type: 'TaskScheduled',
      timestamp: t(10),
      taskScheduledEventDetails: {
        resourceType: 'lambda',
        resource: 'invoke.waitForTaskToken',
        region: 'us-east-1',
        parameters: JSON.stringify({ FunctionName: 'fn', Payload: { model: 'delivery-time', taskToken: TASK_TOKEN } }),
      },
    },
    {
      id: 8,
      type: 'TaskSubmitted',
      timestamp: t(11),
      taskSubmittedEventDetails: {
        resourceType: 'lambda',
        resource: 'invoke.waitForTaskToken',
        output: JSON.stringify({ echoed: TASK_TOKEN }),
      },
    },
  ];
}

export function installSfn(opts: { status?: () => string } = {}) {
  const mock = mockClient(SFNClient);
  const status = opts.status ?? (() => 'RUNNING');
  mock
    .on(ListExecutionsCommand)
    .resolves({ executions: [{ executionArn: EXEC_ARN, stateMachineArn: SM_ARN, name: EXEC_NAME, status: 'RUNNING', startDate: t(0) }] });
  mock.on(DescribeExecutionCommand).callsFake(() => ({
    executionArn: EXEC_ARN,
    stateMachineArn: SM_ARN,
    name: EXEC_NAME,
    status: status(),
    startDate: t(0),
    input: JSON.stringify({ model: 'delivery-time', commitId: 'abc1234', trigger: 'push' }),
  }));
  mock.on(DescribeStateMachineCommand).resolves({
    stateMachineArn: SM_ARN,
    name: 'mlship-release',
    definition: DEFINITION,
    roleArn: 'arn:aws:iam::000000000000:role/r',
    type: 'STANDARD',
    creationDate: t(0),
  });
  mock.on(GetExecutionHistoryCommand).callsFake((input: { reverseOrder?: boolean }) => {
    const events = waitingHistory();
    return { events: input.reverseOrder ? events.reverse() : events };
  });
  mock.on(SendTaskSuccessCommand).resolves({});
  mock.on(SendTaskFailureCommand).resolves({});
  return mock;
}

/**
 * The real DecideApproval handler on the mocked clients, called as its function URL is: the
 * approver's name as the signer identity.
 */
export function decisionFunction(): Decider {
  const deps = {
    s3: new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }),
    sfn: new SFNClient({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }),
    bucket: BUCKET,
  };
  return async ({ by, ...request }) => {
    // Imported here: the module builds its Lambda handler from the task environment at import.
    process.env.ARTIFACT_BUCKET ??= BUCKET;
    // Its log lines would land in the CLI's captured stdout.
    process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
    const { makeHandler } = await import('../../lambdas/decide-approval/handler');
    const out = await makeHandler(deps)({
      requestContext: { http: { method: 'POST' }, authorizer: { iam: { userArn: by ?? '' } } },
      body: JSON.stringify(request),
    });
    const body = JSON.parse(out.body) as DecisionResponse;
    return { ...body, ok: out.statusCode === 200 && body.ok, status: out.statusCode };
  };
}

/** A `fetch` that answers the local cloud's decision route with {@link decisionFunction} (for the CLI, which posts to it). */
export function decisionRouteFetch(): typeof fetch {
  const decide = decisionFunction();
  return (async (url: string | URL, init?: RequestInit) => {
    if (!String(url).endsWith('/_mlship/decide-approval')) throw new Error(`unexpected fetch ${String(url)}`);
    const headers = new Headers(init?.headers);
    const res = await decide({
      ...(JSON.parse(String(init?.body)) as { id: string; decision: 'approve' | 'reject' }),
      by: headers.get('x-mlship-approver') ?? '',
    });
    const { status, ...body } = res;
    return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  }) as typeof fetch;
}

export function fakeTarget(approverName = 'alice'): Target {
  return {
    kind: 'local',
    s3: new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }),
    sfn: new SFNClient({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }),
    bucket: BUCKET,
    label: 'test bucket',
    releaseStateMachineArn: async () => SM_ARN,
    approver: async (explicit) => explicit ?? approverName,
    decider: decisionFunction(),
  };
}

/** A pending approval record as RequestApproval writes it (its task token is stored apart: see seedPending). */
export function pendingRecord(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Date.now();
  return {
    id: `delivery-time/${EXEC_NAME}`,
    model: 'delivery-time',
    version: 'abc1234-0001',
    executionArn: EXEC_ARN,
    requestedAt: new Date(now - 60_000).toISOString(),
    expiresAt: new Date(now + 7 * 86_400_000).toISOString(),
    reportLinks: {
      html: `s3://${BUCKET}/reports/delivery-time/abc1234-0001/quality-report.html`,
      json: `s3://${BUCKET}/reports/delivery-time/abc1234-0001/quality-report.json`,
      validation: `s3://${BUCKET}/reports/delivery-time/abc1234-0001/validation.json`,
      loadTest: `s3://${BUCKET}/reports/delivery-time/abc1234-0001/load-test.json`,
    },
    summary: { metrics: { rmse: 1.2345, mae: 0.9 }, validationOk: true, loadTestOk: true },
    status: 'pending',
    ...overrides,
  };
}

export const VALIDATION = {
  validation_ok: true,
  comparedWithProduction: true,
  failures: [],
  checks: [
    { metric: 'rmse', kind: 'bound', ok: true, value: 1.2345, bound: 3, baseline: null, message: 'rmse = 1.2345 meets the bound <= 3' },
    {
      metric: 'rmse',
      kind: 'no-regression',
      ok: true,
      value: 1.2345,
      bound: 1.35,
      baseline: 1.3,
      message: 'rmse = 1.2345 vs production 1.3',
    },
  ],
  notes: [],
};

/** Seed the bucket with a pending request and its reports. */
export function seedPending(bucket: FakeBucket, overrides: Record<string, unknown> = {}): void {
  bucket.put(`approvals/delivery-time/${EXEC_NAME}.json`, pendingRecord(overrides));
  bucket.put(`approval-tokens/delivery-time/${EXEC_NAME}.json`, {
    id: `delivery-time/${EXEC_NAME}`,
    executionArn: EXEC_ARN,
    taskToken: TASK_TOKEN,
    issuedAt: new Date().toISOString(),
  });
  bucket.put('reports/delivery-time/abc1234-0001/validation.json', VALIDATION);
  bucket.put('reports/delivery-time/abc1234-0001/quality-report.json', {
    model: 'delivery-time',
    version: 'abc1234-0001',
    task: 'regression',
    generatedAt: '2026-11-27T01:00:09Z',
    validation: VALIDATION,
    evaluation: {
      task: 'regression',
      n: 200,
      metrics: { rmse: 1.2345, mae: 0.9 },
      std: { rmse: 0.05, mae: 0.04 },
      dummy: { rmse: 4.5, mae: 3.8 },
      details: { residualHistogram: { edges: [-2, -1, 0, 1, 2], counts: [5, 40, 45, 10] } },
      bootstrap: { resamples: 200, seed: 42 },
      warnings: [],
    },
    production: { version: 'fff0000-0000', metrics: { rmse: 1.3, mae: 1.0 } },
    lineage: { commit: 'abc1234def', dataDigests: { 'data/train.csv': 'sha256:00ff' }, trigger: 'push', executionArn: EXEC_ARN },
  });
  bucket.put('reports/delivery-time/abc1234-0001/load-test.json', {
    ok: true,
    rps: 20,
    requests: 600,
    errorRate: 0,
    p50Ms: 3,
    p95Ms: 7,
    p99Ms: 11,
  });
  bucket.put(
    'reports/delivery-time/abc1234-0001/quality-report.html',
    '<!doctype html><html><body><h1>Quality report</h1><script>alert(1)</script></body></html>',
  );
}
