/**
 * What the model page shows over time, read from the records the releases and the drift
 * checks wrote (registry versions, validation.json, quality-report.json, drift-report.json,
 * the build's params.json) through the console's S3 store. Each document is checked with a
 * zod schema of the fields the page uses: a document that does not match is named in `notes`
 * and left out, never cast and half-shown.
 */
import * as z from 'zod';
import type { ConsoleData, ReleaseSummary } from './data';
import type { S3Store } from './s3-store';

const num = z.number().nullable();

const versionRecordSchema = z.looseObject({
  version: z.string(),
  createdAt: z.string().optional(),
  status: z.string().optional(),
  commitId: z.string().optional(),
  trigger: z.string().optional(),
  reason: z.string().nullish(),
  build: z.looseObject({ imageDigest: z.string().nullish(), imageUri: z.string().nullish() }).nullish(),
  training: z.looseObject({ dataUri: z.string().optional(), sha256: z.string().optional(), rows: z.number().optional() }).nullish(),
  approval: z.looseObject({ decision: z.string().optional(), by: z.string().nullish(), at: z.string().optional() }).nullish(),
  lineage: z.looseObject({ previousProduction: z.string().nullish() }).nullish(),
  outcome: z.looseObject({ state: z.string(), at: z.string().optional(), cause: z.string().optional() }).nullish(),
  execution: z.looseObject({ arn: z.string().optional() }).nullish(),
  /** The build's params.json as EvaluateModel recorded it (lambdas/shared/bundle.ts readBundleParams). */
  hyperparameters: z.looseObject({ values: z.record(z.string(), z.unknown()) }).nullish(),
});

const validationSchema = z.looseObject({
  validation_ok: z.boolean(),
  checks: z.array(z.looseObject({ metric: z.string(), kind: z.string(), ok: z.boolean(), value: num, bound: num, baseline: num })),
});

const qualitySchema = z.looseObject({
  evaluation: z.looseObject({ metrics: z.record(z.string(), z.number()), dummy: z.record(z.string(), z.number()).optional() }),
  gates: z.record(z.string(), z.looseObject({ direction: z.string().optional(), bound: z.number().optional() })).optional(),
  lineage: z
    .looseObject({
      commit: z.string().optional(),
      imageDigest: z.string().optional(),
      dataDigests: z.record(z.string(), z.string()).optional(),
    })
    .optional(),
});

const driftReportSchema = z.looseObject({
  generatedAt: z.string().optional(),
  version: z.string().optional(),
  verdict: z.string().optional(),
  data: z
    .looseObject({
      verdict: z.string().optional(),
      driftShare: z.number(),
      options: z.looseObject({ datasetDriftShare: z.number().optional() }).optional(),
      columns: z.array(
        z.looseObject({ column: z.string(), statistic: num, drifted: z.boolean().nullable(), method: z.string().optional() }),
      ),
    })
    .nullish(),
  concept: z
    .looseObject({
      verdict: z.string(),
      metric: z.string(),
      value: num,
      baseline: z.number(),
      limit: z.number(),
      direction: z.string().optional(),
    })
    .nullish(),
});

/** One gated metric of one version: its value, the gate's bounds and the dummy baseline. */
export interface MetricPoint {
  value: number | null;
  /** The manifest's absolute bound (validation.json check kind `bound`). */
  bound: number | null;
  /** The least acceptable value against production (check kind `no-regression`). */
  noRegression: number | null;
  /** The best-constant predictor's value (quality-report.json evaluation.dummy). */
  dummy: number | null;
  ok: boolean | null;
}

export interface VersionTrend {
  version: string;
  createdAt?: string;
  status?: string;
  trigger?: string;
  outcome?: { state: string; at?: string; cause?: string };
  executionArn?: string;
  metrics: Record<string, MetricPoint>;
  directions: Record<string, string>;
  lineage: Lineage;
}

export interface Lineage {
  commit?: string;
  imageDigest?: string;
  trainingDigest?: string;
  holdoutDigest?: string;
  /** The build's params.json (hyperparameters), when the build left one. */
  params?: Record<string, unknown>;
  /** The production version this one was built against (its parent for a retraining release). */
  parent?: string;
  approver?: string;
  reason?: string;
}

export interface DriftRunTrend {
  run: string;
  at?: string;
  version?: string;
  verdict?: string;
  /** Share of drifted features (prediction excluded), and the share at which the dataset drifts. */
  driftShare: number | null;
  threshold: number | null;
  /** Column -> the drift test's statistic and whether it drifted. */
  columns: Record<string, { statistic: number | null; drifted: boolean | null; method?: string }>;
  concept?: { verdict: string; metric: string; value: number | null; baseline: number; limit: number; direction?: string };
}

export interface TimelineEntry {
  at: string;
  version?: string;
  trigger?: string;
  /** The release's end: a registry outcome (succeeded, gate-failed, …) or the execution status while it runs. */
  outcome: string;
  cause?: string;
  executionArn?: string;
}

export interface ModelTrends {
  versions: VersionTrend[];
  driftRuns: DriftRunTrend[];
  timeline: TimelineEntry[];
  notes: string[];
}

/** Parse `value` with `schema`; a mismatch is a note naming the key and the first field at fault. */
function check<T>(schema: z.ZodType<T>, value: unknown, key: string, notes: string[]): T | undefined {
  if (value === undefined) return undefined;
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  notes.push(`${key}: ${issue ? `${issue.path.join('.') || '(document)'}: ${issue.message}` : 'unexpected shape'}; left out`);
  return undefined;
}

async function readChecked<T>(store: S3Store, key: string, schema: z.ZodType<T>, notes: string[]): Promise<T | undefined> {
  try {
    return check(schema, await store.json(key), key, notes);
  } catch (err) {
    notes.push(`cannot read ${key}: ${(err as Error).name}: ${(err as Error).message}`);
    return undefined;
  }
}

function metricPoints(
  validation: z.infer<typeof validationSchema> | undefined,
  quality: z.infer<typeof qualitySchema> | undefined,
  fallback: Record<string, unknown>,
): Record<string, MetricPoint> {
  const out: Record<string, MetricPoint> = {};
  const point = (m: string): MetricPoint => (out[m] ??= { value: null, bound: null, noRegression: null, dummy: null, ok: null });
  const gated = new Set([...(validation?.checks ?? []).map((c) => c.metric), ...Object.keys(quality?.gates ?? {})]);
  for (const m of gated) {
    const p = point(m);
    p.value = quality?.evaluation.metrics[m] ?? (typeof fallback[m] === 'number' ? (fallback[m] as number) : null);
    p.dummy = quality?.evaluation.dummy?.[m] ?? null;
    p.bound = quality?.gates?.[m]?.bound ?? null;
  }
  for (const c of validation?.checks ?? []) {
    const p = point(c.metric);
    if (c.value !== null) p.value = c.value;
    if (c.kind === 'bound') p.bound = c.bound;
    if (c.kind === 'no-regression') p.noRegression = c.bound;
    p.ok = (p.ok ?? true) && c.ok;
  }
  return out;
}

/** The first params.json the build left in the version's bundle (the breast-cancer model writes one). */
async function readParams(store: S3Store, model: string, version: string, notes: string[]): Promise<Record<string, unknown> | undefined> {
  const prefix = `builds/${model}/${version}/`;
  const key = (await store.keys(prefix).catch(() => [])).map((k) => k.key).find((k) => k.endsWith('/params.json'));
  return key ? readChecked(store, key, z.record(z.string(), z.unknown()), notes) : undefined;
}

async function versionTrend(
  store: S3Store,
  model: string,
  raw: unknown,
  notes: string[],
  withParams: boolean,
): Promise<VersionTrend | undefined> {
  const v = check(versionRecordSchema, raw, `registry/${model}/versions/`, notes);
  if (!v) return undefined;
  const base = `reports/${model}/${v.version}/`;
  const [validation, quality, params] = await Promise.all([
    readChecked(store, `${base}validation.json`, validationSchema, notes),
    readChecked(store, `${base}quality-report.json`, qualitySchema, notes),
    // Recorded by EvaluateModel (readable on AWS too); older records: the bundle, where it may be read.
    v.hyperparameters ? v.hyperparameters.values : withParams ? readParams(store, model, v.version, notes) : undefined,
  ]);
  const evaluation = (v as Record<string, unknown>).evaluation as { metrics?: Record<string, unknown> } | null | undefined;
  const digests = quality?.lineage?.dataDigests ?? {};
  const digestOf = (re: RegExp) => Object.entries(digests).find(([file]) => re.test(file))?.[1];
  return {
    version: v.version,
    createdAt: v.createdAt,
    status: v.status,
    trigger: v.trigger,
    outcome: v.outcome ?? undefined,
    executionArn: v.execution?.arn,
    metrics: metricPoints(validation, quality, evaluation?.metrics ?? {}),
    directions: Object.fromEntries(Object.entries(quality?.gates ?? {}).map(([m, g]) => [m, g.direction ?? ''])),
    lineage: {
      commit: v.commitId ?? quality?.lineage?.commit,
      imageDigest: v.build?.imageDigest ?? quality?.lineage?.imageDigest,
      trainingDigest: v.training?.sha256 ?? digestOf(/train/),
      holdoutDigest: digestOf(/holdout/),
      params,
      parent: v.lineage?.previousProduction ?? undefined,
      approver: v.approval?.decision === 'approved' ? (v.approval.by ?? undefined) : undefined,
      reason: v.reason ?? undefined,
    },
  };
}

async function driftRunTrend(store: S3Store, model: string, run: string, notes: string[]): Promise<DriftRunTrend | undefined> {
  const r = await readChecked(store, `monitoring/${model}/${run}/drift-report.json`, driftReportSchema, notes);
  if (!r) return undefined;
  const columns: DriftRunTrend['columns'] = {};
  for (const c of r.data?.columns ?? []) columns[c.column] = { statistic: c.statistic, drifted: c.drifted, method: c.method };
  return {
    run,
    at: r.generatedAt,
    version: r.version,
    verdict: r.verdict,
    driftShare: r.data?.driftShare ?? null,
    threshold: r.data?.options?.datasetDriftShare ?? null,
    columns,
    concept: r.concept ?? undefined,
  };
}

/** The release timeline: each version's recorded outcome, and releases still running or with no version record. */
function timeline(versions: VersionTrend[], releases: ReleaseSummary[]): TimelineEntry[] {
  const out: TimelineEntry[] = versions.map((v) => ({
    at: v.outcome?.at ?? v.createdAt ?? '',
    version: v.version,
    trigger: v.trigger,
    outcome: v.outcome?.state ?? v.status ?? 'unknown',
    cause: v.outcome?.cause,
    executionArn: v.executionArn,
  }));
  const known = new Set(versions.map((v) => v.executionArn).filter(Boolean));
  for (const r of releases) {
    if (known.has(r.executionArn)) continue;
    out.push({
      at: (r.stopDate ?? r.startDate)?.toISOString() ?? '',
      version: r.version,
      trigger: r.trigger,
      outcome: r.status.toLowerCase(),
      cause: r.cause,
      executionArn: r.executionArn,
    });
  }
  return out.sort((a, b) => a.at.localeCompare(b.at));
}

/**
 * Everything the model page charts, oldest first. At most `maxRuns` drift runs (the latest).
 * `params`: read a build's params.json from the bundle when its version record has none (records
 * before EvaluateModel recorded `hyperparameters`); off on AWS, where the approver policy grants no
 * read of builds/ (the bundles and their data), so there only recorded hyperparameters show.
 */
export async function readModelTrends(
  data: ConsoleData,
  model: string,
  releases: ReleaseSummary[],
  opts: { maxRuns?: number; params?: boolean } = {},
): Promise<ModelTrends> {
  const notes: string[] = [];
  const [records, runs] = await Promise.all([
    data.versions(model).catch((err: Error) => (notes.push(`cannot list registry/${model}/versions/: ${err.message}`), [])),
    data.driftRuns(model).catch((err: Error) => (notes.push(`cannot list monitoring/${model}/: ${err.message}`), [] as string[])),
  ]);
  const versions = (await Promise.all(records.map((r) => versionTrend(data.store, model, r, notes, opts.params ?? true)))).filter(
    (v): v is VersionTrend => v !== undefined,
  );
  versions.sort((a, b) => String(a.createdAt ?? a.version).localeCompare(String(b.createdAt ?? b.version)));
  const latest = runs.slice(0, opts.maxRuns ?? 30).reverse();
  const driftRuns = (await Promise.all(latest.map((run) => driftRunTrend(data.store, model, run, notes)))).filter(
    (r): r is DriftRunTrend => r !== undefined,
  );
  return { versions, driftRuns, timeline: timeline(versions, releases), notes };
}
