import { parseManifest, type ModelManifest } from '../../../lib/config';
import type { VersionRecord } from '../../../lambdas/shared/registry';

/** The environment every handler module reads at import (set in vi.hoisted before importing one). */
export const TASK_ENV_VALUES = {
  ARTIFACT_BUCKET: 'mlship-artifacts',
  NOTIFICATION_TOPIC_ARN: 'arn:aws:sns:us-east-1:000000000000:mlship',
  RELEASE_STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:000000000000:stateMachine:mlship-release',
  BUILD_PROJECT_PREFIX: 'mlship-build-',
  SAGEMAKER_ROLE_ARN: 'arn:aws:iam::000000000000:role/mlship-sagemaker',
  ROLLBACK_ALARM_PREFIX: 'mlship-rollback-',
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  // No EMF lines in the test output; test/unit/lambdas/metrics-env.ts turns them on where they are read.
  POWERTOOLS_METRICS_DISABLED: 'true',
};

export const BUCKET = TASK_ENV_VALUES.ARTIFACT_BUCKET;
export const EXECUTION_ARN = 'arn:aws:states:us-east-1:000000000000:execution:mlship-release:e1';
export const NOW = new Date('2026-11-27T01:00:00.000Z');

export const MANIFEST_YAML = `name: delivery-time
task: regression
paths: ["models/delivery-time/**"]
serve:
  command: node serve.mjs
  instanceCount: 2
features:
  - { name: distance_km, type: numeric }
  - { name: service, type: categorical }
label: hours
evaluation:
  bootstrap: 20
  metrics:
    rmse: { direction: lower, bound: 5, tolerance: { relative: 0.1 } }
loadTest: { rps: 20, duration: 2s, p99Ms: 200, maxErrorRate: 0.05 }
approval: { timeout: 2h }
deployment: { strategy: canary, stepPercent: 20, bakeTime: 10m }
drift: { minSamples: 20, retraining: { cooldown: 1h }, concept: { minLabels: 10 } }
`;

export function manifest(overrides: Record<string, unknown> = {}): ModelManifest {
  return parseManifest(
    {
      name: 'delivery-time',
      task: 'regression',
      paths: ['models/delivery-time/**'],
      serve: { command: 'node serve.mjs', instanceCount: 2 },
      features: [
        { name: 'distance_km', type: 'numeric' },
        { name: 'service', type: 'categorical' },
      ],
      label: 'hours',
      evaluation: { bootstrap: 20, metrics: { rmse: { direction: 'lower', bound: 5, tolerance: { relative: 0.1 } } } },
      loadTest: { rps: 20, duration: '2s', p99Ms: 200, maxErrorRate: 0.05 },
      approval: { timeout: '2h' },
      deployment: { strategy: 'canary', stepPercent: 20, bakeTime: '10m' },
      drift: { minSamples: 20, retraining: { cooldown: '1h' }, concept: { minLabels: 10 } },
      ...overrides,
    },
    'test manifest',
  );
}

export function versionRecord(over: Partial<VersionRecord> = {}): VersionRecord {
  const version = over.version ?? 'abcdef1-0a0b';
  return {
    model: 'delivery-time',
    version,
    status: 'building',
    createdAt: NOW.toISOString(),
    updatedAt: NOW.toISOString(),
    commitId: 'abcdef1234567890',
    trigger: 'push',
    reason: null,
    execution: { arn: EXECUTION_ARN, name: 'e1' },
    source: { uri: `s3://${BUCKET}/source/delivery-time/abcdef1234567890.zip`, sha256: 'aa' },
    manifest: manifest(),
    manifestUri: `s3://${BUCKET}/registry/delivery-time/manifests/${version}.yaml`,
    build: {
      projectName: 'mlship-build-delivery-time',
      buildId: 'mlship-build-delivery-time:1',
      status: 'SUCCEEDED',
      imageUri: '000000000000.dkr.ecr.us-east-1.amazonaws.com/delivery-time:abcdef1',
      imageDigest: 'sha256:1234',
      artifactsUri: `s3://${BUCKET}/builds/delivery-time/${version}/`,
      logLink: 'https://logs',
      failedPhase: null,
      startedAt: NOW.toISOString(),
      finishedAt: NOW.toISOString(),
    },
    training: null,
    evaluation: null,
    loadTest: null,
    approval: null,
    deployments: [],
    lineage: { previousProduction: null },
    outcome: null,
    promotedAt: null,
    archivedAt: null,
    ...over,
  };
}

/** The common release-task event fields. */
export const releaseEvent = (version = 'abcdef1-0a0b') => ({
  model: 'delivery-time',
  version,
  executionId: EXECUTION_ARN,
  executionName: 'e1',
});

/** A complete approval record (approvals/delivery-time/e1.json). */
/** The task token object RequestApproval stores apart from the record (approval-tokens/). */
export function approvalToken(over: Record<string, unknown> = {}) {
  return { id: 'delivery-time/e1', executionArn: EXECUTION_ARN, taskToken: 'token-1', issuedAt: '2026-11-27T01:00:00.000Z', ...over };
}

export function approvalRecord(over: Record<string, unknown> = {}) {
  return {
    id: 'delivery-time/e1',
    model: 'delivery-time',
    version: 'abcdef1-0a0b',
    executionArn: EXECUTION_ARN,
    requestedAt: '2026-11-27T01:00:00.000Z',
    expiresAt: '2026-11-27T03:00:00.000Z',
    reportLinks: { html: 'h', json: 'j', validation: 'v', loadTest: 'l' },
    summary: { metrics: {}, validationOk: true, loadTestOk: true },
    status: 'pending',
    ...over,
  };
}
