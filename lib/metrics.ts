/**
 * The one record of mlship's custom CloudWatch metrics (issue 20): the task handlers emit
 * them with Powertools Metrics as EMF lines (lambdas/shared/metrics.ts) and the CDK
 * dashboard (lib/infra/constructs/model-dashboard.ts) finds them with SEARCH expressions
 * over the same namespace, names and dimensions, so the two cannot drift apart.
 *
 * Every metric carries the `model` dimension, and Powertools adds `service` (= SERVICE_NAME).
 */
export const METRICS_NAMESPACE = 'mlship';
export const METRICS_SERVICE_NAME = 'mlship';

export const METRICS = {
  /** 1 per ended release, by end state (RecordOutcome). */
  releaseOutcome: { name: 'ReleaseOutcome', unit: 'Count', dimensions: ['model', 'outcome'] },
  /** Each gated metric of the candidate on the holdout (EvaluateModel). */
  gateMetric: { name: 'GateMetric', unit: 'None', dimensions: ['model', 'metric'] },
  /** 1 when the quality gate passed, 0 when it failed (EvaluateModel). */
  qualityGatePassed: { name: 'QualityGatePassed', unit: 'Count', dimensions: ['model'] },
  /** The load test's p99 latency against the staging endpoint (LoadTest). */
  loadTestP99: { name: 'LoadTestP99', unit: 'Milliseconds', dimensions: ['model'] },
  /** The load test's error rate, 0..1 (LoadTest). */
  loadTestErrorRate: { name: 'LoadTestErrorRate', unit: 'None', dimensions: ['model'] },
  /** Share of drifted features of a drift check, 0..1 (CheckDrift). */
  driftShare: { name: 'DriftShare', unit: 'None', dimensions: ['model'] },
  /** Seconds from the approval request to the decision, by decision (DecideApproval). */
  approvalWait: { name: 'ApprovalWaitSeconds', unit: 'Seconds', dimensions: ['model', 'decision'] },
} as const;

export type MetricKey = keyof typeof METRICS;
