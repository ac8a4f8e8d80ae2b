/**
 * The online A/B test after the approval (experiment.ab, lambdas/ab-test) on the approval page:
 * before it runs, the pre-registered plan the approver is approving (traffic share, labelled
 * requests per arm, method, where the spread comes from); after, the verdict, each arm and the
 * interval, from reports/<model>/<version>/ab.json.
 */
import type { AbPlan, TwoSampleResult } from '../../../lambdas/ml/abtest';
import { badge, fmtNumber, html, type Html } from '../html';

export interface AbSectionInput {
  /** The plan EvaluateModel wrote into the quality report (the one StartAbTest runs), or why there is none. */
  plan?: AbPlan | string;
  trafficPercent?: number;
  maxDuration?: number;
  onTimeout?: 'rollback' | 'promote';
  /** ab.json's verdict, once the test ended. */
  result?: { verdict: 'pass' | 'fail' | 'insufficient-data'; reason: string; test: TwoSampleResult | null };
}

const TONE = { pass: 'ok', fail: 'bad', 'insufficient-data': 'warn' } as const;

export function abSection(a: AbSectionInput): Html {
  if (a.plan === undefined && !a.result)
    return html`<p class="muted">No A/B test for this version (experiment.ab is not set): the approval deploys it at once.</p>`;
  if (typeof a.plan === 'string') return html`<div class="card" id="ab-test"><p class="muted">No plan: ${a.plan}</p></div>`;
  const verdict = a.result?.verdict;
  return html`<div class="card" id="ab-test">
  ${
    a.result
      ? html`<p data-field="verdict">${badge(verdict!, TONE[verdict!])} <span class="muted">${a.result.reason}</span></p>`
      : html`<p class="small">After the approval the candidate answers ${fmtNumber(a.trafficPercent)} % of production's requests; promotion waits for this test, planned now.</p>`
  }
  ${a.plan ? planRows(a.plan, a) : ''}${a.result?.test ? testRows(a.result.test) : ''}</div>`;
}

function planRows(p: AbPlan, a: AbSectionInput): Html {
  return html`<dl class="kv">
  <dt>Method</dt><dd data-field="method">${p.method}, two-sided, alpha ${fmtNumber(p.alpha)}, power ${fmtNumber(p.power)}; run once at the horizon</dd>
  <dt>Labelled requests per arm</dt><dd data-field="n-per-arm">${fmtNumber(p.nPerArm)}</dd>
  <dt>Detects</dt><dd>${p.metric} worse by ${fmtNumber(p.minDetectableEffect)} than production's ${fmtNumber(p.baseline, 6)} (a per-request loss difference of ${fmtNumber(p.lossEffect, 6)})${p.computedN !== undefined && p.computedN !== p.nPerArm ? html` <span class="muted small">(the formula gives ${fmtNumber(p.computedN)}; at least 30 per arm)</span>` : ''}</dd>
  ${p.sigma !== null ? html`<dt>Spread of the loss</dt><dd>σ ${fmtNumber(p.sigma, 6)} from ${p.sigmaSource ?? 'the quality report'}</dd>` : ''}
  ${a.maxDuration !== undefined ? html`<dt>Out of time</dt><dd>after ${fmtNumber(a.maxDuration / 3600)} h: ${a.onTimeout === 'promote' ? 'promote anyway' : 'roll back (no promotion without evidence)'}</dd>` : ''}
  </dl>`;
}

function testRows(t: TwoSampleResult): Html {
  return html`<dl class="kv">
  <dt>Production</dt><dd>mean loss ${fmtNumber(t.production.mean, 6)} over ${fmtNumber(t.production.n)}</dd>
  <dt>Candidate</dt><dd>mean loss ${fmtNumber(t.candidate.mean, 6)} over ${fmtNumber(t.candidate.n)}</dd>
  <dt>Difference (candidate − production)</dt><dd data-field="difference">${fmtNumber(t.difference, 6)}</dd>
  <dt>Interval</dt><dd>[${fmtNumber(t.interval[0], 6)}, ${fmtNumber(t.interval[1], 6)}], z ${fmtNumber(t.z)}, p ${fmtNumber(t.pValue)}</dd>
  </dl>`;
}
