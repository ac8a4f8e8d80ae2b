import {
  DescribeModelPackageCommand,
  DescribeModelPackageGroupCommand,
  ListModelPackagesCommand,
  type DescribeModelPackageCommandOutput,
} from '@aws-sdk/client-sagemaker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsCli, hasAwsCli } from '../local/aws-cli';
import { MODEL, WorkflowHarness } from './harness';

/**
 * SageMaker Model Registry mirrors the S3 registry (issue 20): a model package group per
 * model, a model package per built version whose ModelApprovalStatus follows the decision,
 * read back through the local cloud's SageMaker API as a Studio user or the aws CLI would.
 */

let h: WorkflowHarness;
const GROUP = `mlship-${MODEL}`;
/** What the process wrote to stdout while the releases ran (the local cloud shares it with `mlship up`). */
const stdout: string[] = [];
const write = process.stdout.write.bind(process.stdout);

beforeAll(async () => {
  process.stdout.write = ((chunk: unknown, ...rest: unknown[]) => {
    stdout.push(String(chunk));
    return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stdout.write;
  h = await WorkflowHarness.start();
});
afterAll(async () => {
  process.stdout.write = write;
  await h?.close();
});

/** The package of a version, found by listing the group (as Studio does), then described. */
async function packageOf(version: string): Promise<DescribeModelPackageCommandOutput | undefined> {
  const list = await h.sagemaker.send(new ListModelPackagesCommand({ ModelPackageGroupName: GROUP, MaxResults: 100 }));
  for (const summary of list.ModelPackageSummaryList ?? []) {
    const described = await h.sagemaker.send(new DescribeModelPackageCommand({ ModelPackageName: summary.ModelPackageArn }));
    if (described.CustomerMetadataProperties?.['mlship:version'] === version) return described;
  }
  return undefined;
}

/** What the S3 registry's version status means for the package's approval (the test's own table, not the code's). */
const EXPECTED: Record<string, string> = {
  'awaiting-approval': 'PendingManualApproval',
  production: 'Approved',
  archived: 'Approved',
  rejected: 'Rejected',
  'gate-failed': 'Rejected',
  'approval-timed-out': 'Rejected',
  'rolled-back': 'Rejected',
  superseded: 'Rejected',
};

/** After an outcome: every version record with a build agrees with its model package. */
async function expectRegistriesAgree(): Promise<void> {
  const keys = (await h.keys(`registry/${MODEL}/versions/`)).filter((k) => k.endsWith('.json'));
  expect(keys.length).toBeGreaterThan(0);
  for (const key of keys) {
    const record = await h.getJson(key);
    const pkg = await packageOf(record.version);
    expect(pkg, `model package of ${record.version} (${record.status})`).toBeDefined();
    expect(record.modelRegistry).toMatchObject({ modelPackageArn: pkg!.ModelPackageArn, error: null });
    expect(pkg!.ModelApprovalStatus, `${record.version} is ${record.status}`).toBe(EXPECTED[record.status]);
  }
}

describe('Workflow: SageMaker Model Registry mirrors the S3 registry', () => {
  it('registers a version pending approval, then Approved when approved', async () => {
    // Act: release until it waits for approval
    const started = await h.release({ quality: 'good' });
    const approval = await h.approvalOf(started.name, started.executionArn);
    expect(approval, await h.explain(started.executionArn)).toBeDefined();

    // Assess: the group and a pending package carrying the image, the bundle and the reports
    const group = await h.sagemaker.send(new DescribeModelPackageGroupCommand({ ModelPackageGroupName: GROUP }));
    expect(group).toMatchObject({ ModelPackageGroupName: GROUP, ModelPackageGroupStatus: 'Completed' });
    const record = await h.getJson(`registry/${MODEL}/versions/${approval.version}.json`);
    const pending = await packageOf(approval.version);
    expect(pending).toMatchObject({
      ModelPackageGroupName: GROUP,
      ModelPackageVersion: 1,
      ModelApprovalStatus: 'PendingManualApproval',
      InferenceSpecification: {
        Containers: [
          {
            Image: record.build.imageUri,
            ModelDataSource: { S3DataSource: { S3Uri: record.build.artifactsUri, S3DataType: 'S3Prefix', CompressionType: 'None' } },
          },
        ],
      },
      ModelMetrics: {
        ModelQuality: { Statistics: { S3Uri: record.evaluation.reportUri, ContentType: 'application/json' } },
        ModelDataQuality: {
          Statistics: { S3Uri: expect.stringMatching(/^s3:\/\/.+\/reports\/tiny\/.+\/baseline\/statistics\.json$/) },
          Constraints: { S3Uri: expect.stringMatching(/^s3:\/\/.+\/reports\/tiny\/.+\/baseline\/constraints\.json$/) },
        },
      },
      DriftCheckBaselines: { ModelDataQuality: { Statistics: { S3Uri: expect.stringMatching(/\/baseline\/statistics\.json$/) } } },
      MetadataProperties: { CommitId: started.commitId, GeneratedBy: started.executionArn },
    });
    await expectRegistriesAgree();

    // Act: approve
    await h.decide(started.name, 'approve', 'ship it');
    const ended = await h.wait(started.executionArn);

    // Assess
    expect(ended.status, await h.explain(started.executionArn)).toBe('SUCCEEDED');
    expect((await packageOf(approval.version))?.ModelApprovalStatus).toBe('Approved');
    await expectRegistriesAgree();
  });

  it('moves a package to Rejected when the approver rejects, with the reason', async () => {
    const started = await h.release({ quality: 'good' });
    const approval = await h.approvalOf(started.name, started.executionArn);
    expect(approval, await h.explain(started.executionArn)).toBeDefined();
    expect((await packageOf(approval.version))?.ModelApprovalStatus).toBe('PendingManualApproval');

    await h.decide(started.name, 'reject', 'not this week');
    const ended = await h.wait(started.executionArn);

    expect(ended.status).toBe('FAILED');
    const rejected = await packageOf(approval.version);
    expect(rejected).toMatchObject({ ModelApprovalStatus: 'Rejected', ModelPackageVersion: 2 });
    expect(rejected?.ApprovalDescription).toContain('not this week');
    await expectRegistriesAgree();
  });

  it('registers a version that failed its quality gate as Rejected', async () => {
    const { executionArn } = await h.release({ quality: 'bad' });
    const ended = await h.wait(executionArn);
    expect(ended.error).toBe('QualityGateFailed');
    await expectRegistriesAgree();
  });

  it('moves a package to Rejected when nobody decides before the approval timeout', async () => {
    const { executionArn, name } = await h.release({ quality: 'good' }, (yaml) => yaml.replace('timeout: 10m', 'timeout: 2s'));
    const approval = await h.approvalOf(name, executionArn);
    expect(approval, await h.explain(executionArn)).toBeDefined();
    const ended = await h.wait(executionArn);
    expect(ended.error).toBe('ApprovalTimedOut');
    expect((await packageOf(approval.version))?.ModelApprovalStatus).toBe('Rejected');
    await expectRegistriesAgree();
  });

  it('moves the package of a release awaiting approval to Rejected when a newer release supersedes it', async () => {
    // Prepare: a release waiting for its approval
    const older = await h.release({ quality: 'good' });
    const approval = await h.approvalOf(older.name, older.executionArn);
    expect(approval, await h.explain(older.executionArn)).toBeDefined();

    // Act: a newer release of the model takes its place
    const newer = await h.release({ quality: 'good', delayMs: 1 });
    const stopped = await h.wait(older.executionArn);
    const newerApproval = await h.approvalOf(newer.name, newer.executionArn);
    expect(newerApproval, await h.explain(newer.executionArn)).toBeDefined();
    await h.decide(newer.name, 'reject', 'superseded test');
    await h.wait(newer.executionArn);

    // Assess
    expect(stopped.status).toBe('ABORTED');
    expect((await packageOf(approval.version))?.ModelApprovalStatus).toBe('Rejected');
    await expectRegistriesAgree();
  });

  it("keeps the custom metrics (EMF) out of the local run's output", () => {
    expect(stdout.filter((chunk) => chunk.includes('"CloudWatchMetrics"'))).toEqual([]);
  });

  it.skipIf(!hasAwsCli)('is listed by the aws command-line client', async () => {
    const listed = await awsCli(h.cloud.endpoint, 'sagemaker', 'list-model-packages', '--model-package-group-name', GROUP);
    expect(listed.code, listed.err).toBe(0);
    const statuses = (listed.json.ModelPackageSummaryList as Array<{ ModelApprovalStatus: string }>).map((s) => s.ModelApprovalStatus);
    expect(statuses.sort()).toEqual(['Approved', 'Rejected', 'Rejected', 'Rejected', 'Rejected', 'Rejected']);
  });
});
