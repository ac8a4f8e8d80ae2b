/**
 * The list pages: models, approvals, releases, a model's registry history and drift runs,
 * one drift run, and the notifications feed.
 */
import type { PublicApproval } from '../approvals';
import type { Json, ModelSummary, ReleaseSummary } from '../data';
import { driftVerdict, type FeedItem } from '../feed';
import { badge, fmtNumber, fmtTime, html, jsonDetails, raw, type Html } from '../html';
import type { ConceptDriftResult, DriftReport } from '../../../lambdas/ml/types';
import { driftSection } from './report';
import type { ModelTrends } from '../model-trends';
import { trendSections, type TrafficView } from './model-trends';

const releaseHref = (arn: string) => `/releases?arn=${encodeURIComponent(arn)}`;

export function modelsPage(models: ModelSummary[], pending: PublicApproval[], notes: string[] = []): Html {
  return html`<h1>Models</h1>
  ${notes.map((n) => html`<div class="notice warn small">${n}</div>`)}
  ${pending.length ? html`<div class="notice warn">${pending.length} release${pending.length > 1 ? 's wait' : ' waits'} for approval: ${pending.map((p, i) => html`${i ? ', ' : ''}<a href="/approvals/${p.id}">${p.model} ${p.version}</a>`)}</div>` : ''}
  ${models.length ? '' : html`<p class="muted">No models yet: push a change under models/&lt;name&gt;/ to start a release.</p>`}
  <table id="models"><thead><tr><th>Model</th><th>Production</th><th>Last release</th><th>Drift</th><th>Pending</th></tr></thead><tbody>
  ${models.map(
    (m) => html`<tr data-model="${m.name}"><td><a href="/models/${m.name}">${m.name}</a></td>
      <td data-field="production">${m.production?.version ? html`<strong>${String(m.production.version)}</strong> <span class="muted small">since ${fmtTime(m.production.since ?? m.production.promotedAt ?? m.production.updatedAt)}</span>` : html`<span class="muted">none</span>`}</td>
      <td>${m.lastRelease ? html`<a href="${releaseHref(m.lastRelease.executionArn)}">${m.lastRelease.version ?? m.lastRelease.name}</a> ${badge(m.lastRelease.status)} <span class="muted small">${fmtTime(m.lastRelease.startDate)}</span>` : '—'}</td>
      <td>${m.drift ? html`<a href="/models/${m.name}/drift/${m.drift.run}">${badge(driftVerdict(m.drift.report))}</a> <span class="muted small">${m.drift.run}</span>` : html`<span class="muted">not checked</span>`}</td>
      <td>${m.pending ? badge(String(m.pending), 'warn') : ''}</td></tr>`,
  )}</tbody></table>`;
}

export function approvalsPage(list: PublicApproval[]): Html {
  return html`<h1>Approvals</h1>
  ${list.length ? '' : html`<p class="muted">No approval requests.</p>`}
  <table id="approvals"><thead><tr><th>Request</th><th>Status</th><th>Requested</th><th>Expires</th><th>Decision</th></tr></thead><tbody>
  ${list.map(
    (
      a,
    ) => html`<tr data-id="${a.id}"><td><a href="/approvals/${a.id}">${a.model} ${a.version}</a></td><td>${badge(a.status)}</td><td>${fmtTime(a.requestedAt)}</td><td>${fmtTime(a.expiresAt)}</td>
    <td>${a.decision ? html`${a.decision.by ?? ''} <span class="muted small">${fmtTime(a.decision.at)}</span>${a.decision.comment ? html`<br><q>${a.decision.comment}</q>` : ''}` : ''}</td></tr>`,
  )}</tbody></table>`;
}

export function releasesPage(list: ReleaseSummary[], note?: string): Html {
  return html`<h1>Releases</h1>${note ? html`<p class="muted">${note}</p>` : ''}
  <table id="releases"><thead><tr><th>Execution</th><th>Model</th><th>Version</th><th>Trigger</th><th>Status</th><th>Started</th><th>Stopped</th></tr></thead><tbody>
  ${list.map(
    (r) =>
      html`<tr><td><a href="${releaseHref(r.executionArn)}">${r.name}</a></td><td>${r.model ?? '—'}</td><td>${r.version ?? '—'}</td><td>${r.trigger ?? '—'}</td><td>${badge(r.status)}</td><td>${fmtTime(r.startDate)}</td><td>${fmtTime(r.stopDate)}</td></tr>`,
  )}</tbody></table>`;
}

export interface ModelPageInput {
  model: string;
  production?: Json;
  versions: Json[];
  approvals: PublicApproval[];
  releases: ReleaseSummary[];
  driftRuns: string[];
  history: Json[];
  /** Metrics, drift and concept over time, timeline and lineage (lib/console/model-trends.ts). */
  trends?: ModelTrends;
  traffic?: TrafficView;
  /** Pull-request checks (lib/check records), newest first. */
  checks?: Json[];
}

/** Registry history: versions with their approvals, deployments and rollbacks. */
export function modelPage(p: ModelPageInput): Html {
  return html`<h1>${p.model}</h1>${raw(modelBody(p, p.production?.version))}`;
}

function modelBody(p: ModelPageInput, prodVersion: unknown): string {
  return html`
  <div class="card"><dl class="kv"><dt>Production</dt><dd id="production-version">${prodVersion ? String(prodVersion) : html`<span class="muted">none</span>`}</dd>
  ${p.production ? html`<dt>Since</dt><dd>${fmtTime(p.production.since ?? p.production.promotedAt ?? p.production.updatedAt)}</dd>` : ''}</dl>
  ${p.production ? jsonDetails('production.json', p.production) : ''}</div>
  ${p.trends ? trendSections(p.model, p.trends, p.traffic ?? { variants: [] }) : ''}
  <h2>Registry history</h2>
  ${p.versions.length ? '' : html`<p class="muted">No versions in the registry yet.</p>`}
  <table id="versions"><thead><tr><th>Version</th><th>Status</th><th>Commit</th><th>Metrics</th><th>Approval</th><th>Deployments / rollbacks</th></tr></thead><tbody>
  ${p.versions.map((v) => versionRow(v, prodVersion))}</tbody></table>
  <h2>Deployments and rollbacks</h2>${historyTable(p.history)}
  <h2>Releases</h2>
  ${p.releases.length ? releasesTable(p.releases) : html`<p class="muted">No releases.</p>`}
  <h2>Pull-request checks</h2>
  ${p.checks?.length ? checksTable(p.model, p.checks) : html`<p class="muted">No checks yet: push a branch, or run mlship check ${p.model}.</p>`}
  <h2>Approval requests</h2>
  ${p.approvals.length ? approvalsTable(p.approvals) : html`<p class="muted">None.</p>`}
  <h2>Drift checks</h2>
  ${p.driftRuns.length ? html`<ul>${p.driftRuns.map((r) => html`<li><a href="/models/${p.model}/drift/${r}">${r}</a></li>`)}</ul>` : html`<p class="muted">No drift checks yet.</p>`}`
    .value;
}

function approvalsTable(list: PublicApproval[]): Html {
  return html`<table><thead><tr><th>Version</th><th>Status</th><th>Requested</th><th>Decision</th></tr></thead><tbody>
  ${list.map((a) => html`<tr><td><a href="/approvals/${a.id}">${a.version}</a></td><td>${badge(a.status)}</td><td>${fmtTime(a.requestedAt)}</td><td>${a.decision ? html`${a.decision.by ?? ''} ${fmtTime(a.decision.at)} ${a.decision.comment ? html`<q>${a.decision.comment}</q>` : ''}` : ''}</td></tr>`)}
  </tbody></table>`;
}

/** One row per check: where it ran, its verdict, the first cause, and its quality report. */
function checksTable(model: string, list: Json[]): Html {
  const failures = (c: Json) => (Array.isArray(c.failures) ? (c.failures as unknown[]).map(String) : []);
  const report = (c: Json) => `/artifacts/checks/${model}/${String(c.checkId)}/quality-report.html`;
  return html`<table id="checks"><thead><tr><th>Check</th><th>Branch</th><th>Commit</th><th>Verdict</th><th>Cause</th><th>Report</th></tr></thead><tbody>
  ${list.map((c) => html`<tr><td>${String(c.checkId ?? '')}</td><td>${String(c.ref ?? '')}${c.dirty ? ' (uncommitted)' : ''}</td><td>${String(c.commit ?? '').slice(0, 12)}</td><td>${badge(String(c.status ?? 'unknown'), c.status === 'passed' ? 'ok' : 'bad')}</td><td>${failures(c)[0] ?? ''}${failures(c).length > 1 ? html` <span class="muted">(+${failures(c).length - 1})</span>` : ''}</td><td>${c.htmlUri ? html`<a href="${report(c)}">quality report</a>` : '—'}</td></tr>`)}
  </tbody></table>`;
}

function releasesTable(list: ReleaseSummary[]): Html {
  return html`<table><thead><tr><th>Execution</th><th>Version</th><th>Trigger</th><th>Status</th><th>Started</th></tr></thead><tbody>
  ${list.map((r) => html`<tr><td><a href="${releaseHref(r.executionArn)}">${r.name}</a></td><td>${r.version ?? '—'}</td><td>${r.trigger ?? '—'}</td><td>${badge(r.status)}</td><td>${fmtTime(r.startDate)}</td></tr>`)}
  </tbody></table>`;
}

const arr = (v: unknown): Json[] => (Array.isArray(v) ? (v as Json[]) : []);

/** One registry version record (lambdas/shared/registry.ts VersionRecord), read defensively. */
function versionRow(v: Json, prodVersion: unknown): Html {
  const approval = v.approval as Json | undefined | null;
  const deployments = arr(v.deployments);
  const evaluation = v.evaluation as Json | undefined | null;
  const metrics = (evaluation?.metrics ?? v.metrics ?? {}) as Record<string, unknown>;
  const build = v.build as Json | undefined | null;
  const outcome = v.outcome as Json | undefined | null;
  const execution = v.execution as Json | undefined | null;
  return html`<tr data-version="${String(v.version ?? '')}"><td><strong>${String(v.version ?? '?')}</strong>${v.version === prodVersion ? html` ${badge('production', 'ok')}` : ''}<br><span class="muted small">${fmtTime(v.createdAt)}</span>
    ${execution?.arn ? html`<br><a class="small" href="${releaseHref(String(execution.arn))}">release</a>` : ''}</td>
  <td>${badge(String(v.status ?? '—'))}${outcome?.state ? html`<br><span class="small muted">${String(outcome.state)}</span>` : ''}${outcome?.cause ? html`<br><span class="small" data-field="cause">${String(outcome.cause)}</span>` : ''}</td>
  <td><code>${String(v.commitId ?? v.commit ?? '—').slice(0, 12)}</code><br><span class="small muted">${String(v.trigger ?? '')}</span>
    ${build?.logLink ? html`<br><a class="small" href="${logHref(String(build.logLink))}">build log</a>` : ''}</td>
  <td class="small">${Object.entries(metrics)
    .filter(([, x]) => typeof x === 'number')
    .map(([k, x]) => html`${k} ${fmtNumber(x)}<br>`)}${reportCell(evaluation, v.loadTest as Json | undefined | null)}</td>
  <td class="small">${approval ? html`${badge(String(approval.decision ?? approval.status ?? ''))} ${String(approval.by ?? '')}<br>${fmtTime(approval.at)}${approval.comment ? html`<br><q>${String(approval.comment)}</q>` : ''}` : '—'}</td>
  <td class="small">${deployments.map((d) => html`${String(d.stage ?? '')} ${String(d.action ?? '')} ${fmtTime(d.at)} ${d.result === 'rolled-back' ? badge('rolled back', 'bad') : String(d.result ?? '')}<br>`)}
  ${jsonDetails('record', v)}</td></tr>`;
}

/** Links to a version's quality and load-test reports, failed gates included. */
function reportCell(evaluation: Json | undefined | null, loadTest: Json | undefined | null): Html {
  const quality = evaluation?.htmlUri ?? evaluation?.reportUri;
  const links = [
    typeof quality === 'string'
      ? html`<a href="${logHref(quality)}" data-report="quality">quality report</a>${evaluation?.validationOk === false ? html` ${badge('failed', 'bad')}` : ''}`
      : undefined,
    typeof loadTest?.reportUri === 'string'
      ? html`<a href="${logHref(loadTest.reportUri)}" data-report="load-test">load test</a>${loadTest.ok === false ? html` ${badge('failed', 'bad')}` : ''}`
      : undefined,
  ].filter((l): l is Html => l !== undefined);
  return links.length ? html`${links.map((l) => html`${l}<br>`)}` : html``;
}

function logHref(link: string): string {
  const m = /^s3:\/\/[^/]+\/(.+)$/.exec(link);
  return m ? `/artifacts/${m[1]}` : link;
}

/** The deployment history entries (registry/<model>/deployments/): deployments, promotions, rollbacks. */
function historyTable(entries: Json[]): Html {
  if (!entries.length) return html`<p class="muted">No deployments yet.</p>`;
  return html`<table id="deployment-history"><thead><tr><th>When</th><th>Version</th><th>Event</th><th>Detail</th></tr></thead><tbody>
  ${entries.map((e) => {
    const { model: _m, version, at, ...rest } = e;
    const event = String(rest.event ?? rest.kind ?? rest.type ?? rest.action ?? rest.result ?? '');
    return html`<tr><td class="small">${fmtTime(at)}</td><td>${String(version ?? '')}</td><td>${/roll/i.test(event) ? badge(event, 'bad') : badge(event || 'event', 'info')}</td><td>${jsonDetails('details', rest)}</td></tr>`;
  })}</tbody></table>`;
}

/** The window's data quality (drift-report.json `dataQuality`): skipped lines and values, missing shares, alerts. */
function dataQualityCard(q: Json | undefined): Html {
  if (!q || typeof q !== 'object') return html``;
  const capture = (q.capture ?? {}) as Json;
  const pct = (x: unknown) => (typeof x === 'number' ? `${(x * 100).toFixed(1)}%` : '—');
  return html`<h2>Data quality</h2><div class="card" id="data-quality"><p>${badge(q.verdict === 'data-quality' ? 'data-quality' : String(q.verdict ?? 'unknown'), q.verdict === 'ok' ? 'ok' : undefined)} <span class="muted">${String(q.message ?? '')}</span></p>
  <dl class="kv"><dt>Skipped capture lines</dt><dd data-field="skippedLines">${fmtNumber(capture.skipped)} of ${fmtNumber(capture.total)} (${pct(capture.share)})</dd>
  ${arr(q.features).map((f) => html`<dt>${String(f.feature)}</dt><dd data-feature="${String(f.feature)}">${fmtNumber(f.skipped)} value(s) skipped, ${pct(f.missingShare)} missing (baseline ${pct(f.referenceMissingShare)})${f.alert ? html` ${badge('alert', 'bad')}` : ''}</dd>`)}</dl></div>`;
}

export function driftPage(model: string, run: string, d: { report?: Json; violations?: Json; hasHtml: boolean; keys: string[] }): Html {
  const violations = arr((d.violations as Json | undefined)?.violations);
  // drift-report.json (lambdas/check-drift) keeps the data-drift report under `data` and
  // concept drift under `concept`; the top level holds only the run's verdict and reason.
  const dataDrift = d.report?.data as Partial<DriftReport> | undefined;
  const concept = d.report?.concept as Partial<ConceptDriftResult> | null | undefined;
  return html`<h1>Drift check ${model} · ${run}</h1>
  ${d.report?.reason ? html`<p id="drift-reason">${badge(driftVerdict(d.report))} ${String(d.report.reason)}</p>` : ''}
  <h2>Data drift</h2>${driftSection(dataDrift)}
  <h2>Concept drift</h2>${conceptSection(concept)}
  ${dataQualityCard(d.report?.dataQuality as Json | undefined)}
  <h2>Constraint violations</h2>
  ${violations.length ? html`<table><thead><tr><th>Feature</th><th>Check</th><th>Description</th></tr></thead><tbody>${violations.map((v) => html`<tr><td>${String(v.feature_name)}</td><td>${String(v.constraint_check_type)}</td><td>${String(v.description)}</td></tr>`)}</tbody></table>` : html`<p class="muted">None.</p>`}
  ${d.hasHtml ? html`<h2>Drift report</h2><iframe class="report" sandbox title="drift report" src="/artifacts/monitoring/${model}/${run}/drift-report.html"></iframe>` : ''}
  <h2>Files</h2><ul class="small">${d.keys.map((k) => html`<li><a href="/artifacts/${k}">${k}</a></li>`)}</ul>`;
}

/** Concept drift of a monitoring run: the metric on the labelled window against its evaluation value. */
function conceptSection(c: Partial<ConceptDriftResult> | null | undefined): Html {
  if (!c) return html`<p class="muted">Not checked: no evaluation metric to compare with.</p>`;
  return html`<div class="card" id="concept-drift"><p>${badge(c.verdict ?? 'unknown', c.verdict === 'drift' ? 'bad' : c.verdict === 'no-drift' ? 'ok' : undefined)} <span class="muted">${c.message ?? ''}</span></p>
  <dl class="kv"><dt>Metric</dt><dd data-field="metric">${c.metric ?? '—'}</dd>
  <dt>Value on labelled traffic</dt><dd data-field="value">${fmtNumber(c.value)}</dd>
  <dt>At evaluation</dt><dd data-field="baseline">${fmtNumber(c.baseline)}</dd>
  <dt>Limit</dt><dd data-field="limit">${fmtNumber(c.limit)} <span class="muted small">(${c.direction ?? ''} is better)</span></dd>
  <dt>Labelled rows</dt><dd data-field="joined">${fmtNumber(c.joined)}${c.unlabeled ? html` <span class="muted small">(${fmtNumber(c.unlabeled)} without a label yet)</span>` : ''}</dd></dl></div>`;
}

export function feedPage(items: FeedItem[]): Html {
  return html`<h1>Notifications</h1>
  ${items.length ? '' : html`<p class="muted">Nothing yet.</p>`}
  <table id="feed"><tbody>${items.map((i) => html`<tr><td class="small muted">${fmtTime(i.at)}</td><td>${badge(i.kind, i.kind === 'approval' ? 'warn' : 'info')}</td><td><a href="${i.href}">${i.text}</a></td></tr>`)}</tbody></table>`;
}
