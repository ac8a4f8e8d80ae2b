/**
 * The weekly report: per model, the releases of the week and their outcomes, the production
 * version and its age, the drift and concept verdicts of the week's checks, and the traffic
 * the endpoints captured. Pure: the history comes in (collect.ts reads it), the report and
 * its text go out.
 */

/** One version record, as far as the report reads it (lambdas/shared/registry.ts VersionRecord). */
export interface HistoryVersion {
  version: string;
  createdAt: string;
  trigger?: string;
  outcome: { state: string; at: string; cause?: string } | null;
}

export interface HistoryDriftRun {
  run: string;
  generatedAt: string;
  verdict: string;
  driftShare: number | null;
  concept: { verdict: string; metric: string; value: number | null } | null;
}

export interface ModelHistory {
  model: string;
  versions: HistoryVersion[];
  production: { version: string; since: string } | null;
  driftRuns: HistoryDriftRun[];
  /** Captured requests per hour partition start (ISO 8601), from the data capture. */
  capturedByHour: { hour: string; requests: number }[];
}

export interface ModelWeek {
  model: string;
  releases: {
    total: number;
    /** Outcome -> count; a release without an outcome yet counts as `running`. */
    byOutcome: Record<string, number>;
    items: { version: string; trigger?: string; outcome: string; at: string; cause?: string }[];
  };
  production: { version: string; since: string; ageDays: number } | null;
  drift: {
    runs: number;
    drifted: number;
    latest: { run: string; at: string; verdict: string; driftShare: number | null; concept: HistoryDriftRun['concept'] } | null;
  };
  traffic: { requests: number };
}

export interface WeeklyReport {
  deployment: string;
  generatedAt: string;
  from: string;
  to: string;
  models: ModelWeek[];
  totals: { models: number; releases: number; succeeded: number; failed: number; requests: number };
  /** Records left out because they were corrupt, each named by its key and the field at fault. */
  notes: string[];
}

export const WEEK_MS = 7 * 86_400_000;

const within = (at: string, from: number, to: number) => {
  const t = Date.parse(at);
  return t >= from && t < to;
};

function releasesOf(versions: HistoryVersion[], from: number, to: number): ModelWeek['releases'] {
  // A release belongs to the week it ended in; one still running, to the week it started in.
  const items = versions
    .map((v) => ({
      version: v.version,
      trigger: v.trigger,
      outcome: v.outcome?.state ?? 'running',
      at: v.outcome?.at ?? v.createdAt,
      cause: v.outcome?.cause,
    }))
    .filter((r) => within(r.at, from, to))
    .sort((a, b) => a.at.localeCompare(b.at));
  const byOutcome: Record<string, number> = {};
  for (const r of items) byOutcome[r.outcome] = (byOutcome[r.outcome] ?? 0) + 1;
  return { total: items.length, byOutcome, items };
}

function driftOf(runs: HistoryDriftRun[], from: number, to: number): ModelWeek['drift'] {
  const week = runs.filter((r) => within(r.generatedAt, from, to)).sort((a, b) => a.generatedAt.localeCompare(b.generatedAt));
  const last = week.at(-1);
  return {
    runs: week.length,
    drifted: week.filter((r) => r.verdict === 'drift').length,
    latest: last
      ? { run: last.run, at: last.generatedAt, verdict: last.verdict, driftShare: last.driftShare, concept: last.concept }
      : null,
  };
}

/** Days, to one decimal: enough to tell a fresh version from a stale one. */
const ageDays = (since: string, now: number) => Math.round(((now - Date.parse(since)) / 86_400_000) * 10) / 10;

/** The report of the week ending at `now`. */
export function buildWeeklyReport(history: ModelHistory[], opts: { deployment: string; now: Date; notes?: string[] }): WeeklyReport {
  const to = opts.now.getTime();
  const from = to - WEEK_MS;
  const models = [...history]
    .sort((a, b) => a.model.localeCompare(b.model))
    .map((h): ModelWeek => ({
      model: h.model,
      releases: releasesOf(h.versions, from, to),
      production: h.production ? { ...h.production, ageDays: ageDays(h.production.since, to) } : null,
      drift: driftOf(h.driftRuns, from, to),
      traffic: { requests: h.capturedByHour.filter((c) => within(c.hour, from, to)).reduce((s, c) => s + c.requests, 0) },
    }));
  const count = (pred: (outcome: string) => boolean) =>
    models.reduce((s, m) => s + Object.entries(m.releases.byOutcome).reduce((t, [o, n]) => t + (pred(o) ? n : 0), 0), 0);
  return {
    deployment: opts.deployment,
    generatedAt: opts.now.toISOString(),
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    models,
    totals: {
      models: models.length,
      releases: models.reduce((s, m) => s + m.releases.total, 0),
      succeeded: count((o) => o === 'succeeded'),
      failed: count((o) => o !== 'succeeded' && o !== 'running' && o !== 'superseded'),
      requests: models.reduce((s, m) => s + m.traffic.requests, 0),
    },
    notes: [...(opts.notes ?? [])].sort(),
  };
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

function modelLines(m: ModelWeek): string[] {
  const outcomes = Object.entries(m.releases.byOutcome)
    .map(([o, n]) => `${n} ${o}`)
    .join(', ');
  const latest = m.drift.latest;
  const value = latest?.concept?.value;
  const concept = latest?.concept
    ? `, concept ${latest.concept.verdict} (${latest.concept.metric} ${value === null || value === undefined ? '—' : Number(value.toPrecision(4))})`
    : '';
  const drift = latest
    ? `${plural(m.drift.runs, 'check')}, ${m.drift.drifted} drifted; latest ${latest.verdict}${latest.driftShare === null ? '' : ` (share ${Math.round(latest.driftShare * 100)}%)`}${concept}`
    : 'no check this week';
  return [
    `${m.model}: ${plural(m.releases.total, 'release')}${outcomes ? ` (${outcomes})` : ''}`,
    `  production ${m.production ? `${m.production.version}, ${m.production.ageDays} days old` : 'none'}`,
    `  drift: ${drift}`,
    `  traffic: ${plural(m.traffic.requests, 'request')}`,
    // Why each release that did not succeed ended; a success's cause is only "promoted".
    ...m.releases.items.filter((r) => r.cause && r.outcome !== 'succeeded').map((r) => `  ${r.version} ${r.outcome}: ${r.cause}`),
  ];
}

/** The report as the plain text an SNS e-mail subscription shows. */
export function renderWeeklyText(r: WeeklyReport): string {
  const t = r.totals;
  return [
    `mlship weekly report, ${r.deployment}: ${r.from.slice(0, 10)} – ${r.to.slice(0, 10)}`,
    `${plural(t.models, 'model')}, ${plural(t.releases, 'release')} (${t.succeeded} succeeded, ${t.failed} failed), ${plural(t.requests, 'request')} captured`,
    '',
    ...r.models.flatMap((m) => [...modelLines(m), '']),
    ...r.notes.map((n) => `left out: ${n}`),
  ].join('\n');
}
