/**
 * The weekly report as a page: one row per model with the week's releases by outcome, the
 * production version and its age, the drift and concept verdicts, and the captured traffic.
 */
import { badge, fmtNumber, fmtTime, html, type Html } from '../html';
import type { WeeklyView } from '../weekly';

export function weeklyListPage(dates: string[]): Html {
  return html`<h1>Weekly reports</h1>
  ${dates.length ? '' : html`<p class="muted">None yet: the weekly report runs on Mondays at 08:00 UTC.</p>`}
  <ul id="weekly-reports">${dates.map((d) => html`<li><a href="/weekly/${d}">Week ending ${d}</a></li>`)}</ul>`;
}

function driftCell(m: WeeklyView['models'][number]): Html {
  const l = m.drift.latest;
  if (!l) return html`<span class="muted">no check</span>`;
  return html`${m.drift.runs} check${m.drift.runs === 1 ? '' : 's'}, ${m.drift.drifted} drifted<br>latest ${badge(l.verdict)}${l.driftShare === null ? '' : html` <span class="small">share ${Math.round(l.driftShare * 100)}%</span>`}
  ${l.concept ? html`<br>concept ${badge(l.concept.verdict)} <span class="small">${l.concept.metric} ${fmtNumber(l.concept.value)}</span>` : ''}`;
}

export function weeklyPage(r: WeeklyView): Html {
  const t = r.totals;
  return html`<h1>Weekly report · ${r.deployment}</h1>
  <p class="muted">${fmtTime(r.from)} – ${fmtTime(r.to)} · generated ${fmtTime(r.generatedAt)}</p>
  ${(r.notes ?? []).map((n) => html`<div class="notice warn small">left out: ${n}</div>`)}
  <div class="card" id="weekly-totals"><dl class="kv"><dt>Models</dt><dd>${t.models}</dd><dt>Releases</dt><dd>${t.releases} (${t.succeeded} succeeded, ${t.failed} failed)</dd><dt>Requests captured</dt><dd>${t.requests}</dd></dl></div>
  <table id="weekly"><thead><tr><th>Model</th><th class="num">Releases</th><th class="num">Succeeded</th><th>Outcomes</th><th>Production</th><th>Drift and concept</th><th class="num">Requests</th></tr></thead><tbody>
  ${r.models.map(
    (m) => html`<tr data-model="${m.model}"><td><a href="/models/${m.model}">${m.model}</a></td>
    <td class="num" data-field="releases">${m.releases.total}</td><td class="num" data-field="succeeded">${m.releases.byOutcome.succeeded ?? 0}</td>
    <td class="small">${Object.entries(m.releases.byOutcome).map(([o, n]) => html`${badge(o)} ${n} `)}
      ${m.releases.items.filter((i) => i.cause && i.outcome !== 'succeeded').map((i) => html`<br>${i.version}: ${i.cause}`)}</td>
    <td data-field="production">${m.production ? html`${m.production.version} <span class="small muted">${m.production.ageDays} days old</span>` : html`<span class="muted">none</span>`}</td>
    <td class="small">${driftCell(m)}</td><td class="num" data-field="requests">${m.traffic.requests}</td></tr>`,
  )}</tbody></table>`;
}
