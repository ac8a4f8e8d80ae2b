/**
 * The model page's "how is it doing" sections: gated metrics per version against their
 * bounds and the dummy baseline, drift over time, the concept metric per run, live traffic,
 * the release timeline and each version's lineage. Figures carry data-* attributes so the
 * browser tests can compare them with the records.
 */
import { barsSvg, heatStripSvg, seriesSvg } from '../charts';
import type { DriftRunTrend, ModelTrends, VersionTrend } from '../model-trends';
import { badge, fmtNumber, fmtTime, html, raw, type Html } from '../html';
import type { VariantTraffic } from '../traffic';

const VALUE = '#0b5cad';
const DUMMY = '#7b8794';
const BOUND = '#c62828';
const NOREG = '#9a6700';

const pct = (v: number | null | undefined) => (typeof v === 'number' && Number.isFinite(v) ? `${(v * 100).toFixed(1)}%` : '—');
const releaseHref = (arn: string) => `/releases?arn=${encodeURIComponent(arn)}`;

export interface TrafficView {
  variants: VariantTraffic[];
  /** Why traffic is not shown (AWS, or the endpoint host did not answer). */
  note?: string;
}

/** Every section, in the order a reader asks: quality, drift, traffic, what happened, where it came from. */
export function trendSections(model: string, t: ModelTrends, traffic: TrafficView): Html {
  return html`${t.notes.map((n) => html`<div class="notice warn small">${n}</div>`)}
  <h2>Gated metrics per version</h2>${metricsSection(t.versions)}
  <h2>Drift over time</h2>${driftSection(model, t.driftRuns)}
  <h2>Concept metric per run</h2>${conceptSection(t.driftRuns)}
  <h2>Live traffic</h2>${trafficSection(traffic)}
  <h2>Release timeline</h2>${timelineSection(t)}
  <h2>Lineage</h2>${lineageSection(t.versions)}`;
}

function metricsSection(versions: VersionTrend[]): Html {
  const metrics = [...new Set(versions.flatMap((v) => Object.keys(v.metrics)))].sort();
  if (!metrics.length) return html`<p class="muted">No evaluated version yet.</p>`;
  const labels = versions.map((v) => v.version);
  const charts = metrics.map((m) => {
    const pts = versions.map((v) => v.metrics[m]);
    const bound = [...pts].reverse().find((p) => p?.bound !== null && p?.bound !== undefined)?.bound;
    const dir = versions.map((v) => v.directions[m]).find(Boolean);
    const svg = seriesSvg(
      labels,
      [
        { name: m, values: pts.map((p) => p?.value ?? null), color: VALUE },
        { name: 'dummy', values: pts.map((p) => p?.dummy ?? null), color: DUMMY, dashed: true },
        { name: 'no-regression limit', values: pts.map((p) => p?.noRegression ?? null), color: NOREG, dashed: true },
      ],
      bound === null || bound === undefined ? [] : [{ value: bound, label: 'bound', color: BOUND }],
      { height: 180 },
    );
    return html`<div class="card" data-chart="metric-${m}"><strong>${m}</strong> <span class="muted small">${dir ? `${dir} is better` : ''}</span>
      <div class="small"><span class="legend c">● value</span> · <span class="legend d">┄ dummy baseline</span> · <span class="legend n">┄ no-regression limit</span> · <span class="legend b">┄ bound</span></div>${raw(svg)}</div>`;
  });
  return html`<div class="charts">${charts}</div>
  <table id="metrics-per-version"><thead><tr><th>Version</th>${metrics.map((m) => html`<th class="num">${m}</th>`)}</tr></thead><tbody>
  ${[...versions].reverse().map(
    (v) =>
      html`<tr data-version="${v.version}"><td>${v.version}</td>${metrics.map((m) => {
        const p = v.metrics[m];
        if (!p) return html`<td class="num muted">—</td>`;
        return html`<td class="num" data-metric="${m}"><span data-field="value">${fmtNumber(p.value)}</span>${p.ok === false ? html` ${badge('failed', 'bad')}` : ''}
        <br><span class="small muted">bound <span data-field="bound">${fmtNumber(p.bound)}</span> · dummy <span data-field="dummy">${fmtNumber(p.dummy)}</span>${p.noRegression !== null ? html` · limit ${fmtNumber(p.noRegression)}` : ''}</span></td>`;
      })}</tr>`,
  )}</tbody></table>`;
}

function driftSection(model: string, runs: DriftRunTrend[]): Html {
  if (!runs.length) return html`<p class="muted">No drift checks yet.</p>`;
  const labels = runs.map((r) => r.run);
  const threshold = runs.map((r) => r.threshold).find((x) => x !== null) ?? undefined;
  const bars = barsSvg(
    labels,
    runs.map((r) => r.driftShare),
    { threshold, max: 1, bad: (v) => threshold !== undefined && v >= threshold, format: (v) => `${Math.round(v * 100)}%` },
  );
  const columns = [...new Set(runs.flatMap((r) => Object.keys(r.columns)))].sort();
  const strip = heatStripSvg(
    labels,
    columns.map((c) => ({
      label: c,
      cells: runs.map((r) => ({ value: r.columns[c]?.statistic ?? null, flagged: r.columns[c]?.drifted })),
    })),
  );
  return html`<div class="charts"><div class="card"><strong>Share of drifted features per run</strong>${raw(bars)}</div>
  <div class="card"><strong>Test statistic per feature</strong> <span class="muted small">shaded against the feature's largest; red outline: drifted</span>${raw(strip)}</div></div>
  <table id="drift-trend"><thead><tr><th>Run</th><th>Version</th><th>Verdict</th><th class="num">Drifted share</th><th>Drifted features</th></tr></thead><tbody>
  ${[...runs].reverse().map(
    (r) =>
      html`<tr data-run="${r.run}"><td><a href="/models/${model}/drift/${r.run}">${r.run}</a><br><span class="small muted">${fmtTime(r.at)}</span></td><td>${r.version ?? '—'}</td><td>${badge(r.verdict ?? 'unknown')}</td>
      <td class="num" data-field="share">${pct(r.driftShare)}</td><td class="small">${Object.entries(r.columns)
        .filter(([, c]) => c.drifted)
        .map(([name]) => name)
        .join(', ')}</td></tr>`,
  )}</tbody></table>`;
}

function conceptSection(runs: DriftRunTrend[]): Html {
  const withConcept = runs.filter((r) => r.concept);
  if (!withConcept.length)
    return html`<p class="muted">No concept check yet: it needs ground-truth labels joined to captured requests.</p>`;
  const last = withConcept.at(-1)!.concept!;
  const svg = seriesSvg(
    withConcept.map((r) => r.run),
    [{ name: last.metric, values: withConcept.map((r) => r.concept!.value), color: VALUE }],
    [
      { value: last.baseline, label: 'at evaluation', color: DUMMY },
      { value: last.limit, label: 'limit', color: BOUND },
    ],
    { height: 180 },
  );
  return html`<div class="charts"><div class="card"><strong>${last.metric}</strong> <span class="muted small">on labelled traffic${last.direction ? `, ${last.direction} is better` : ''}</span>${raw(svg)}</div></div>
  <table id="concept-trend"><thead><tr><th>Run</th><th>Verdict</th><th class="num">Value</th><th class="num">At evaluation</th><th class="num">Limit</th></tr></thead><tbody>
  ${[...withConcept]
    .reverse()
    .map(
      (r) =>
        html`<tr data-run="${r.run}"><td>${r.run}</td><td>${badge(r.concept!.verdict)}</td><td class="num" data-field="value">${fmtNumber(r.concept!.value)}</td><td class="num">${fmtNumber(r.concept!.baseline)}</td><td class="num">${fmtNumber(r.concept!.limit)}</td></tr>`,
    )}</tbody></table>`;
}

function trafficSection(t: TrafficView): Html {
  const note = t.note ? html`<p class="muted small">${t.note}</p>` : '';
  if (!t.variants.length) return html`${note}<p class="muted">No endpoint of this model served a request in the last hour.</p>`;
  return html`${note}<table id="traffic"><thead><tr><th>Endpoint</th><th>Variant</th><th class="num">Invocations</th><th class="num">Errors (4xx / 5xx)</th><th class="num">Error rate</th><th class="num">p50 ms</th><th class="num">p99 ms</th></tr></thead><tbody>
  ${t.variants.map(
    (v) =>
      html`<tr data-endpoint="${v.endpointName}" data-variant="${v.variant}"><td>${v.endpointName}</td><td>${v.variant}</td>
      <td class="num" data-field="invocations">${v.invocations}</td><td class="num">${v.errors4xx} / ${v.errors5xx}</td>
      <td class="num" data-field="errorRate">${pct(v.errorRate)}</td><td class="num">${fmtNumber(v.p50Ms, 3)}</td><td class="num">${fmtNumber(v.p99Ms, 3)}</td></tr>`,
  )}</tbody></table><p class="muted small">CloudWatch AWS/SageMaker metrics per variant over the last hour (locally, the endpoint host's).</p>`;
}

const OUTCOME_TONE: Record<string, string> = {
  succeeded: 'ok',
  production: 'ok',
  archived: 'muted',
  running: 'info',
  superseded: 'muted',
  'awaiting-approval': 'warn',
  building: 'info',
  built: 'info',
  evaluated: 'info',
  approved: 'info',
};

function timelineSection(t: ModelTrends): Html {
  if (!t.timeline.length) return html`<p class="muted">No releases yet.</p>`;
  return html`<ol class="states" id="timeline">${[...t.timeline].reverse().map(
    (e) =>
      html`<li class="${e.outcome === 'succeeded' ? 'succeeded' : OUTCOME_TONE[e.outcome] === 'warn' || OUTCOME_TONE[e.outcome] === 'info' ? 'waiting' : OUTCOME_TONE[e.outcome] ? '' : 'failed'}" data-version="${e.version ?? ''}" data-outcome="${e.outcome}">
      <span class="name">${e.version ?? 'no version'}</span> ${badge(e.outcome, OUTCOME_TONE[e.outcome] ?? 'bad')} <span class="meta">${fmtTime(e.at)} · ${e.trigger ?? 'push'}${e.executionArn ? html` · <a href="${releaseHref(e.executionArn)}">release</a>` : ''}</span>
      ${e.cause ? html`<br><span class="small" data-field="cause">${e.cause}</span>` : ''}</li>`,
  )}</ol>`;
}

function params(p: Record<string, unknown> | undefined): Html {
  if (!p) return html`<span class="muted">—</span>`;
  return html`${Object.entries(p).map(([k, v]) => html`<code>${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}</code> `)}`;
}

const short = (d: string | undefined, n = 19) =>
  d ? html`<code title="${d}">${d.length > n ? `${d.slice(0, n)}…` : d}</code>` : html`<span class="muted">—</span>`;

function lineageSection(versions: VersionTrend[]): Html {
  if (!versions.length) return html`<p class="muted">No versions yet.</p>`;
  return html`<table id="lineage"><thead><tr><th>Version</th><th>Commit</th><th>Image digest</th><th>Training data</th><th>Holdout data</th><th>Hyperparameters</th><th>Parent</th><th>Approver</th></tr></thead><tbody>
  ${[...versions].reverse().map(
    (v) =>
      html`<tr data-version="${v.version}"><td>${v.version}${v.trigger === 'drift' ? html`<br>${badge('retrain', 'info')}` : ''}</td><td>${short(v.lineage.commit, 12)}</td><td>${short(v.lineage.imageDigest)}</td>
      <td>${short(v.lineage.trainingDigest)}</td><td>${short(v.lineage.holdoutDigest)}</td><td class="small" data-field="params">${params(v.lineage.params)}</td>
      <td data-field="parent">${v.lineage.parent ?? '—'}</td><td data-field="approver">${v.lineage.approver ?? '—'}</td></tr>`,
  )}</tbody></table>`;
}
