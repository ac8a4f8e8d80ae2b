/**
 * Names every part of mlship agrees on, in one place with no dependencies (the Lambda
 * bundles, the CLI and CDK all import it): the model-name rule and the evaluation metrics.
 */

/** A model's name is part of resource names (endpoints, projects, alarms): 3-40 lowercase letters, digits and dashes, starting with a letter. */
export const MODEL_NAME_PATTERN = /^[a-z][a-z0-9-]{1,38}[a-z0-9]$/;
export const MODEL_NAME_RULE = 'a lowercase name of 3-40 letters, digits and dashes, starting with a letter';

/** The regression metrics lambdas/ml computes, which the manifest's `evaluation.metrics` may gate on. */
export const REGRESSION_METRICS = ['mae', 'rmse', 'r2', 'mape'] as const;
/** The classification metrics lambdas/ml computes, which the manifest's `evaluation.metrics` may gate on. */
export const CLASSIFICATION_METRICS = [
  'accuracy',
  'macro_precision',
  'macro_recall',
  'macro_f1',
  'weighted_precision',
  'weighted_recall',
  'weighted_f1',
  'log_loss',
  'roc_auc',
] as const;

export type RegressionMetric = (typeof REGRESSION_METRICS)[number];
export type ClassificationMetric = (typeof CLASSIFICATION_METRICS)[number];
export type MetricName = RegressionMetric | ClassificationMetric;

/** Drift tests the manifest may name per feature type (`drift.methods`); `auto` picks Evidently's default. */
export const DRIFT_METHODS = ['auto', 'ks', 'wasserstein', 'psi', 'chisquare', 'jensenshannon', 'ztest'] as const;
export type DriftMethodName = (typeof DRIFT_METHODS)[number];
/** Tests of numeric samples: a categorical feature (or a classifier's predicted class) cannot use them. */
export const NUMERIC_ONLY_DRIFT_METHODS: readonly DriftMethodName[] = ['ks', 'wasserstein'];
