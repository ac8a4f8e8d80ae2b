import { ROLLBACK_ALARM_SUFFIXES } from '../../lib/config/rollback-alarms';
import { OPTIONAL_TASK_ENV } from '../../lib/tasks';
import { TerminalError } from './errors';

/**
 * Deterministic names of everything a release creates, so a retried task finds what the
 * first attempt made instead of making a second one, and CDK (alarms, IAM scopes) and the
 * console can name the same resources without asking the registry.
 *
 * SageMaker names are at most 63 characters of `[a-zA-Z0-9-]`; with model names of at most
 * 40 characters and versions of 12, every name below fits.
 */

/** The production variant; constant across versions so the rollback alarms' dimensions never change. */
export const VARIANT_NAME = 'AllTraffic';

export type Stage = 'staging' | 'production';

/**
 * InferenceId prefix of the evaluation's own requests. SageMaker captures every invocation,
 * so the drift check leaves records with this prefix out of the live traffic it judges.
 */
export const EVALUATION_INFERENCE_PREFIX = 'mlship-eval-';

/**
 * Every SageMaker model, endpoint config and endpoint the release creates starts with this:
 * the task roles' grants (lib/infra) are scoped to it.
 */
export const SAGEMAKER_NAME_PREFIX = 'mlship-';
export const endpointName = (model: string, stage: Stage): string => `${SAGEMAKER_NAME_PREFIX}${model}-${stage}`;
/** The SageMaker model of a version, shared by its staging and production configs. */
export const sagemakerModelName = (model: string, version: string): string => `${SAGEMAKER_NAME_PREFIX}${model}-${version}`;
export const endpointConfigName = (model: string, version: string, stage: Stage): string =>
  `${SAGEMAKER_NAME_PREFIX}${model}-${version}-${stage === 'staging' ? 's' : 'p'}`;
/** The version's SageMaker training job (`mlship-*`: the release role may create no other; at most 60 of SageMaker's 63 characters). */
export const trainingJobName = (model: string, version: string): string => `${SAGEMAKER_NAME_PREFIX}${model}-${version}`;
/** The production endpoint's config while a release's candidate runs beside it as a shadow variant (lambdas/shadow-test). */
export const shadowConfigName = (model: string, version: string): string => `${SAGEMAKER_NAME_PREFIX}${model}-${version}-x`;
/** The production endpoint's config while a release's candidate takes a share of its traffic as a second production variant (lambdas/ab-test). */
export const abConfigName = (model: string, version: string): string => `${SAGEMAKER_NAME_PREFIX}${model}-${version}-a`;
export const buildProjectName = (prefix: string, model: string): string => `${prefix}${model}`;
/** The CloudWatch alarms that roll a production deployment back (CDK creates them with these names). */
export const rollbackAlarmNames = (prefix: string, model: string): string[] => [
  `${prefix}${model}${ROLLBACK_ALARM_SUFFIXES['5xx-rate']}`,
  `${prefix}${model}${ROLLBACK_ALARM_SUFFIXES['p99-latency']}`,
];

/** Keys of the artifact bucket (see DESIGN.md "S3 layout"). */
export const keys = {
  source: (model: string, commit: string) => `source/${model}/${commit}.zip`,
  build: (model: string, version: string) => `builds/${model}/${version}/`,
  /** A training job's output: `<job>/output/model.tar.gz` under it, and checkpoints/ when the manifest names none. */
  training: (model: string, version: string) => `training/${model}/${version}/`,
  // Not under builds/<model>/<version>/: that folder is the build's artifacts, which a bundle
  // with its own model.yaml would overwrite.
  manifestSnapshot: (model: string, version: string) => `registry/${model}/manifests/${version}.yaml`,
  report: (model: string, version: string, file: string) => `reports/${model}/${version}/${file}`,
  // approvals/<model>/<executionName>.json: see approvalKey in approvals.ts
  version: (model: string, version: string) => `registry/${model}/versions/${version}.json`,
  versions: (model: string) => `registry/${model}/versions/`,
  production: (model: string) => `registry/${model}/production.json`,
  deployment: (model: string, at: string, version: string) => `registry/${model}/deployments/${at.replace(/[:.]/g, '-')}-${version}.json`,
  deployments: (model: string) => `registry/${model}/deployments/`,
  retraining: (model: string) => `registry/${model}/retraining.json`,
  // One release per model at a time: which execution holds the model (lambdas/shared/lease.ts).
  lease: (model: string) => `registry/${model}/lease.json`,
  // The last clean-up of superseded SageMaker models and configs (lambdas/prune-versions).
  pruning: (model: string) => `registry/${model}/pruning.json`,
  capture: (model: string) => `capture/${model}/`,
  groundTruth: (model: string) => `ground-truth/${model}/`,
  monitoring: (model: string, run: string, file: string) => `monitoring/${model}/${run}/${file}`,
  lastMonitoring: (model: string) => `monitoring/${model}/latest.json`,
} as const;

export const s3Uri = (bucket: string, key: string): string => `s3://${bucket}/${key}`;

/**
 * The optional task environment variable that says where an endpoint's model-server log
 * is, with `{endpoint}` for the endpoint's name. Unset on AWS, where SageMaker writes it to
 * CloudWatch; the local cloud sets it to its own log directory.
 */
export const ENDPOINT_LOG_LOCATION_ENV = OPTIONAL_TASK_ENV.endpointLogLocation;

/** Where a person finds the model server's log of an endpoint, for failure causes. */
export function endpointLogLocation(endpoint: string, template?: string): string {
  return template ? template.replaceAll('{endpoint}', endpoint) : `CloudWatch log group /aws/sagemaker/Endpoints/${endpoint}`;
}

/** Split `s3://bucket/key`; the message names the offending URI. */
export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(uri);
  if (!m) throw new TerminalError(`not an s3:// URI: "${uri}"`);
  return { bucket: m[1]!, key: m[2]! };
}
