/**
 * One release: the state graph of its execution (the ASL's happy path first, then the
 * branches the execution took), with each state's status, timings, log link and input/output.
 */
import type { ReleaseView } from '../data';
import type { GraphState } from '../release-graph';
import { badge, esc, fmtDuration, fmtTime, html, jsonDetails, raw, type Html } from '../html';

export function releasePage(v: ReleaseView): Html {
  const e = v.execution;
  const g = v.graph;
  const taken = g?.states.filter((s) => !s.onMainPath && s.visits.length) ?? [];
  const untaken = g?.states.filter((s) => !s.onMainPath && !s.visits.length) ?? [];
  const item = (s: GraphState) => stateItem(s, e.executionArn);
  return html`
  <h1>Release ${e.model ?? ''} ${e.version ?? ''} ${badge(e.status)}</h1>
  <div class="card"><dl class="kv">
    <dt>Execution</dt><dd><code>${e.name}</code></dd>
    <dt>Model</dt><dd>${e.model ? html`<a href="/models/${e.model}">${e.model}</a>` : '—'}</dd>
    <dt>Trigger</dt><dd>${e.trigger ?? '—'}</dd>
    <dt>Started</dt><dd>${fmtTime(e.startDate)}</dd>
    <dt>Stopped</dt><dd>${fmtTime(e.stopDate)}</dd>
    <dt>Current state</dt><dd id="current-state">${g?.currentState ?? '—'}</dd>
    ${v.lease ? html`<dt>Model lease</dt><dd id="lease">${v.lease}</dd>` : ''}
    ${e.error ? html`<dt>Error</dt><dd id="failure-cause"><code>${e.error}</code> ${e.cause ?? ''}</dd>` : ''}
    ${reportLinks(v.reports)}
    ${v.approval ? html`<dt>Approval</dt><dd><a href="/approvals/${v.approval.id}">${v.approval.id}</a> ${badge(v.approval.status)}</dd>` : ''}
  </dl></div>
  ${v.graphError ? html`<div class="notice warn" id="graph-note">${v.graph ? v.graphError : html`The state graph is unavailable: ${v.graphError}`}</div>` : ''}
  ${
    g
      ? html`<div class="card">${pathSvg(g.states.filter((s) => s.onMainPath))}</div>
  <h2>States</h2><ol class="states" id="states">${g.states.filter((s) => s.onMainPath).map(item)}</ol>
  ${taken.length ? html`<h2>Branches taken</h2><ol class="states">${taken.map(item)}</ol>` : ''}
  ${untaken.length ? html`<details><summary>Other states of the workflow (${untaken.length}, not reached)</summary><ol class="states">${untaken.map(item)}</ol></details>` : ''}`
      : ''
  }
  <h2>Execution input and output</h2>${jsonDetails('input', e.input)}${e.output !== undefined ? jsonDetails('output', e.output) : ''}`;
}

/** Links to the version's gate reports, which say why a failed gate stopped the release. */
function reportLinks(r: ReleaseView['reports']): Html {
  const links = [
    r?.html ? html`<a href="/artifacts/${r.html}">quality report</a>` : undefined,
    r?.validation ? html`<a href="/artifacts/${r.validation}">validation.json</a>` : undefined,
    r?.loadTest ? html`<a href="/artifacts/${r.loadTest}">load-test.json</a>` : undefined,
  ].filter((l): l is Html => l !== undefined);
  return links.length ? html`<dt>Reports</dt><dd id="reports">${links.map((l, i) => html`${i ? ' · ' : ''}${l}`)}</dd>` : html``;
}

function stateItem(s: GraphState, executionArn: string): Html {
  const last = s.visits.at(-1);
  const label = s.status === 'waiting' ? 'waiting for approval' : s.status;
  return html`<li class="${s.status}${s.current ? ' current' : ''}" data-state="${s.name}" data-status="${s.status}">
    <span class="name">${s.name}</span> ${s.status === 'not-reached' ? '' : badge(label, s.status === 'waiting' ? 'warn' : undefined)}
    <span class="meta">${s.type}${s.visits.length > 1 ? ` · ${s.visits.length} visits` : ''}${last?.enteredAt ? ` · entered ${fmtTime(last.enteredAt)}` : ''}${s.durationMs !== undefined ? ` · ${fmtDuration(s.durationMs)}` : ''}</span>
    ${s.logLink ? html` · <a href="${logHref(s.logLink, executionArn, s.name)}" rel="noreferrer">build log</a>` : ''}
    ${last?.error ? html`<div class="small">${badge('error', 'bad')} <code>${last.error.error ?? ''}</code> ${last.error.cause ?? ''}</div>` : ''}
    ${last?.input !== undefined || last?.output !== undefined ? html`<div class="io">${last?.input !== undefined ? jsonDetails('input', last.input) : ''}${last?.output !== undefined ? jsonDetails('output', last.output) : ''}</div>` : ''}
  </li>`;
}

/**
 * http(s) links (the CodeBuild console on AWS) as they are; s3:// logs through the artifact
 * route; a local build's file:// log through the console, which finds it again from the
 * execution's history (the browser cannot open file:// from a web page).
 */
function logHref(link: string, executionArn: string, state: string): string {
  const m = /^s3:\/\/[^/]+\/(.+)$/.exec(link);
  if (m) return `/artifacts/${m[1]}`;
  if (link.startsWith('file://')) return `/releases/log?arn=${encodeURIComponent(executionArn)}&state=${encodeURIComponent(state)}`;
  return link;
}

const COLORS: Record<string, string> = {
  succeeded: '#1a7f37',
  failed: '#c62828',
  caught: '#c62828',
  running: '#9a6700',
  waiting: '#9a6700',
  'not-reached': '#c3cad3',
};

/** The happy path as a row of nodes, wrapped into lines; the current state is ringed. */
function pathSvg(states: GraphState[]): Html {
  const perRow = 7;
  const cw = 158;
  const rh = 58;
  const rows = Math.ceil(states.length / perRow);
  const parts: string[] = [];
  states.forEach((s, i) => {
    const row = Math.floor(i / perRow);
    const col = i % perRow;
    const x = col * cw + 8;
    const y = row * rh + 10;
    const color = COLORS[s.status] ?? '#c3cad3';
    if (col < perRow - 1 && i < states.length - 1)
      parts.push(`<line x1="${x + 140}" y1="${y + 17}" x2="${x + cw}" y2="${y + 17}" stroke="#c3cad3" stroke-width="2"/>`);
    parts.push(
      `<g><title>${esc(s.name)}: ${esc(s.status)}</title><rect x="${x}" y="${y}" width="140" height="34" rx="6" fill="${s.status === 'not-reached' ? '#fff' : color}" fill-opacity="${s.status === 'not-reached' ? 1 : 0.12}" stroke="${color}" stroke-width="${s.current ? 3 : 1.5}"/>` +
        `<text x="${x + 70}" y="${y + 21}" text-anchor="middle" fill="${s.status === 'not-reached' ? '#5f6b7a' : '#1d2430'}" font-weight="${s.current ? 700 : 400}">${esc(truncate(s.name, 20))}</text></g>`,
    );
  });
  return raw(
    `<svg width="${perRow * cw}" height="${rows * rh + 6}" viewBox="0 0 ${perRow * cw} ${rows * rh + 6}" role="img" aria-label="release state graph" id="state-graph">${parts.join('')}</svg>`,
  );
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}
