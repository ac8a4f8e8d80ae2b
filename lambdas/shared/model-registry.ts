import {
  CreateModelPackageCommand,
  CreateModelPackageGroupCommand,
  UpdateModelPackageCommand,
  type CreateModelPackageCommandInput,
  type ModelApprovalStatus,
  type SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { sha256Hex } from './bundle';
import { isSageMakerAlreadyExists } from './errors';
import { logger } from './logger';
import { keys, SAGEMAKER_NAME_PREFIX, s3Uri } from './names';
import type { ModelRegistryMirror, VersionRecord } from './registry';

export type { ModelRegistryMirror };

/**
 * The SageMaker Model Registry as a mirror of the S3 registry (lambdas/shared/registry.ts),
 * so teams in SageMaker Studio find mlship's models there: a model package group per model
 * and a versioned model package per built version, carrying the image, the bundle, the
 * quality report and the drift baseline, with ModelApprovalStatus following the decision.
 *
 * The S3 registry stays the one mlship reads; nothing here is read back except the ARN the
 * version record keeps. A failed mirror call is logged and kept on the version record
 * (`modelRegistry.error`) and never fails a release: the release's own record comes first.
 */

export interface ModelRegistryDeps {
  sagemaker: SageMakerClient;
  bucket: string;
}

/** The group of a model: under the `mlship-` prefix the task roles' SageMaker grants are scoped to. */
export const modelPackageGroupName = (model: string): string => `${SAGEMAKER_NAME_PREFIX}${model}`;

/**
 * The approval status a version's package must have, from the S3 registry's status; null
 * while the version has not reached a decision (or never built an image to register).
 * Approved: approved and promoted (also once archived: it served production). Rejected:
 * every other end, rejection, expiry, a failed gate or a rollback among them, so Studio
 * never offers a version production does not serve.
 */
export function approvalStatusOf(record: VersionRecord): ModelApprovalStatus | null {
  if (!record.build?.imageUri) return null;
  switch (record.status) {
    case 'building':
    case 'built':
    case 'evaluated':
      return null;
    case 'awaiting-approval':
      return 'PendingManualApproval';
    case 'approved':
    case 'production':
    case 'archived':
      return 'Approved';
    default:
      return 'Rejected';
  }
}

/** SageMaker's ApprovalDescription: one line of at most 1024 characters. */
const oneLine = (text: string, max: number): string => text.replace(/\s+/g, ' ').trim().slice(0, max);

/** The CreateModelPackage request of a version (exported for the unit tests). */
export function modelPackageInput(bucket: string, record: VersionRecord, status: ModelApprovalStatus): CreateModelPackageCommandInput {
  const build = record.build!;
  const report = (file: string) => ({
    ContentType: 'application/json',
    S3Uri: s3Uri(bucket, keys.report(record.model, record.version, file)),
  });
  return {
    ModelPackageGroupName: modelPackageGroupName(record.model),
    // Idempotency: a retried task gets the package the first attempt made (36 characters at most).
    ClientToken: sha256Hex(`${record.model}/${record.version}`).slice(0, 32),
    ModelPackageDescription: oneLine(
      `${record.model} ${record.version}, commit ${record.commitId.slice(0, 12)}, ${record.trigger} release`,
      1024,
    ),
    ModelApprovalStatus: status,
    InferenceSpecification: {
      Containers: [
        {
          Image: build.imageUri!,
          ...(build.imageDigest && /^sha256:[0-9a-f]{64}$/i.test(build.imageDigest) ? { ImageDigest: build.imageDigest } : {}),
          // The bundle is the build's artifacts folder, uncompressed (the image serves it on AWS).
          ...(build.artifactsUri
            ? { ModelDataSource: { S3DataSource: { S3Uri: build.artifactsUri, S3DataType: 'S3Prefix', CompressionType: 'None' } } }
            : {}),
          Environment: { MLSHIP_MODEL: record.model, MLSHIP_VERSION: record.version },
        },
      ],
      SupportedContentTypes: ['application/json'],
      SupportedResponseMIMETypes: ['application/json'],
    },
    // The quality report (metrics, gates, dummy baseline) and the training data's Model
    // Monitor baseline, which every drift check of this version compares against.
    ...(record.evaluation
      ? {
          ModelMetrics: {
            ModelQuality: { Statistics: { ContentType: 'application/json', S3Uri: record.evaluation.reportUri } },
            ModelDataQuality: { Statistics: report('baseline/statistics.json'), Constraints: report('baseline/constraints.json') },
          },
          DriftCheckBaselines: {
            ModelDataQuality: { Statistics: report('baseline/statistics.json'), Constraints: report('baseline/constraints.json') },
          },
        }
      : {}),
    MetadataProperties: { CommitId: record.commitId, GeneratedBy: record.execution.arn },
    CustomerMetadataProperties: {
      'mlship:model': record.model,
      'mlship:version': record.version,
      'mlship:trigger': record.trigger,
      'mlship:versionRecord': s3Uri(bucket, keys.version(record.model, record.version)),
      ...(record.training ? { 'mlship:trainingDataSha256': record.training.sha256 } : {}),
    },
  };
}

/**
 * Note a drift check on the package of the version it checked: ModelMetrics are fixed at
 * registration (they point at the drift baseline), so the latest verdict and report go into
 * the package's customer metadata, where Studio shows them. Never throws.
 */
export async function noteDriftCheck(
  deps: ModelRegistryDeps,
  record: VersionRecord,
  check: { run: string; verdict: string; reportUri: string | null },
): Promise<void> {
  const arn = record.modelRegistry?.modelPackageArn;
  if (!arn) return;
  const metadata: Record<string, string> = { 'mlship:lastDriftRun': check.run, 'mlship:lastDriftVerdict': check.verdict };
  if (check.reportUri) metadata['mlship:lastDriftReport'] = check.reportUri;
  try {
    await deps.sagemaker.send(new UpdateModelPackageCommand({ ModelPackageArn: arn, CustomerMetadataProperties: metadata }));
  } catch (err) {
    logger.warn('SageMaker Model Registry: drift check not noted', { modelPackageArn: arn, error: (err as Error).message });
  }
}

/** Create the model's group unless it exists (one call; "already exists" is the common answer). */
async function ensureGroup(deps: ModelRegistryDeps, record: VersionRecord): Promise<void> {
  try {
    await deps.sagemaker.send(
      new CreateModelPackageGroupCommand({
        ModelPackageGroupName: modelPackageGroupName(record.model),
        ModelPackageGroupDescription: `mlship model ${record.model}: one package per built version (mirrors s3://${deps.bucket}/registry/${record.model}/)`,
      }),
    );
  } catch (err) {
    if (!isSageMakerAlreadyExists(err)) throw err;
  }
}

/**
 * Bring the version's model package in line with its record: create the group and the
 * package on first sight, then set the approval status (with `why` as ApprovalDescription).
 * Returns what the version record should keep, or the record's current value when there is
 * nothing to mirror yet. Never throws (see the module comment).
 */
export async function mirrorVersion(
  deps: ModelRegistryDeps,
  record: VersionRecord,
  why: string | null = null,
): Promise<ModelRegistryMirror | null> {
  const status = approvalStatusOf(record);
  if (!status) return record.modelRegistry ?? null;
  const groupName = modelPackageGroupName(record.model);
  let arn = record.modelRegistry?.modelPackageArn ?? null;
  try {
    let fresh = false;
    if (!arn) {
      await ensureGroup(deps, record);
      arn = (await deps.sagemaker.send(new CreateModelPackageCommand(modelPackageInput(deps.bucket, record, status)))).ModelPackageArn!;
      // A ClientToken repeat returns a package made earlier, with the status it had then.
      fresh = status === 'PendingManualApproval';
    }
    if (!fresh || why) {
      await deps.sagemaker.send(
        new UpdateModelPackageCommand({
          ModelPackageArn: arn,
          ModelApprovalStatus: status,
          ...(why ? { ApprovalDescription: oneLine(why, 1024) } : {}),
        }),
      );
    }
    return { groupName, modelPackageArn: arn, approvalStatus: status, error: null };
  } catch (err) {
    const error = `${(err as Error).name}: ${(err as Error).message}`.slice(0, 1000);
    logger.warn('SageMaker Model Registry mirror failed; the S3 registry is unaffected', { groupName, modelPackageArn: arn, error });
    return { groupName, modelPackageArn: arn, approvalStatus: record.modelRegistry?.approvalStatus ?? null, error };
  }
}
