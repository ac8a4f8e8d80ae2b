import {
  CreateModelPackageCommand,
  CreateModelPackageGroupCommand,
  DescribeModelPackageCommand,
  DescribeModelPackageGroupCommand,
  ListModelPackagesCommand,
  SageMakerClient,
  UpdateModelPackageCommand,
} from '@aws-sdk/client-sagemaker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientConfig, startTestCloud, type TestCloud } from '../helpers';

/**
 * The local SageMaker Model Registry through the SDK, as the tasks and Studio-like clients
 * use it: numbering, idempotency, filters, errors as SageMaker words them, and durability.
 */

let t: TestCloud;
let sm: SageMakerClient;
const GROUP = 'mlship-registry-test';
const container = { Image: '000000000000.dkr.ecr.us-east-1.amazonaws.com/mlship/x:abc-1' };

beforeAll(async () => {
  t = await startTestCloud();
  sm = new SageMakerClient(clientConfig(t.cloud.endpoint));
});
afterAll(async () => {
  sm?.destroy();
  await t?.close();
});

const create = (token: string, status?: 'Approved' | 'Rejected' | 'PendingManualApproval') =>
  sm.send(
    new CreateModelPackageCommand({
      ModelPackageGroupName: GROUP,
      ClientToken: token,
      ModelApprovalStatus: status,
      InferenceSpecification: {
        Containers: [container],
        SupportedContentTypes: ['application/json'],
        SupportedResponseMIMETypes: ['application/json'],
      },
      CustomerMetadataProperties: { 'mlship:version': token },
    }),
  );

describe('Local SageMaker: Model Registry', () => {
  it('creates a group once, then refuses to create it again as SageMaker does', async () => {
    const { ModelPackageGroupArn } = await sm.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: GROUP }));
    expect(ModelPackageGroupArn).toBe(`arn:aws:sagemaker:us-east-1:000000000000:model-package-group/${GROUP}`);
    await expect(sm.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: GROUP }))).rejects.toMatchObject({
      name: 'ValidationException',
      message: expect.stringContaining('already exists'),
    });
    expect(await sm.send(new DescribeModelPackageGroupCommand({ ModelPackageGroupName: ModelPackageGroupArn }))).toMatchObject({
      ModelPackageGroupName: GROUP,
      ModelPackageGroupStatus: 'Completed',
    });
  });

  it('numbers packages per group, pending by default, and returns the same package for a repeated client token', async () => {
    const first = await create('v1');
    const again = await create('v1', 'Approved');
    const second = await create('v2', 'Rejected');
    expect(first.ModelPackageArn).toBe(`arn:aws:sagemaker:us-east-1:000000000000:model-package/${GROUP}/1`);
    expect(again.ModelPackageArn).toBe(first.ModelPackageArn);
    expect(second.ModelPackageArn).toMatch(/\/2$/);
    expect(await sm.send(new DescribeModelPackageCommand({ ModelPackageName: first.ModelPackageArn }))).toMatchObject({
      ModelPackageGroupName: GROUP,
      ModelPackageVersion: 1,
      ModelApprovalStatus: 'PendingManualApproval',
      ModelPackageStatus: 'Completed',
      InferenceSpecification: { Containers: [container] },
    });
  });

  it('moves the approval status and merges customer metadata; refuses a field it does not apply, by name', async () => {
    const arn = `arn:aws:sagemaker:us-east-1:000000000000:model-package/${GROUP}/1`;
    await sm.send(
      new UpdateModelPackageCommand({
        ModelPackageArn: arn,
        ModelApprovalStatus: 'Approved',
        ApprovalDescription: 'approved by alice',
        CustomerMetadataProperties: { 'mlship:lastDriftVerdict': 'no-drift' },
      }),
    );
    expect(await sm.send(new DescribeModelPackageCommand({ ModelPackageName: `${GROUP}/1` }))).toMatchObject({
      ModelApprovalStatus: 'Approved',
      ApprovalDescription: 'approved by alice',
      CustomerMetadataProperties: { 'mlship:version': 'v1', 'mlship:lastDriftVerdict': 'no-drift' },
    });
    await expect(sm.send(new UpdateModelPackageCommand({ ModelPackageArn: arn, SourceUri: 's3://b/k' }))).rejects.toMatchObject({
      name: 'ValidationException',
      message: expect.stringContaining('SourceUri'),
    });
  });

  it('refuses what SageMaker refuses: an unknown group, an unknown package, a status outside the enum', async () => {
    await expect(
      sm.send(new CreateModelPackageCommand({ ModelPackageGroupName: 'mlship-nope', InferenceSpecification: { Containers: [container] } })),
    ).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('mlship-nope') });
    await expect(sm.send(new DescribeModelPackageCommand({ ModelPackageName: `${GROUP}/9` }))).rejects.toMatchObject({
      name: 'ValidationException',
    });
    await expect(
      sm.send(
        new UpdateModelPackageCommand({
          ModelPackageArn: `arn:aws:sagemaker:us-east-1:000000000000:model-package/${GROUP}/1`,
          ModelApprovalStatus: 'Maybe' as 'Approved',
        }),
      ),
    ).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining("Value 'Maybe' at 'modelApprovalStatus'") });
    // Customer metadata values are letters, digits, spaces and _.:/=+-@ only (a pattern Java writes with a quantified `$`).
    await expect(
      sm.send(
        new UpdateModelPackageCommand({
          ModelPackageArn: `arn:aws:sagemaker:us-east-1:000000000000:model-package/${GROUP}/1`,
          CustomerMetadataProperties: { 'mlship:note': 'no #hashes' },
        }),
      ),
    ).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining("Value 'no #hashes'") });
  });

  it('lists by group and status, newest first unless asked, a page at a time', async () => {
    const all = await sm.send(new ListModelPackagesCommand({ ModelPackageGroupName: GROUP }));
    expect(all.ModelPackageSummaryList?.map((p) => p.ModelPackageVersion)).toEqual([2, 1]);
    const rejected = await sm.send(new ListModelPackagesCommand({ ModelPackageGroupName: GROUP, ModelApprovalStatus: 'Rejected' }));
    expect(rejected.ModelPackageSummaryList?.map((p) => p.ModelPackageVersion)).toEqual([2]);
    const page1 = await sm.send(new ListModelPackagesCommand({ ModelPackageGroupName: GROUP, SortOrder: 'Ascending', MaxResults: 1 }));
    const page2 = await sm.send(
      new ListModelPackagesCommand({ ModelPackageGroupName: GROUP, SortOrder: 'Ascending', MaxResults: 1, NextToken: page1.NextToken }),
    );
    expect([page1.ModelPackageSummaryList?.[0]?.ModelPackageVersion, page2.ModelPackageSummaryList?.[0]?.ModelPackageVersion]).toEqual([
      1, 2,
    ]);
    expect(page2.NextToken).toBeUndefined();
  });

  it('keeps groups and packages across a restart of the cloud', async () => {
    // Act: stop, start on the same data dir
    sm.destroy();
    await t.close({ keepData: true });
    t = await startTestCloud({ dataDir: t.dataDir, repoRoot: t.repoRoot });
    sm = new SageMakerClient(clientConfig(t.cloud.endpoint));

    // Assess: the packages, their statuses, and the numbering goes on
    const list = await sm.send(new ListModelPackagesCommand({ ModelPackageGroupName: GROUP, SortOrder: 'Ascending' }));
    expect(list.ModelPackageSummaryList?.map((p) => p.ModelApprovalStatus)).toEqual(['Approved', 'Rejected']);
    expect((await create('v3')).ModelPackageArn).toMatch(/\/3$/);
  });
});
