import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startConsole, type RunningConsole } from '../../lib/console';
import { resolveTarget, TargetOptionsError } from '../../lib/console/target';
import { synthesize } from '../infra/helpers';
import { BUCKET, EXEC_ARN, EXEC_NAME, FakeBucket, installSfn, SM_ARN, seedPending } from './fakes';

/**
 * `mlship console --aws` against the approver policy the stack creates: every AWS call the
 * console makes on every page (recorded by the SDK mocks, and the function URL call by the
 * fetch stub) must be allowed by the synthesized policy's statements, action and resource.
 */

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const DECIDE_URL = 'https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws/';
const DECIDE_FUNCTION_ARN = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:mlship-decide-approval`;
const ID = `delivery-time/${EXEC_NAME}`;

interface Statement {
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, string | string[]>>;
}

/** One AWS authorization the console needed: an IAM action on a resource, with the request's condition values. */
interface Needed {
  call: string;
  action: string;
  resource: string;
  context?: Record<string, string>;
}

/** The synthesized value of a policy resource, with the deployment's values for its references. */
function render(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, unknown>;
  if (v['Fn::Join']) {
    const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map(render).join(sep);
  }
  const refs: Record<string, string> = { 'AWS::Partition': 'aws', 'AWS::Region': REGION, 'AWS::AccountId': ACCOUNT };
  if (typeof v.Ref === 'string' && refs[v.Ref]) return refs[v.Ref]!;
  if (typeof v['Fn::ImportValue'] === 'string' && v['Fn::ImportValue'].endsWith('-artifactBucketArn')) return `arn:aws:s3:::${BUCKET}`;
  if (typeof v['Fn::ImportValue'] === 'string' && v['Fn::ImportValue'].endsWith('-keyArn')) return `arn:aws:kms:${REGION}:${ACCOUNT}:key/k`;
  const att = v['Fn::GetAtt'] as [string, string] | undefined;
  if (att?.[0].startsWith('TasksDecideApprovalFunction') && att[1] === 'Arn') return DECIDE_FUNCTION_ARN;
  throw new Error(`no deployment value for ${JSON.stringify(value)}`);
}

/** IAM's string globbing: `*` any run of characters, `?` one. */
const glob = (pattern: string, text: string) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  ).test(text);

function allows(statement: Statement, need: Needed): boolean {
  if (![statement.Action].flat().includes(need.action)) return false;
  if (
    ![statement.Resource]
      .flat()
      .map(render)
      .some((r) => glob(r, need.resource))
  )
    return false;
  for (const [operator, keys] of Object.entries(statement.Condition ?? {})) {
    for (const [key, expected] of Object.entries(keys)) {
      const actual = need.context?.[key];
      if (actual === undefined) return false;
      const values = [expected].flat();
      if (operator === 'StringLike' && !values.some((p) => glob(p, actual))) return false;
      if ((operator === 'StringEquals' || operator === 'Bool') && !values.includes(actual)) return false;
    }
  }
  return true;
}

/** The IAM authorization each SDK call needs (Service Authorization Reference), written out for the calls the console makes. */
function neededFor(
  service: 's3' | 'states' | 'sts' | 'cloudwatch',
  command: { constructor: { name: string }; input: Record<string, string | undefined> },
): Needed | null {
  const call = command.constructor.name.replace(/Command$/, '');
  const input = command.input;
  if (service === 'sts' && call === 'GetCallerIdentity') return null; // needs no permission
  if (service === 's3' && (call === 'GetObject' || call === 'HeadObject'))
    return { call, action: 's3:GetObject', resource: `arn:aws:s3:::${input.Bucket}/${input.Key}` };
  if (service === 's3' && call === 'ListObjectsV2')
    return { call, action: 's3:ListBucket', resource: `arn:aws:s3:::${input.Bucket}`, context: { 's3:prefix': input.Prefix ?? '' } };
  // GetMetricData has no resource-level permission: IAM authorizes it on "*" only.
  if (service === 'cloudwatch' && call === 'GetMetricData') return { call, action: 'cloudwatch:GetMetricData', resource: '*' };
  if (service === 'states') return { call, action: `states:${call}`, resource: input.executionArn ?? input.stateMachineArn ?? '*' };
  throw new Error(`${service}:${call}: add the IAM action this call needs`);
}

describe('Command: mlship console --aws', () => {
  let statements: Statement[];
  let bucket: FakeBucket;
  let s3mock: ReturnType<FakeBucket['install']>;
  let sfnmock: ReturnType<typeof installSfn>;
  const sts = mockClient(STSClient);
  const cloudwatch = mockClient(CloudWatchClient);
  const functionUrlCalls: string[] = [];
  let console_: RunningConsole;

  beforeAll(async () => {
    // Prepare: the approver policy as synthesized, and a deployment with one pending approval
    const policies = Object.values(
      synthesize().platformTemplate.toJSON().Resources as Record<string, { Type: string; Properties: any }>,
    ).filter((r) => r.Type === 'AWS::IAM::ManagedPolicy' && /approve or reject releases/.test(r.Properties.Description));
    expect(policies).toHaveLength(1);
    statements = policies[0]!.Properties.PolicyDocument.Statement as Statement[];
    bucket = new FakeBucket();
    s3mock = bucket.install();
    sfnmock = installSfn();
    seedPending(bucket);
    bucket.put('registry/delivery-time/production.json', {
      model: 'delivery-time',
      version: 'fff0000-0000',
      since: '2026-11-20T00:00:00Z',
      executionArn: EXEC_ARN,
      endpointName: 'e',
      previous: null,
    });
    bucket.put('registry/delivery-time/versions/fff0000-0000.json', {
      model: 'delivery-time',
      version: 'fff0000-0000',
      status: 'production',
      commitId: 'fff0000',
      createdAt: '2026-11-20T00:00:00Z',
      deployments: [],
    });
    bucket.put('monitoring/delivery-time/2026-11-27T00-00-00Z/drift-report.json', {
      model: 'delivery-time',
      run: '2026-11-27T00-00-00Z',
      generatedAt: '2026-11-27T00:00:00Z',
      verdict: 'no-drift',
      reason: 'ok',
    });
    cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
    sts
      .on(GetCallerIdentityCommand)
      .resolves({ Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/Approver/alice`, Account: ACCOUNT, UserId: 'AROA:alice' });
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDEXAMPLE');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret');
    // The function URL answers as DecideApproval does; the console's own requests pass through.
    const realFetch = globalThis.fetch;
    vi.stubGlobal('fetch', async (url: string | URL, init?: RequestInit) => {
      if (!String(url).startsWith(DECIDE_URL)) return realFetch(url, init);
      functionUrlCalls.push(String(url));
      return new Response(JSON.stringify({ ok: true, repeated: false, approval: { id: ID, status: 'approved' } }), {
        status: 200,
        headers: { 'content-type': 'application/json' },
      });
    });
    const target = resolveTarget({ aws: true, region: REGION, bucket: BUCKET, stateMachineArn: SM_ARN, decideUrl: DECIDE_URL }, {});
    console_ = await startConsole({ target, port: 0, onLeak: () => undefined });
  }, 120_000);

  afterAll(async () => {
    await console_?.close();
    s3mock?.restore();
    sfnmock?.restore();
    sts.restore();
    cloudwatch.restore();
    vi.unstubAllGlobals();
    vi.unstubAllEnvs();
  });

  it('makes only calls the approver policy allows, on every page and for a decision', async () => {
    // Act: every page and API the console serves, then a decision
    const get = (path: string) =>
      fetch(`${console_.origin}${path}`, { headers: { authorization: `Bearer ${console_.token}` }, redirect: 'manual' });
    const arn = encodeURIComponent(EXEC_ARN);
    const paths = [
      '/',
      '/approvals',
      `/approvals/${ID}`,
      '/releases',
      `/releases?arn=${arn}`,
      `/releases/log?arn=${arn}&state=RequestApproval`,
      '/models/delivery-time',
      '/models/delivery-time/drift/2026-11-27T00-00-00Z',
      '/notifications',
      '/artifacts/reports/delivery-time/abc1234-0001/validation.json',
      '/api/approvals',
      `/api/approvals/${ID}`,
      `/api/watch?arn=${arn}`,
      '/api/models',
      '/api/notifications',
    ];
    const statuses = Object.fromEntries(await Promise.all(paths.map(async (p) => [p, (await get(p)).status] as const)));
    const decided = await fetch(`${console_.origin}/api/approvals/${ID}/decision`, {
      method: 'POST',
      headers: { authorization: `Bearer ${console_.token}`, 'content-type': 'application/json', origin: console_.origin },
      body: JSON.stringify({ decision: 'approve', comment: 'ok' }),
    });

    // Assess: the pages answered, and every call they made is allowed
    // (the release log page has no log to show for an approval wait: 404 after reading the history)
    for (const [path, status] of Object.entries(statuses)) expect(status, path).toBe(path.startsWith('/releases/log') ? 404 : 200);
    expect(decided.status, await decided.clone().text()).toBe(200);
    const needed: Needed[] = [
      ...s3mock.calls().map((c) => neededFor('s3', c.args[0] as never)),
      ...sfnmock.calls().map((c) => neededFor('states', c.args[0] as never)),
      ...sts.calls().map((c) => neededFor('sts', c.args[0] as never)),
      ...cloudwatch.calls().map((c) => neededFor('cloudwatch', c.args[0] as never)),
      ...functionUrlCalls.flatMap((): Needed[] => [
        {
          call: 'function URL',
          action: 'lambda:InvokeFunctionUrl',
          resource: DECIDE_FUNCTION_ARN,
          context: { 'lambda:FunctionUrlAuthType': 'AWS_IAM' },
        },
        {
          call: 'function URL',
          action: 'lambda:InvokeFunction',
          resource: DECIDE_FUNCTION_ARN,
          context: { 'lambda:InvokedViaFunctionUrl': 'true' },
        },
      ]),
    ].filter((n): n is Needed => n !== null);
    const calls = new Set(needed.map((n) => n.call));
    for (const call of [
      'GetObject',
      'ListObjectsV2',
      'ListExecutions',
      'DescribeExecution',
      'GetExecutionHistory',
      'DescribeStateMachine',
      'GetMetricData',
      'function URL',
    ])
      expect(calls, call).toContain(call);
    const refused = needed.filter((n) => !statements.some((st) => allows(st, n)));
    expect(refused).toEqual([]);
  });

  it('grants cloudwatch:GetMetricData by name on Resource "*" (its only scope), and no other CloudWatch action', () => {
    // Assess
    const cloudWatchStatements = statements.filter((st) => [st.Action].flat().some((a) => a.startsWith('cloudwatch:')));
    expect(cloudWatchStatements).toHaveLength(1);
    expect(cloudWatchStatements[0]).toMatchObject({ Action: 'cloudwatch:GetMetricData', Resource: '*' });
  });

  it('needs the release state machine ARN from the stack output instead of listing state machines, which the policy does not allow', async () => {
    // Act
    const target = resolveTarget({ aws: true, region: REGION, bucket: BUCKET, decideUrl: DECIDE_URL }, {});
    const started = startConsole({ target, port: 0 });

    // Assess
    await expect(started).rejects.toThrow(TargetOptionsError);
    await expect(started).rejects.toThrow(/--state-machine .*ReleaseStateMachineArn/);
    expect(sfnmock.calls().map((c) => (c.args[0] as object).constructor.name)).not.toContain('ListStateMachinesCommand');
    expect(statements.flatMap((st) => [st.Action].flat())).not.toContain('states:ListStateMachines');
  });
});
