import { DeleteEndpointCommand, DeleteEndpointConfigCommand, DeleteModelCommand } from '@aws-sdk/client-sagemaker';
import { DescribeStateMachineCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeHandler } from '../../lib/infra/teardown/handler';
import { createSageMakerClient, createSfnClient } from '../../lambdas/shared/clients';
import { fakeSageMaker, type FakeSageMaker } from '../unit/lambdas/fake-sagemaker';
import { synthesize, type Synthesized } from './helpers';

type Resources = Record<string, { Type: string; Properties: Record<string, any>; DependsOn?: string[] }>;

const RELEASE_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:mlship-release';
const properties = {
  ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:provider',
  SageMakerPrefix: 'mlship-',
  ReleaseStateMachineArn: RELEASE_ARN,
};
const base = {
  ServiceToken: properties.ServiceToken,
  ResponseURL: 'https://example.invalid',
  StackId: 'stack',
  RequestId: 'r',
  LogicalResourceId: 'Teardown',
  ResourceType: 'Custom::MlshipSageMakerTeardown',
  ResourceProperties: properties,
};
const deleteEvent = { ...base, RequestType: 'Delete' as const, PhysicalResourceId: 'mlship-sagemaker-teardown' };
const minutes = (n: number) => ({ getRemainingTimeInMillis: () => n * 60_000 });

describe('Handler: SageMaker teardown (onEvent)', () => {
  let sm: FakeSageMaker;
  const sfn = mockClient(SFNClient);
  let clock = 0;
  const handler = () =>
    makeHandler({
      sagemaker: createSageMakerClient({ region: 'us-east-1' }),
      sfn: createSfnClient({ region: 'us-east-1' }),
      now: () => clock,
      sleep: async (ms) => void (clock += ms),
    });

  beforeEach(() => {
    clock = 0;
    sm = fakeSageMaker({ pageSize: 2, deletingLists: 3 });
    sfn.reset();
    sfn
      .on(DescribeStateMachineCommand)
      .rejects(Object.assign(new Error('State Machine Does Not Exist'), { name: 'StateMachineDoesNotExist' }));
    for (const m of ['delivery-time', 'ticket-triage']) {
      sm.models.add(`mlship-${m}-1111111-aaaa`);
      sm.configs.set(`mlship-${m}-1111111-aaaa-p`, [`mlship-${m}-1111111-aaaa`]);
      sm.configs.set(`mlship-${m}-1111111-aaaa-s`, [`mlship-${m}-1111111-aaaa`]);
      sm.endpoints.set(`mlship-${m}-production`, { config: `mlship-${m}-1111111-aaaa-p`, status: 'InService' });
      sm.endpoints.set(`mlship-${m}-staging`, { config: `mlship-${m}-1111111-aaaa-s`, status: 'InService' });
    }
    // Not the app's: another team's, one whose name only contains the prefix.
    sm.models.add('fraud-model');
    sm.configs.set('team-mlship-config', ['fraud-model']);
    sm.endpoints.set('team-mlship-endpoint', { config: 'team-mlship-config', status: 'InService' });
  });
  afterEach(() => sm.mock.restore());

  it.each(['Create', 'Update'] as const)('does nothing on %s and keeps one physical id', async (RequestType) => {
    // Act
    const event =
      RequestType === 'Create'
        ? { ...base, RequestType }
        : { ...base, RequestType, PhysicalResourceId: 'mlship-sagemaker-teardown', OldResourceProperties: properties };
    const out = await handler()(event, minutes(15));
    // Assess
    expect(out).toEqual({ PhysicalResourceId: 'mlship-sagemaker-teardown' });
    expect(sm.mock.calls()).toHaveLength(0);
    expect(sfn.calls()).toHaveLength(0);
  });

  it("on Delete removes every page of the app's endpoints, configs and models, waiting for the endpoints first, and nothing else", async () => {
    // Act
    const out = await handler()(deleteEvent, minutes(15));

    // Assess
    expect(out).toEqual({ PhysicalResourceId: 'mlship-sagemaker-teardown' });
    expect([...sm.endpoints.keys()]).toEqual(['team-mlship-endpoint']);
    expect([...sm.configs.keys()]).toEqual(['team-mlship-config']);
    expect([...sm.models]).toEqual(['fraud-model']);
    expect(sm.mock.commandCalls(DeleteEndpointCommand)).toHaveLength(4);
    // The configs went only once the endpoints were gone (three more listings while deleting).
    expect(clock).toBe(3 * 15_000);
    const order = sm.mock.calls().map((c) => c.args[0].constructor.name);
    expect(order.lastIndexOf('DeleteEndpointCommand')).toBeLessThan(order.indexOf('DeleteEndpointConfigCommand'));
    expect(order.lastIndexOf('DeleteEndpointConfigCommand')).toBeLessThan(order.indexOf('DeleteModelCommand'));
  });

  it('stops waiting before the Lambda times out and still deletes configs and models, without failing the stack deletion', async () => {
    // Prepare: endpoints that take far longer to delete than the invocation has left
    sm = (sm.mock.restore(), fakeSageMaker({ deletingLists: 1000 }));
    sm.models.add('mlship-a-1111111-aaaa');
    sm.configs.set('mlship-a-1111111-aaaa-p', ['mlship-a-1111111-aaaa']);
    sm.endpoints.set('mlship-a-production', { config: 'mlship-a-1111111-aaaa-p', status: 'InService' });

    // Act
    const out = await handler()(deleteEvent, minutes(3));

    // Assess: 3 min minus the 90 s margin
    expect(out).toEqual({ PhysicalResourceId: 'mlship-sagemaker-teardown' });
    expect(clock).toBeLessThanOrEqual(90_000);
    expect(sm.endpoints.get('mlship-a-production')?.status).toBe('Deleting');
    expect(sm.configs.size + sm.models.size).toBe(0);
  });

  it('deletes nothing on a Delete during a rollback or an update cleanup (the release machine is still active)', async () => {
    // Prepare
    sfn.on(DescribeStateMachineCommand).resolves({ status: 'ACTIVE' } as never);
    // Act
    await handler()(deleteEvent, minutes(15));
    // Assess
    expect(sfn).toHaveReceivedCommandWith(DescribeStateMachineCommand, { stateMachineArn: RELEASE_ARN });
    expect(sm.mock.commandCalls(DeleteEndpointCommand)).toHaveLength(0);
    expect(sm.mock.commandCalls(DeleteEndpointConfigCommand)).toHaveLength(0);
    expect(sm.mock.commandCalls(DeleteModelCommand)).toHaveLength(0);
    expect(sm.endpoints.size).toBe(5);
  });

  it('deletes nothing and does not throw on a Delete whose prefix is empty, and refuses such a resource on Create', async () => {
    const props = { ...properties, SageMakerPrefix: '' };
    await expect(handler()({ ...deleteEvent, ResourceProperties: props }, minutes(15))).resolves.toEqual({
      PhysicalResourceId: 'mlship-sagemaker-teardown',
    });
    expect(sm.mock.calls()).toHaveLength(0);
    await expect(handler()({ ...base, RequestType: 'Create', ResourceProperties: props }, minutes(15))).rejects.toThrow(/SageMakerPrefix/);
  });

  it('goes on past a delete SageMaker refuses and does not throw', async () => {
    sm.mock
      .on(DeleteEndpointCommand, { EndpointName: 'mlship-delivery-time-staging' })
      .rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));
    await expect(handler()(deleteEvent, minutes(15))).resolves.toEqual({ PhysicalResourceId: 'mlship-sagemaker-teardown' });
    expect(sm.endpoints.has('mlship-ticket-triage-production')).toBe(false);
  });
});

describe('Class: SageMakerTeardown (in PlatformStack)', () => {
  let s: Synthesized;
  let resources: Resources;
  beforeAll(() => {
    s = synthesize();
    resources = s.platformTemplate.toJSON().Resources;
  });
  const teardownId = () => Object.entries(resources).find(([, r]) => r.Type === 'Custom::MlshipSageMakerTeardown')![0];

  it('is one custom resource with the platform prefix and the release machine, which depends on it (deleted first)', () => {
    const [id, ...more] = Object.entries(resources)
      .filter(([, r]) => r.Type === 'Custom::MlshipSageMakerTeardown')
      .map(([i]) => i);
    expect(more).toEqual([]);
    expect(resources[id!]!.Properties).toMatchObject({
      SageMakerPrefix: 'mlship-',
      ReleaseStateMachineArn: { 'Fn::Join': expect.anything() },
    });
    expect(JSON.stringify(resources[id!]!.Properties.ReleaseStateMachineArn)).toContain('stateMachine:mlship-release');
    const release = Object.entries(resources).find(
      ([, r]) => r.Type === 'AWS::StepFunctions::StateMachine' && r.Properties.StateMachineName === 'mlship-release',
    )!;
    expect(release[1].DependsOn).toContain(teardownId());
  });

  it('runs its handler for up to 15 minutes and grants only deletes on mlship-* resources, the lists SageMaker cannot scope, and the machine check', () => {
    const fn = Object.entries(resources).find(
      ([, r]) => r.Type === 'AWS::Lambda::Function' && r.Properties.Description?.startsWith('On stack deletion'),
    )!;
    expect(fn[1].Properties).toMatchObject({ Timeout: 900, Runtime: 'nodejs22.x' });
    const roleId = fn[1].Properties.Role['Fn::GetAtt'][0];
    const statements = Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy' && r.Properties.Roles.some((x: { Ref: string }) => x.Ref === roleId))
      .flatMap((r) => r.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]);
    const actions = statements
      .flatMap((st) => [st.Action].flat())
      .filter((a) => !a.startsWith('logs:') && !a.startsWith('xray:'))
      .sort();
    expect(actions).toEqual(
      [
        'sagemaker:DeleteEndpoint',
        'sagemaker:DeleteEndpointConfig',
        'sagemaker:DeleteModel',
        'sagemaker:ListEndpointConfigs',
        'sagemaker:ListEndpoints',
        'sagemaker:ListModels',
        'states:DescribeStateMachine',
      ].sort(),
    );
    const deletes = statements.find((st) => [st.Action].flat().includes('sagemaker:DeleteModel'))!;
    const scoped = JSON.stringify(deletes.Resource);
    for (const kind of ['endpoint', 'endpoint-config', 'model']) expect(scoped).toContain(`:${kind}/mlship-*`);
  });
});
