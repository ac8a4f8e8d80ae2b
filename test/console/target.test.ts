import { ListStateMachinesCommand, SFNClient } from '@aws-sdk/client-sfn';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveTarget, TargetOptionsError } from '../../lib/console/target';

describe('Function: resolveTarget', () => {
  const sts = mockClient(STSClient);
  const sfn = mockClient(SFNClient);
  afterEach(() => {
    sts.reset();
    sfn.reset();
  });

  it('on AWS records decisions under the caller identity ARN and refuses a typed name', async () => {
    // Prepare
    sts
      .on(GetCallerIdentityCommand)
      .resolves({ Arn: 'arn:aws:sts::123456789012:assumed-role/Approver/alice', Account: '123456789012', UserId: 'AROA:alice' });
    const target = resolveTarget({ aws: true, region: 'eu-west-1', bucket: 'stack-artifacts' }, {});
    // Act
    const who = await target.approver();
    // Assess
    expect(target.kind).toBe('aws');
    expect(target.bucket).toBe('stack-artifacts');
    expect(who).toBe('arn:aws:sts::123456789012:assumed-role/Approver/alice');
    await expect(target.approver('mallory')).rejects.toThrow(TargetOptionsError);
  });

  it('on AWS needs the bucket, and refuses --aws with --endpoint and --profile without --aws', () => {
    // Act + Assess
    expect(() => resolveTarget({ aws: true }, {})).toThrow(/--bucket/);
    expect(() => resolveTarget({ aws: true, bucket: 'b', endpoint: 'http://x' }, {})).toThrow(TargetOptionsError);
    expect(() => resolveTarget({ profile: 'p' }, {})).toThrow(/--profile only applies with --aws/);
    expect(() => resolveTarget({ endpoint: 'not a url' }, {})).toThrow(/is not a URL/);
  });

  it('locally uses the given name, then MLSHIP_APPROVER, and finds the release state machine by name', async () => {
    // Prepare
    sfn.on(ListStateMachinesCommand).resolves({
      stateMachines: [
        {
          name: 'mlship-drift-check',
          stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:mlship-drift-check',
          type: 'STANDARD',
          creationDate: new Date(),
        },
        {
          name: 'mlship-release',
          stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:mlship-release',
          type: 'STANDARD',
          creationDate: new Date(),
        },
      ],
    });
    const target = resolveTarget({ endpoint: 'http://127.0.0.1:4566' }, { MLSHIP_APPROVER: 'env-approver' });
    // Act + Assess
    expect(target.bucket).toBe('mlship-artifacts');
    expect(await target.approver('bob')).toBe('bob');
    expect(await target.approver()).toBe('env-approver');
    expect(await target.releaseStateMachineArn()).toBe('arn:aws:states:us-east-1:000000000000:stateMachine:mlship-release');
  });
});
