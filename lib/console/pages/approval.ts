/**
 * A pending (or decided) approval request: who asked for what, the quality report inline,
 * and the Approve / Reject forms. Decided and expired requests show the decision instead.
 */
import type { PublicApproval } from '../approvals';
import type { Reports } from '../data';
import { badge, fmtTime, html, type Html } from '../html';
import { renderReports } from './report';

export interface ApprovalPageInput {
  approval: PublicApproval;
  reports: Reports;
  csrf: string;
  approver: string;
  /** Set after a decision attempt: the outcome to show above the page. */
  flash?: { tone: 'ok' | 'bad' | 'warn'; text: string };
}

export function approvalPage(p: ApprovalPageInput): Html {
  const a = p.approval;
  const releaseHref = a.executionArn ? `/releases?arn=${encodeURIComponent(a.executionArn)}` : undefined;
  const reportHref = p.reports.htmlKey ? `/artifacts/${p.reports.htmlKey}` : undefined;
  return html`
  <h1>Approve ${a.model} ${a.version}? ${badge(a.status)}</h1>
  ${p.flash ? html`<div class="notice ${p.flash.tone}" id="flash" role="status">${p.flash.text}</div>` : ''}
  <div class="card"><dl class="kv">
    <dt>Request</dt><dd><code>${a.id}</code></dd>
    <dt>Model</dt><dd><a href="/models/${a.model}">${a.model}</a></dd>
    <dt>Version</dt><dd>${a.version}</dd>
    <dt>Release</dt><dd>${releaseHref ? html`<a href="${releaseHref}">${a.executionArn!.split(':').at(-1)}</a>` : '—'}</dd>
    <dt>Requested</dt><dd>${fmtTime(a.requestedAt)}</dd>
    <dt>Expires</dt><dd>${fmtTime(a.expiresAt)}</dd>
    <dt>Gate / load test</dt><dd>${summaryBadge(a.summary.validationOk)} ${summaryBadge(a.summary.loadTestOk)}</dd>
  </dl></div>
  ${decisionBlock(p)}
  ${renderReports(p.reports, reportHref)}`;
}

function summaryBadge(ok: boolean | undefined): Html {
  return ok === undefined ? badge('unknown') : ok ? badge('passed', 'ok') : badge('failed', 'bad');
}

function decisionBlock(p: ApprovalPageInput): Html {
  const a = p.approval;
  if (a.status === 'pending') {
    const base = `/approvals/${a.id}/decision`;
    return html`<div class="card" id="decision"><h2>Decision</h2>
    <p class="small muted">Recorded as <strong>${p.approver}</strong>, with the time, on the request and in the registry.</p>
    <div class="decide">
      <form method="post" action="${base}" id="approve-form">
        <input type="hidden" name="csrf" value="${p.csrf}"><input type="hidden" name="decision" value="approve">
        <label for="approve-comment">Comment (optional)</label>
        <textarea id="approve-comment" name="comment" maxlength="2000"></textarea>
        <button class="approve" type="submit" id="approve">Approve and deploy to production</button>
      </form>
      <form method="post" action="${base}" id="reject-form">
        <input type="hidden" name="csrf" value="${p.csrf}"><input type="hidden" name="decision" value="reject">
        <label for="reject-comment">Why reject? (required)</label>
        <textarea id="reject-comment" name="comment" maxlength="2000" required></textarea>
        <span class="small" id="reject-msg" role="alert"></span>
        <button class="reject" type="submit" id="reject">Reject</button>
      </form>
    </div></div>`;
  }
  if (a.status === 'expired') {
    return html`<div class="notice warn" id="decision">This request expired at ${fmtTime(a.expiresAt)}; it can no longer be decided. The release ended with an approval timeout.</div>`;
  }
  const d = a.decision;
  return html`<div class="notice ${a.status === 'approved' ? 'ok' : 'bad'}" id="decision">
    <strong>${a.status === 'approved' ? 'Approved' : 'Rejected'}</strong> by <span id="decided-by">${d?.by ?? 'unknown'}</span> at ${fmtTime(d?.at)}.
    ${d?.comment ? html`<br>Comment: <q id="decision-comment">${d.comment}</q>` : ''}
    <br><span class="small muted">A decided request cannot be decided again.</span></div>`;
}
