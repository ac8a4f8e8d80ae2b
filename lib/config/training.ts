import * as z from 'zod';

/**
 * The manifest's optional `training` stage: where the model trains after the build step.
 *
 * `mode: build` (the default) is training inside the CodeBuild build, as the buildspec does
 * it. `mode: sagemaker` runs a SageMaker training job with the model's image after the build
 * (tests, lint, smoke run and image build stay in the build), and the `model.tar.gz` it
 * writes is what staging and production serve. The limits below are SageMaker's
 * CreateTrainingJob constraints (botocore's sagemaker service model), so a manifest that
 * loads is one SageMaker accepts.
 */

/** SageMaker's MaxRuntimeInSeconds ceiling (28 days, after a quota increase; 5 days by default). */
export const MAX_TRAINING_RUNTIME_SECONDS = 28 * 86400;
/** CreateTrainingJob limits: 100 hyperparameters, 40 metric definitions, 20 channels. */
export const TRAINING_LIMITS = { hyperparameters: 100, metrics: 40, channels: 20 } as const;

const seconds = z
  .string()
  .regex(/^\d+(s|m|h|d)$/, 'a duration such as 90s, 30m, 12h or 7d')
  .transform((s) => Number(s.slice(0, -1)) * { s: 1, m: 60, h: 3600, d: 86400 }[s.at(-1) as 's' | 'm' | 'h' | 'd']);

const s3Prefix = z.string().regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/, 'an S3 URI such as s3://bucket/prefix/');

/**
 * A channel name becomes SM_CHANNEL_<NAME> and /opt/ml/input/data/<name>: SageMaker's ChannelName
 * rule. Checked in superRefine, since zod reports a bad record key only as "Invalid key in record".
 */
const CHANNEL_NAME = /^[A-Za-z0-9._-]{1,64}$/;

const channel = z.union(
  [
    z.strictObject({
      /** Every object under this S3 prefix. */
      s3: s3Prefix,
    }),
    z.strictObject({
      /** A folder of the build's output (its artifact files), '' or '.' for all of it. */
      build: z
        .string()
        .refine((p) => !p.split('/').includes('..') && !p.startsWith('/'), 'a relative folder inside the build output')
        .transform((p) => (p === '.' ? '' : p.replace(/^\.\//, '').replace(/\/?$/, p === '' || p === '.' ? '' : '/'))),
    }),
  ],
  { error: 'either { s3: s3://bucket/prefix/ } or { build: <folder of the build output> }' },
);

const metricDefinition = z.strictObject({
  /** The metric's name, as SageMaker reports it in FinalMetricDataList. */
  name: z.string().min(1).max(255),
  /** A regex over the training log whose first group is the value (SageMaker's MetricDefinition). */
  regex: z
    .string()
    .min(1)
    .max(500)
    .refine((r) => {
      try {
        return new RegExp(r).source.length > 0;
      } catch {
        return false;
      }
    }, 'a valid regular expression'),
});

const hyperparameter = z.union([z.string().max(2500), z.number(), z.boolean()]).transform((v) => String(v));

export const trainingSchema = z
  .strictObject({
    /** build: train inside the CodeBuild build; sagemaker: a SageMaker training job after it. @default build */
    mode: z.enum(['build', 'sagemaker']).default('build'),
    /**
     * What trains, run in the image's working directory under SageMaker's training contract
     * (the job's ContainerEntrypoint, `/bin/sh -c <command>`). Required with mode sagemaker.
     */
    command: z.string().min(1).max(256).optional(),
    /** SageMaker training instance type. @default ml.m5.large */
    instanceType: z
      .string()
      .regex(/^ml\.[a-z0-9-]+\.[a-z0-9]+$/, 'a SageMaker training instance type such as ml.m5.large or ml.g5.xlarge')
      .default('ml.m5.large'),
    /** Instances of the job. @default 1 */
    instanceCount: z.number().int().min(1).max(100).default(1),
    /** The job's MaxRuntimeInSeconds: it is stopped after this. @default 1h */
    maxRuntime: seconds.prefault('1h'),
    /** Managed spot training: cheaper, interruptible, resumed from the checkpoints. @default off */
    spot: z
      .strictObject({
        enabled: z.boolean().default(false),
        /** How long to wait for spot capacity and run, at least maxRuntime. @default 2 × maxRuntime */
        maxWait: seconds.optional(),
        /** Where the job's /opt/ml/checkpoints are synced; required with spot. */
        checkpointPath: s3Prefix.optional(),
      })
      .prefault({}),
    /** SageMaker HyperParameters (strings; numbers and booleans are written as text). @default {} */
    hyperparameters: z.record(z.string().min(1).max(256), hyperparameter).default({}),
    /** Input channels by name. @default { train: { build: data/ } } */
    channels: z.record(z.string(), channel).default({ train: { build: 'data/' } }),
    /** Metric definitions: regexes over the log, as SageMaker defines them. @default [] */
    metrics: z.array(metricDefinition).max(TRAINING_LIMITS.metrics).default([]),
  })
  .superRefine((t, ctx) => {
    const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    if (t.mode === 'sagemaker' && !t.command) issue(['command'], 'required with mode sagemaker: the command that trains inside the image');
    if (t.maxRuntime < 1 || t.maxRuntime > MAX_TRAINING_RUNTIME_SECONDS)
      issue(['maxRuntime'], `from 1s to ${MAX_TRAINING_RUNTIME_SECONDS / 86400}d (SageMaker's MaxRuntimeInSeconds), got ${t.maxRuntime}s`);
    if (t.spot.enabled && !t.spot.checkpointPath)
      issue(['spot', 'checkpointPath'], 'required with spot: an interrupted spot job resumes from its checkpoints');
    if (t.spot.maxWait !== undefined && t.spot.maxWait < t.maxRuntime)
      issue(
        ['spot', 'maxWait'],
        `at least maxRuntime (${t.maxRuntime}s), as SageMaker requires of MaxWaitTimeInSeconds; got ${t.spot.maxWait}s`,
      );
    if (Object.keys(t.hyperparameters).length > TRAINING_LIMITS.hyperparameters)
      issue(['hyperparameters'], `at most ${TRAINING_LIMITS.hyperparameters} (SageMaker's limit)`);
    const names = Object.keys(t.channels);
    if (names.length === 0 || names.length > TRAINING_LIMITS.channels)
      issue(['channels'], `1 to ${TRAINING_LIMITS.channels} channels (SageMaker's InputDataConfig limit)`);
    const lower = new Map<string, string>();
    for (const n of names) {
      if (!CHANNEL_NAME.test(n)) issue(['channels', n], "1-64 letters, digits, '.', '-' or '_' (SageMaker's ChannelName)");
      // SM_CHANNEL_<NAME> is upper case: two channels differing by case would share it.
      const key = n.toUpperCase();
      if (lower.has(key)) issue(['channels', n], `clashes with channel "${lower.get(key)}": both are SM_CHANNEL_${key}`);
      lower.set(key, n);
    }
    const seen = new Set<string>();
    t.metrics.forEach((m, i) => {
      if (seen.has(m.name)) issue(['metrics', i, 'name'], `duplicate metric "${m.name}"`);
      seen.add(m.name);
    });
  })
  .transform((t) => ({
    ...t,
    spot: { ...t.spot, maxWait: t.spot.maxWait ?? Math.min(2 * t.maxRuntime, MAX_TRAINING_RUNTIME_SECONDS) },
  }));

export type TrainingSpec = z.output<typeof trainingSchema>;
