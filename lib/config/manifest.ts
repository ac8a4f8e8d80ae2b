import * as z from 'zod';
import { blueGreenProblems } from './blue-green';
import { minimumBakeSeconds, ROLLBACK_ALARM_TIMING } from './rollback-alarms';
import {
  CLASSIFICATION_METRICS,
  DRIFT_METHODS,
  MODEL_NAME_PATTERN,
  MODEL_NAME_RULE,
  NUMERIC_ONLY_DRIFT_METHODS,
  REGRESSION_METRICS,
} from './names';
import { trainingSchema } from './training';

/**
 * The model manifest, `models/<name>/model.yaml`.
 *
 * Every field past name, task, paths, serve, features and label has a default, documented
 * next to it; `parseManifest` returns the manifest with every default filled in, so nothing
 * downstream (CDK, the local cloud, the tasks) repeats a default.
 */

/** CodeBuild's build timeout range in minutes (botocore codebuild `BuildTimeOut`: 5..2160). */
export const BUILD_TIMEOUT_MINUTES = { min: 5, max: 2160 } as const;

/** CodePipeline V2 accepts at most 8 file-path globs per trigger filter. */
export const MAX_PATH_GLOBS = 8;

const modelName = z.string().regex(MODEL_NAME_PATTERN, MODEL_NAME_RULE);

const duration = z
  .string()
  .regex(/^\d+(s|m|h|d)$/, 'a duration such as 90s, 30m, 12h or 7d')
  .transform((s) => {
    const n = Number(s.slice(0, -1));
    const unit = { s: 1, m: 60, h: 3600, d: 86400 }[s.at(-1) as 's' | 'm' | 'h' | 'd'];
    return n * unit;
  });

const feature = z.strictObject({
  name: z.string().min(1),
  type: z.enum(['numeric', 'categorical', 'text']),
  /** A critical feature that drifts makes the whole dataset drift. @default false */
  critical: z.boolean().default(false),
});

const tolerance = z
  .strictObject({
    /** Largest allowed worsening against production, in the metric's units. */
    absolute: z.number().nonnegative().optional(),
    /** Largest allowed worsening against production, as a fraction of production's value. */
    relative: z.number().nonnegative().optional(),
  })
  .default({});

const metricGate = z.strictObject({
  /** Whether larger or smaller values are better. */
  direction: z.enum(['higher', 'lower']),
  /** Absolute bound: a minimum when direction is higher, a maximum when lower. @default none */
  bound: z.number().optional(),
  /** No-regression tolerance against the production version. @default {} (no worsening at all) */
  tolerance,
});

/**
 * One slicing of the holdout for the per-slice gate (issue 21): a categorical feature gives one
 * slice per value; a numeric feature is cut into named buckets, each holding the values below its
 * `below` and at or above the previous bucket's (the last bucket has no `below` and takes the rest).
 */
const sliceSpec = z.strictObject({
  feature: z.string().min(1),
  buckets: z
    .array(z.strictObject({ name: z.string().min(1), below: z.number().optional() }))
    .min(2)
    .optional(),
});

const sliceGate = z.strictObject({
  /** Slices with fewer holdout rows than this are reported but not gated. @default 50 */
  minRows: z.number().int().positive().default(50),
  /** Family-wise error rate over all (slice, metric) regression tests. @default 0.05 */
  alpha: z.number().gt(0).lt(1).default(0.05),
  /** Multiple-comparison correction: Holm's step-down (default, never weaker) or Bonferroni. @default holm */
  correction: z.enum(['holm', 'bonferroni']).default('holm'),
});

/** An extra evaluation dataset of the bundle (e.g. one client's data), gated as the slice `dataset=<name>`. */
const evaluationDataset = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'lowercase letters, digits, - and _ (it names the slice dataset=<name>)'),
  path: z
    .string()
    .refine(
      (p) => /\.csv$/.test(p) && !p.startsWith('/') && !p.split('/').includes('..'),
      'a CSV file inside the bundle, e.g. data/eval-client-a.csv',
    ),
});

const DEFAULT_METRICS = {
  regression: { rmse: { direction: 'lower', tolerance: { relative: 0.05 } } },
  classification: { accuracy: { direction: 'higher', tolerance: { absolute: 0.01 } } },
} as const;

const driftMethod = z.enum(DRIFT_METHODS);

/**
 * `experiment.shadow`: the candidate runs as a shadow variant of the production endpoint and
 * answers a copy of live requests, which callers never see; the stage compares its answers with
 * production's (lambdas/ml/shadow.ts) and gives pass, fail or insufficient-data.
 */
const shadowExperiment = z.strictObject({
  /** Share of production's requests copied to the shadow, percent. @default 50 */
  samplingPercent: z.number().gt(0).max(100).default(50),
  /** The stage ends as soon as this many requests have both answers captured. @default 200 */
  minRequests: z.number().int().positive().default(200),
  /** ... or when this much time has passed; with fewer requests the verdict is insufficient-data. @default 1h */
  maxDuration: duration.prefault('1h'),
  /** What insufficient-data does: go on to the approver (who sees it) or end the release in ShadowTestFailed. @default ask-approver */
  insufficientData: z.enum(['ask-approver', 'fail']).default('ask-approver'),
  /** Ground-truth labels of shadowed requests needed before the metric is compared. @default 30 */
  minLabels: z.number().int().positive().default(30),
  /** Resamples of the paired bootstrap of the metric difference. @default 1000 */
  bootstrap: z.number().int().min(1).max(100_000).default(1000),
  bounds: z
    .strictObject({
      /** Classification: least share of requests on which both models give the same label. @default 0.9 */
      minAgreement: z.number().min(0).max(1).nullable().optional(),
      /** Regression: largest mean |shadow − production|. @default null (not judged) */
      maxMeanAbsDifference: z.number().nonnegative().nullable().default(null),
      /** Regression: largest 95th percentile of |shadow − production|. @default null (not judged) */
      maxP95AbsDifference: z.number().nonnegative().nullable().default(null),
      /**
       * With ground truth: the candidate fails when its first evaluation metric is worse than
       * production's by more than this across the whole 95 % interval. @default 0
       */
      maxMetricWorsening: z.number().nonnegative().nullable().default(0),
      /**
       * Largest p99 ModelLatency of the shadow as a multiple of production's over the stage's
       * window (CloudWatch, per variant); not judged when the metrics are not available. @default null (not judged)
       */
      maxLatencyRatio: z.number().positive().nullable().default(null),
      /** Largest error rate ((4XX + 5XX) / Invocations) of the shadow minus production's, e.g. 0.01. @default null (not judged) */
      maxErrorRateDelta: z.number().min(0).max(1).nullable().default(null),
    })
    .prefault({}),
});

/** The metrics an A/B test judges: those with a per-request loss (lambdas/ml/abtest.ts AB_METRICS). */
export const AB_TEST_METRICS = ['accuracy', 'mae', 'rmse', 'mape'] as const;

/**
 * `experiment.ab`: after the approval the candidate takes a weighted share of production's live
 * traffic as a second production variant, and promotion waits for a pre-registered fixed-horizon
 * test on the ground-truth metric (lambdas/ml/abtest.ts, docs/shadow.md "Online A/B").
 */
const abExperiment = z.strictObject({
  /** The metric judged. @default the first evaluation metric */
  metric: z.string().optional(),
  /** Share of production's requests the candidate answers, percent. @default 10 */
  trafficPercent: z.number().gt(0).max(50).default(10),
  /**
   * The smallest worsening of the metric the test must detect (absolute, in the metric's units:
   * 0.02 accuracy, 0.1 rmse). Required: it sets the sample size.
   */
  minDetectableEffect: z.number().positive(),
  /** Two-sided significance level. @default 0.05 */
  alpha: z.number().gt(0).max(0.5).default(0.05),
  /** Probability of detecting a worsening of minDetectableEffect. @default 0.8 */
  power: z.number().min(0.5).lt(1).default(0.8),
  /** How long the candidate may take to reach the sample size. @default 7d */
  maxDuration: duration.prefault('7d'),
  /** Out of time: roll back (no promotion without evidence) or promote anyway. @default rollback */
  onTimeout: z.enum(['rollback', 'promote']).default('rollback'),
});

const manifestObject = z.strictObject({
  name: modelName,
  task: z.enum(['regression', 'classification']),
  /** Trigger globs relative to the repository root, as CodePipeline V2 file-path filters. */
  paths: z.array(z.string().min(1)).min(1).max(MAX_PATH_GLOBS, `at most ${MAX_PATH_GLOBS} globs (the CodePipeline V2 limit)`),
  /** The branch whose pushes release the model. @default main */
  branch: z.string().min(1).default('main'),
  build: z
    .strictObject({
      /** Buildspec path relative to the model directory. @default buildspec.yml */
      buildspec: z.string().default('buildspec.yml'),
      /** CodeBuild compute type on AWS. @default BUILD_GENERAL1_SMALL */
      computeType: z.enum(['BUILD_GENERAL1_SMALL', 'BUILD_GENERAL1_MEDIUM', 'BUILD_GENERAL1_LARGE']).default('BUILD_GENERAL1_SMALL'),
      /**
       * Build timeout: whole minutes from 5m to 36h (2160 minutes), CodeBuild's
       * `timeoutInMinutes` range; refused outside it rather than rounded into it.
       * @default 30m
       */
      timeout: duration.prefault('30m'),
    })
    .prefault({}),
  /** Where the model trains: in the build (the default) or a SageMaker training job after it (./training.ts). */
  training: trainingSchema.prefault({}),
  serve: z.strictObject({
    /** Command that starts the model server (SageMaker container contract). */
    command: z.string().min(1),
    /** SageMaker instance type on AWS. @default ml.m5.large */
    instanceType: z.string().default('ml.m5.large'),
    /** Instances per variant. @default 1 */
    instanceCount: z.number().int().positive().default(1),
  }),
  features: z.array(feature).min(1),
  /** The label column of the training and holdout data. */
  label: z.string().min(1),
  evaluation: z
    .strictObject({
      /** Metric gates. @default rmse (regression) or accuracy (classification), no bound, small tolerance */
      metrics: z.record(z.string(), metricGate).optional(),
      /** Bootstrap resamples for the metrics' standard deviation. @default 200 */
      bootstrap: z.number().int().min(0).max(10_000).default(200),
      /** Slices of the holdout gated one by one against production (categorical values or named numeric buckets). @default [] */
      slices: z.array(sliceSpec).max(16).default([]),
      /** How a slice fails: a regression beyond the metric's tolerance, significant after the correction. */
      sliceGate: sliceGate.prefault({}),
      /** Extra evaluation datasets of the bundle (same columns as the holdout), each gated as the slice `dataset=<name>`. @default [] */
      datasets: z.array(evaluationDataset).max(8).default([]),
    })
    .prefault({}),
  loadTest: z
    .strictObject({
      /** Target requests per second. @default 20 */
      rps: z.number().positive().max(10_000).default(20),
      /** Duration. @default 10s */
      duration: duration.prefault('10s'),
      /** Bound on the p99 latency. @default 500 */
      p99Ms: z.number().positive().default(500),
      /** Bound on the share of failed requests. @default 0.01 */
      maxErrorRate: z.number().min(0).max(1).default(0.01),
    })
    .prefault({}),
  staging: z
    .strictObject({
      /**
       * Keep the staging endpoint running after the release ends (to debug a candidate, or
       * to spare the next release its creation). Off, it is deleted at the end of every
       * release that deployed it, whatever the outcome, since an idle endpoint bills by the
       * hour. @default false
       */
      keepEndpoint: z.boolean().default(false),
    })
    .prefault({}),
  approval: z
    .strictObject({
      /** How long the approval waits before the release times out. @default 7d */
      timeout: duration.prefault('7d'),
      /**
       * The commit's author may not approve (or reject) their own change: the decision
       * function refuses a decision whose approver identity names the author (IAM session or
       * user name, or the local approver name, against the author's email, its local part or
       * name). A release whose author is unknown (a drift retraining, a release input
       * without `author`, and for now every pipeline release on AWS: CodePipeline's source
       * variables name no author) can be decided by anyone. @default true
       */
      separationOfDuties: z.boolean().default(true),
    })
    .prefault({}),
  deployment: z
    .strictObject({
      /**
       * Blue/green traffic shifting. SageMaker's limits apply (`./blue-green.ts`): a canary
       * is at most 50 % of the fleet and a linear step 10-50 %, in whole instances, so both
       * need `serve.instanceCount` >= 2.
       * @default canary with 2 or more instances, all-at-once (with bake and rollback alarms) with 1
       */
      strategy: z.enum(['all-at-once', 'canary', 'linear']).optional(),
      /** Share of capacity in the canary (1-50) or in each linear step (10-50), percent. @default 10 */
      stepPercent: z.number().int().min(1).max(99).default(10),
      /**
       * How long each step bakes while the rollback alarms are watched: at least 3m (the
       * alarms' 60 s period × 1 evaluation period + 120 s for CloudWatch to publish and
       * evaluate; `ROLLBACK_ALARM_TIMING`), at most 1h (SageMaker's WaitIntervalInSeconds).
       * @default 5m
       */
      bakeTime: duration.prefault('5m'),
      /** Rollback alarms. */
      alarms: z
        .strictObject({
          /** Roll back when the share of 5xx responses exceeds this. @default 0.01 */
          max5xxRate: z.number().min(0).max(1).default(0.01),
          /** Roll back when the p99 model latency exceeds this. @default 1000 */
          p99LatencyMs: z.number().positive().default(1000),
        })
        .prefault({}),
    })
    .prefault({}),
  drift: z
    .strictObject({
      /** EventBridge schedule expression. @default rate(7 days) */
      schedule: z
        .string()
        .regex(
          /^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\(\S+ \S+ \S+ \S+ \S+ \S+\))$/,
          'an EventBridge expression: rate(N unit) or cron(min hour day-of-month month day-of-week year)',
        )
        .default('rate(7 days)'),
      /** Capture window a check looks at. @default 7d */
      window: duration.prefault('7d'),
      /** Drift test per feature type; auto is Evidently's choice by type and reference size. @default auto */
      methods: z
        .strictObject({
          numeric: driftMethod.default('auto'),
          categorical: driftMethod.default('auto'),
          text: driftMethod.default('auto'),
        })
        .prefault({}),
      /** Threshold of the drift tests: p-value for statistical tests, distance otherwise. @default 0.05 / 0.1 */
      threshold: z.number().positive().optional(),
      /** PSI above which a feature drifts. @default 0.2 */
      psiThreshold: z.number().positive().default(0.2),
      /** Share of drifted features that makes the dataset drift. @default 0.5 */
      datasetDriftShare: z.number().gt(0).max(1).default(0.5),
      /** Fewer captured rows than this give no verdict. @default 100 */
      minSamples: z.number().int().positive().default(100),
      /** Bonferroni-correct p-value thresholds by the number of features. @default false */
      bonferroni: z.boolean().default(false),
      /**
       * When the window is judged by its data quality instead of its drift (verdict `data-quality`,
       * notified, no retraining): a share of unreadable capture lines or of one feature's non-finite
       * values above `maxSkippedShare` (@default 0.05), or a feature's missing share rising more than
       * `maxMissingIncrease` (@default 0.1, absolute) over the training data's, or reaching 100 %.
       */
      dataQuality: z
        .strictObject({
          maxSkippedShare: z.number().min(0).lt(1).default(0.05),
          maxMissingIncrease: z.number().min(0).lt(1).default(0.1),
        })
        .prefault({}),
      concept: z
        .strictObject({
          /** Metric compared with the evaluation baseline. @default the first evaluation metric */
          metric: z.string().optional(),
          tolerance,
          /** Fewer labelled rows than this give no verdict. @default 50 */
          minLabels: z.number().int().positive().default(50),
        })
        .prefault({}),
      retraining: z
        .strictObject({
          /** Start a release with trigger drift when the model drifts. @default true */
          enabled: z.boolean().default(true),
          /** Least time between two drift-triggered releases. @default 24h */
          cooldown: duration.prefault('24h'),
        })
        .prefault({}),
    })
    .prefault({}),
  /** Online experiments of the candidate against production (issue 18). */
  experiment: z
    .strictObject({
      /** The shadow stage between LoadTest and RequestApproval; absent, the release has none. @default null */
      shadow: shadowExperiment.nullable().default(null),
      /** The online A/B test after the approval; absent, the approved candidate is deployed at once. @default null */
      ab: abExperiment.nullable().default(null),
    })
    .prefault({}),
});

/** A slice must name a declared categorical or numeric feature; numeric ones need ascending buckets, categorical ones none. */
function sliceProblems(m: z.output<typeof manifestObject>): { path: (string | number)[]; message: string }[] {
  const problems: { path: (string | number)[]; message: string }[] = [];
  m.evaluation.slices.forEach((s, i) => {
    const path = ['evaluation', 'slices', i];
    const f = m.features.find((x) => x.name === s.feature);
    if (!f) return problems.push({ path: [...path, 'feature'], message: `"${s.feature}" is not one of the features` });
    if (f.type === 'text')
      return problems.push({
        path: [...path, 'feature'],
        message: `"${s.feature}" is a text feature; slice by a categorical or numeric one`,
      });
    if (f.type === 'categorical' && s.buckets)
      problems.push({
        path: [...path, 'buckets'],
        message: 'buckets are for numeric features; a categorical feature gives one slice per value',
      });
    if (f.type === 'numeric' && !s.buckets)
      problems.push({ path: [...path, 'buckets'], message: `"${s.feature}" is numeric: cut it into named buckets` });
    const buckets = s.buckets ?? [];
    buckets.forEach((b, j) => {
      const last = j === buckets.length - 1;
      if (last && b.below !== undefined)
        problems.push({ path: [...path, 'buckets', j, 'below'], message: 'the last bucket takes the rest: leave out its below' });
      if (!last && b.below === undefined)
        problems.push({ path: [...path, 'buckets', j, 'below'], message: 'every bucket but the last needs its upper edge (below)' });
      const prev = buckets[j - 1]?.below;
      if (b.below !== undefined && prev !== undefined && b.below <= prev)
        problems.push({ path: [...path, 'buckets', j, 'below'], message: `edges must ascend (${b.below} after ${prev})` });
    });
    if (new Set(buckets.map((b) => b.name)).size !== buckets.length)
      problems.push({ path: [...path, 'buckets'], message: 'duplicate bucket name' });
  });
  const seen = new Set<string>();
  m.evaluation.datasets.forEach((d, i) => {
    if (seen.has(d.name)) problems.push({ path: ['evaluation', 'datasets', i, 'name'], message: `duplicate dataset "${d.name}"` });
    seen.add(d.name);
  });
  return problems;
}

export const manifestSchema = manifestObject.superRefine((m, ctx) => {
  const names = new Set<string>();
  m.features.forEach((f, i) => {
    if (names.has(f.name)) ctx.addIssue({ code: 'custom', path: ['features', i, 'name'], message: `duplicate feature "${f.name}"` });
    names.add(f.name);
    if (f.name === m.label) ctx.addIssue({ code: 'custom', path: ['features', i, 'name'], message: 'the label cannot also be a feature' });
  });
  sliceProblems(m).forEach((issue) => ctx.addIssue({ code: 'custom', ...issue }));
  const allowed: readonly string[] = m.task === 'regression' ? REGRESSION_METRICS : CLASSIFICATION_METRICS;
  for (const metric of Object.keys(m.evaluation.metrics ?? {})) {
    if (!allowed.includes(metric)) {
      ctx.addIssue({
        code: 'custom',
        path: ['evaluation', 'metrics', metric],
        message: `unknown ${m.task} metric; allowed: ${allowed.join(', ')}`,
      });
    }
  }
  for (const p of deploymentProblems(m.deployment, m.serve.instanceCount))
    ctx.addIssue({ code: 'custom', path: p.path, message: p.message });
  const buildTimeout = m.build.timeout;
  if (buildTimeout % 60 !== 0 || buildTimeout < BUILD_TIMEOUT_MINUTES.min * 60 || buildTimeout > BUILD_TIMEOUT_MINUTES.max * 60) {
    ctx.addIssue({
      code: 'custom',
      path: ['build', 'timeout'],
      message: `whole minutes from ${BUILD_TIMEOUT_MINUTES.min}m to ${BUILD_TIMEOUT_MINUTES.max / 60}h (CodeBuild's timeoutInMinutes, ${BUILD_TIMEOUT_MINUTES.min}-${BUILD_TIMEOUT_MINUTES.max}), got ${buildTimeout}s`,
    });
  }
  // The drift check refuses these only when it first runs, a week after the deployment.
  const categorical = m.drift.methods.categorical;
  if (NUMERIC_ONLY_DRIFT_METHODS.includes(categorical)) {
    ctx.addIssue({
      code: 'custom',
      path: ['drift', 'methods', 'categorical'],
      message: `"${categorical}" needs numbers, and categorical features (and a classifier's predicted class) have none; use ${DRIFT_METHODS.filter((d) => !NUMERIC_ONLY_DRIFT_METHODS.includes(d)).join(', ')}`,
    });
  }
  for (const p of experimentProblems(m)) ctx.addIssue({ code: 'custom', path: p.path, message: p.message });
  for (const p of abProblems(m)) ctx.addIssue({ code: 'custom', path: p.path, message: p.message });
  const concept = m.drift.concept.metric;
  if (concept !== undefined && !allowed.includes(concept)) {
    ctx.addIssue({
      code: 'custom',
      path: ['drift', 'concept', 'metric'],
      message: `unknown ${m.task} metric; allowed: ${allowed.join(', ')}`,
    });
  }
});

/** Shadow bounds that belong to the other task. */
function experimentProblems(m: z.output<typeof manifestObject>): { path: string[]; message: string }[] {
  const bounds = m.experiment.shadow?.bounds;
  if (!bounds) return [];
  const path = (f: string) => ['experiment', 'shadow', 'bounds', f];
  if (m.task === 'regression' && bounds.minAgreement != null)
    return [{ path: path('minAgreement'), message: 'an agreement of labels applies to classification models only' }];
  if (m.task === 'classification')
    return (['maxMeanAbsDifference', 'maxP95AbsDifference'] as const)
      .filter((f) => bounds[f] !== null)
      .map((f) => ({ path: path(f), message: 'a difference of values applies to regression models only' }));
  return [];
}

/** The A/B metric must have a per-request form and belong to the task; an accuracy effect must leave room below 1. */
function abProblems(m: z.output<typeof manifestObject>): { path: string[]; message: string }[] {
  const ab = m.experiment.ab;
  if (!ab) return [];
  const metric = abMetricOf(ab, m.evaluation.metrics, m.task);
  const path = (f: string) => ['experiment', 'ab', f];
  if (!(AB_TEST_METRICS as readonly string[]).includes(metric))
    return [
      {
        path: path('metric'),
        message: `"${metric}" has no per-request form the test could compare; use one of ${AB_TEST_METRICS.join(', ')} (set experiment.ab.metric)`,
      },
    ];
  if ((metric === 'accuracy') !== (m.task === 'classification'))
    return [{ path: path('metric'), message: `${metric} is not a ${m.task} metric` }];
  if (metric === 'accuracy' && ab.minDetectableEffect >= 1)
    return [{ path: path('minDetectableEffect'), message: `an accuracy worsening must be below 1, got ${ab.minDetectableEffect}` }];
  return [];
}

const abMetricOf = (ab: { metric?: string }, metrics: Record<string, unknown> | undefined, task: 'regression' | 'classification') =>
  ab.metric ?? Object.keys(metrics ?? DEFAULT_METRICS[task])[0]!;

/** The strategy when the manifest names none: a canary where SageMaker allows one. */
const defaultStrategy = (instanceCount: number): 'canary' | 'all-at-once' => (instanceCount >= 2 ? 'canary' : 'all-at-once');

const ROUTING_TYPE = { 'all-at-once': 'ALL_AT_ONCE', canary: 'CANARY', linear: 'LINEAR' } as const;

/** The deployment's conflicts with SageMaker's blue/green rules, each at the manifest field to change. */
function deploymentProblems(
  d: z.output<typeof manifestObject>['deployment'],
  instanceCount: number,
): { path: string[]; message: string }[] {
  const strategy = d.strategy ?? defaultStrategy(instanceCount);
  const t = ROLLBACK_ALARM_TIMING;
  const tooShort =
    d.bakeTime < minimumBakeSeconds()
      ? [
          {
            path: ['deployment', 'bakeTime'],
            message: `at least ${minimumBakeSeconds()}s, or the rollback alarms cannot fire before the bake ends (period ${t.periodSeconds}s × ${t.evaluationPeriods} evaluation period + ${t.ingestionMarginSeconds}s for CloudWatch to publish and evaluate SageMaker's metrics), got ${d.bakeTime}s`,
          },
        ]
      : [];
  const field = { step: ['deployment', 'stepPercent'], instances: ['deployment', 'strategy'], wait: ['deployment', 'bakeTime'] } as const;
  return [
    ...tooShort,
    ...blueGreenProblems(ROUTING_TYPE[strategy], { type: 'CAPACITY_PERCENT', value: d.stepPercent }, instanceCount, d.bakeTime).map(
      (p) => ({
        path: [...field[p.subject]],
        message:
          p.subject === 'instances'
            ? `${strategy} with serve.instanceCount ${instanceCount}: ${p.message}; use all-at-once or raise serve.instanceCount`
            : `${strategy}: ${p.message}`,
      }),
    ),
  ];
}

type Parsed = z.output<typeof manifestSchema>;
export type MetricGate = z.output<typeof metricGate>;
export type FeatureSpec = z.output<typeof feature>;

/** A manifest with every default applied. Durations are in seconds. */
/** `experiment.shadow` with every default filled in (minAgreement is null for regression). */
export type ShadowExperiment = Omit<NonNullable<Parsed['experiment']['shadow']>, 'bounds'> & {
  bounds: Omit<NonNullable<Parsed['experiment']['shadow']>['bounds'], 'minAgreement'> & { minAgreement: number | null };
};

/** `experiment.ab` with every default filled in (the metric named). */
export type AbExperiment = Omit<NonNullable<Parsed['experiment']['ab']>, 'metric'> & { metric: (typeof AB_TEST_METRICS)[number] };

export type ModelManifest = Omit<Parsed, 'evaluation' | 'drift' | 'deployment' | 'experiment'> & {
  experiment: { shadow: ShadowExperiment | null; ab: AbExperiment | null };
  deployment: Parsed['deployment'] & { strategy: NonNullable<Parsed['deployment']['strategy']> };
  evaluation: Omit<Parsed['evaluation'], 'metrics'> & { metrics: Record<string, MetricGate> };
  drift: Omit<Parsed['drift'], 'concept'> & { concept: Parsed['drift']['concept'] & { metric: string } };
};

/** A manifest that failed validation: the message names the file, the field and what is allowed. */
export class ManifestError extends Error {
  constructor(
    message: string,
    readonly file: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ManifestError';
  }
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const field = issue.path.length ? issue.path.join('.') : '(top level)';
  if (issue.code === 'invalid_value') return `${field}: must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  if (issue.code === 'unrecognized_keys')
    return `${issue.keys.join(', ')}: unknown field${issue.keys.length > 1 ? 's' : ''}${issue.path.length ? ` in ${field}` : ''}`;
  return `${field}: ${issue.message}`;
}

/**
 * Validate a parsed YAML document as a manifest and fill in the defaults.
 * @param file the path used in error messages
 */
export function parseManifest(doc: unknown, file: string): ModelManifest {
  const result = manifestSchema.safeParse(doc);
  if (!result.success) {
    const problems = result.error.issues.map(describeIssue).join('; ');
    throw new ManifestError(`${file}: ${problems}`, file, { cause: result.error });
  }
  const m = result.data;
  const metrics = m.evaluation.metrics ?? (DEFAULT_METRICS[m.task] as Record<string, MetricGate>);
  return {
    ...m,
    evaluation: { ...m.evaluation, metrics },
    deployment: { ...m.deployment, strategy: m.deployment.strategy ?? defaultStrategy(m.serve.instanceCount) },
    drift: { ...m.drift, concept: { ...m.drift.concept, metric: m.drift.concept.metric ?? Object.keys(metrics)[0]! } },
    experiment: {
      shadow: withShadowDefaults(m.experiment.shadow, m.task),
      ab: m.experiment.ab && { ...m.experiment.ab, metric: abMetricOf(m.experiment.ab, metrics, m.task) as AbExperiment['metric'] },
    },
  };
}

/** The agreement bound's default depends on the task: 0.9 for classification, none for regression. */
function withShadowDefaults(shadow: Parsed['experiment']['shadow'], task: Parsed['task']): ShadowExperiment | null {
  if (!shadow) return null;
  const minAgreement = shadow.bounds.minAgreement === undefined ? (task === 'classification' ? 0.9 : null) : shadow.bounds.minAgreement;
  return { ...shadow, bounds: { ...shadow.bounds, minAgreement } };
}
