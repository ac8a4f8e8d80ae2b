import type { S3Client } from '@aws-sdk/client-s3';
import type { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { mirrorVersion } from '../shared/model-registry';
import { keys, s3Uri } from '../shared/names';
import { updateVersion } from '../shared/registry';
import { getJson, putJson, putJsonIf } from '../shared/s3json';
import { ConcurrentUpdateError } from '../shared/errors';
import {
  approvalKey,
  approvalRecordSchema,
  approvalTokenKey,
  expiryOf,
  type ApprovalRecord,
  type ApprovalToken,
} from '../shared/approvals';

export interface RequestApprovalDeps {
  s3: S3Client;
  sns: SNSClient;
  bucket: string;
  topicArn: string;
  /** Registers the version in SageMaker Model Registry, PendingManualApproval. @default no mirror */
  sagemaker?: SageMakerClient;
  now: () => Date;
}

export interface RequestApprovalInput {
  model: string;
  version: string;
  executionId: string;
  executionName: string;
  taskToken: string;
  timeoutSeconds: number;
  evaluation: { validationOk: boolean; metrics: Record<string, number>; reportUri?: string };
  loadTest: { ok: boolean; reportUri?: string };
}

/**
 * Store the task token where only the decision function reads it, then the pending request
 * (without the token) where approvers read it; mark the version awaiting approval and notify
 * the approvers. A retry of the task (which Step Functions gives a new token) replaces the
 * token, so a decision reaches the task that waits now; a decided request is left alone.
 * The version is registered in SageMaker Model Registry as PendingManualApproval first.
 * The request carries the commit's author and the manifest's `approval.separationOfDuties`
 * from the version record, for the decision function to check.
 */
export async function requestApproval(
  deps: RequestApprovalDeps,
  input: RequestApprovalInput,
): Promise<{ approvalId: string; expiresAt: string }> {
  const id = `${input.model}/${input.executionName}`;
  const key = approvalKey(id);
  const now = deps.now();
  const report = (file: string) => s3Uri(deps.bucket, keys.report(input.model, input.version, file));
  const versionRecord = await updateVersion(deps, input.model, input.version, (r) => ({ ...r, status: 'awaiting-approval' }), deps.now);
  // Before the request exists: whoever sees it pending finds the package pending too.
  if (deps.sagemaker) {
    const modelRegistry = await mirrorVersion({ sagemaker: deps.sagemaker, bucket: deps.bucket }, versionRecord);
    await updateVersion(deps, input.model, input.version, (r) => ({ ...r, modelRegistry }), deps.now);
  }
  const token: ApprovalToken = { id, executionArn: input.executionId, taskToken: input.taskToken, issuedAt: now.toISOString() };
  await putJson(deps.s3, deps.bucket, approvalTokenKey(id), token);
  const record: ApprovalRecord = {
    id,
    model: input.model,
    version: input.version,
    executionArn: input.executionId,
    requestedAt: now.toISOString(),
    expiresAt: expiryOf(now, input.timeoutSeconds),
    reportLinks: {
      html: report('quality-report.html'),
      json: report('quality-report.json'),
      validation: report('validation.json'),
      loadTest: report('load-test.json'),
    },
    summary: { metrics: input.evaluation.metrics, validationOk: input.evaluation.validationOk, loadTestOk: input.loadTest.ok },
    author: versionRecord.author ?? null,
    // A record of a version made before the setting existed gets the manifest default.
    separationOfDuties: versionRecord.manifest.approval?.separationOfDuties ?? true,
    status: 'pending',
    note: null,
  };

  const created = await putJsonIf(deps.s3, deps.bucket, key, record, { ifNoneMatch: '*' });
  if (!created.written) {
    const existing = await getJson(deps.s3, deps.bucket, key, approvalRecordSchema);
    if (existing && existing.value.status === 'pending') {
      const replaced = await putJsonIf(
        deps.s3,
        deps.bucket,
        key,
        { ...record, requestedAt: existing.value.requestedAt, expiresAt: existing.value.expiresAt },
        existing.etag ? { ifMatch: existing.etag } : {},
      );
      if (!replaced.written) throw new ConcurrentUpdateError(`s3://${deps.bucket}/${key} was decided while its token was being renewed`);
    }
  }

  const metrics = Object.entries(input.evaluation.metrics)
    .map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toFixed(4)}`)
    .join(', ');
  await deps.sns.send(
    new PublishCommand({
      TopicArn: deps.topicArn,
      Subject: `mlship: ${input.model} ${input.version} awaits approval`.slice(0, 100),
      Message: [
        `${input.model} version ${input.version} passed its quality gate and load test and waits for approval until ${record.expiresAt}.`,
        `Metrics: ${metrics || '(none)'}`,
        `Quality report: ${record.reportLinks.html}`,
        `Approve: mlship approve ${id}    Reject: mlship reject ${id} --comment "<why>"`,
        `Execution: ${input.executionId}`,
      ].join('\n'),
      MessageAttributes: {
        event: { DataType: 'String', StringValue: 'approval-requested' },
        model: { DataType: 'String', StringValue: input.model },
      },
    }),
  );
  return { approvalId: id, expiresAt: record.expiresAt };
}
