/**
 * The quality report of a candidate version, rendered inline on the approval page from the
 * documents the evaluation wrote (validation.json, quality-report.json, load-test.json; the
 * types are lambdas/ml's). The figures come straight from those files, so an approver reads
 * the same numbers the gate used. Read defensively: a missing section says so.
 */
import type { DriftReport, LoadTestSummary, QualityReport, Validation } from '../../../lambdas/ml/types';
import { badge, esc, fmtNumber, html, raw, type Html } from '../html';
import type { Reports } from '../data';
import { shadowSection, type ShadowDoc } from './shadow';
import { abSection } from './ab';

export function renderReports(r: Reports, reportHref: string | undefined): Html {
  const quality = r.quality as Partial<QualityReport> | undefined;
  const validation = (r.validation ?? quality?.validation) as Partial<Validation> | undefined;
  const loadTest = (r.loadTest ?? quality?.loadTest) as LoadTestDoc | undefined;
  return html`
  <h2>Quality gate</h2>${validationSection(validation)}
  <h2>Metrics vs production and the dummy baseline</h2>${metricsSection(quality, validation)}
  ${evaluationCharts(quality)}
  <h2>Load test</h2>${loadTestSection(loadTest)}
  <h2>Shadow test on live traffic</h2>${shadowSection(r.shadow as ShadowDoc | undefined)}
  <h2>A/B test after the approval</h2>${abSection(r.ab ?? {})}
  <h2>Training data drift</h2>${driftSection(quality?.trainingDrift)}
  <h2>Lineage</h2>${lineageSection(quality)}
  ${reportHref ? html`<h2>Full quality report</h2><p class="small"><a href="${reportHref}" target="_blank" rel="noopener">Open it on its own page</a></p><details open><summary>quality-report.html</summary><iframe class="report" sandbox title="quality report" src="${reportHref}"></iframe></details>` : ''}`;
}

function validationSection(v: Partial<Validation> | undefined): Html {
  if (!v) return html`<p class="muted">No validation.json for this version.</p>`;
  const checks = v.checks ?? [];
  return html`<div class="card">
    <p>${v.validation_ok ? badge('passed', 'ok') : badge('failed', 'bad')}
      ${v.comparedWithProduction === false ? html`<span class="muted"> first version: not compared with production</span>` : ''}</p>
    <table id="validation-checks"><thead><tr><th>Metric</th><th>Check</th><th class="num">Value</th><th class="num">Bound / limit</th><th class="num">Production</th><th>Result</th><th>Detail</th></tr></thead><tbody>
    ${checks.map(
      (c) => html`<tr data-metric="${c.metric}" data-kind="${c.kind}">
      <td>${c.metric}</td><td>${c.kind}</td>
      <td class="num" data-field="value">${fmtNumber(c.value, 6)}</td>
      <td class="num" data-field="bound">${fmtNumber(c.bound, 6)}</td>
      <td class="num" data-field="baseline">${fmtNumber(c.baseline, 6)}</td>
      <td>${c.ok ? badge('ok', 'ok') : badge('fail', 'bad')}</td><td class="small">${c.message}</td></tr>`,
    )}
    </tbody></table>
    ${(v.notes ?? []).length ? html`<ul class="small muted">${(v.notes ?? []).map((n) => html`<li>${n}</li>`)}</ul>` : ''}
  </div>`;
}

function metricsSection(q: Partial<QualityReport> | undefined, v: Partial<Validation> | undefined): Html {
  const ev = q?.evaluation;
  if (!ev) return html`<p class="muted">No quality-report.json for this version.</p>`;
  const names = [...new Set([...Object.keys(ev.metrics ?? {}), ...(v?.checks ?? []).map((c) => c.metric)])];
  const prod = q?.production?.metrics ?? {};
  return html`<div class="card"><p class="small muted">${ev.n} holdout rows; ± is the bootstrap standard deviation (${ev.bootstrap?.resamples ?? 0} resamples).
    ${q?.production ? html`Production is version ${q.production.version}.` : 'No production version yet.'}</p>
    <table id="metrics"><thead><tr><th>Metric</th><th class="num">Candidate</th><th class="num">Production</th><th class="num">Dummy baseline</th><th><span class="legend c">candidate</span> <span class="legend p">production</span> <span class="legend d">dummy</span></th></tr></thead><tbody>
    ${names.map((m) => {
      const c = ev.metrics?.[m];
      return html`<tr data-metric="${m}"><td>${m}</td>
        <td class="num" data-field="candidate">${fmtNumber(c, 6)}${ev.std?.[m] ? html` <span class="muted small">± ${fmtNumber(ev.std[m], 3)}</span>` : ''}</td>
        <td class="num" data-field="production">${fmtNumber(prod[m], 6)}</td>
        <td class="num" data-field="dummy">${fmtNumber(ev.dummy?.[m], 6)}</td>
        <td>${metricBars(c, prod[m], ev.dummy?.[m])}</td></tr>`;
    })}
    </tbody></table>
    ${(ev.warnings ?? []).length ? html`<ul class="small muted">${ev.warnings.map((w) => html`<li>${w}</li>`)}</ul>` : ''}</div>`;
}

/** Three bars (candidate, production, dummy) scaled to the largest absolute value of the row. */
function metricBars(...values: (number | undefined)[]): Html {
  const nums = values.map((v) => (typeof v === 'number' && Number.isFinite(v) ? Math.abs(v) : 0));
  const max = Math.max(...nums, 1e-12);
  const colors = ['#0b5cad', '#1a7f37', '#9aa5b1'];
  const rows = nums.map((n, i) => `<rect x="0" y="${i * 7}" width="${((n / max) * 120).toFixed(1)}" height="5" fill="${colors[i]}"/>`);
  return raw(`<svg width="124" height="21" role="img" aria-label="candidate, production, dummy">${rows.join('')}</svg>`);
}

function evaluationCharts(q: Partial<QualityReport> | undefined): Html {
  const d = q?.evaluation?.details;
  if (!d) return html``;
  const parts: Html[] = [];
  if (d.residualHistogram?.counts?.length)
    parts.push(
      html`<div class="card"><h3>Residuals (prediction − label)</h3>${histogramSvg(d.residualHistogram.edges, d.residualHistogram.counts)}</div>`,
    );
  if (d.predictedVsActual?.actual?.length)
    parts.push(
      html`<div class="card"><h3>Predicted vs actual</h3>${scatterSvg(d.predictedVsActual.actual, d.predictedVsActual.predicted)}</div>`,
    );
  if (d.confusion?.labels?.length)
    parts.push(html`<div class="card"><h3>Confusion matrix</h3>${confusionTable(d.confusion.labels, d.confusion.matrix)}</div>`);
  return parts.length ? html`<div class="grid">${parts}</div>` : html``;
}

function histogramSvg(edges: number[], counts: number[]): Html {
  const w = 360;
  const h = 140;
  const max = Math.max(...counts, 1);
  const bw = w / counts.length;
  const bars = counts.map(
    (c, i) =>
      `<rect x="${(i * bw + 1).toFixed(1)}" y="${(h - (c / max) * (h - 10)).toFixed(1)}" width="${Math.max(1, bw - 2).toFixed(1)}" height="${((c / max) * (h - 10)).toFixed(1)}" fill="#0b5cad"><title>[${esc(fmtNumber(edges[i]))}, ${esc(fmtNumber(edges[i + 1]))}): ${c}</title></rect>`,
  );
  return raw(
    `<svg width="${w}" height="${h + 16}" role="img" aria-label="histogram">${bars.join('')}<text x="0" y="${h + 13}">${esc(fmtNumber(edges[0]))}</text><text x="${w}" y="${h + 13}" text-anchor="end">${esc(fmtNumber(edges.at(-1)))}</text></svg>`,
  );
}

function scatterSvg(actual: number[], predicted: number[]): Html {
  const s = 160;
  const all = [...actual, ...predicted].filter(Number.isFinite);
  const lo = Math.min(...all);
  const hi = Math.max(...all);
  const span = hi - lo || 1;
  const p = (v: number) => (((v - lo) / span) * (s - 10) + 5).toFixed(1);
  const dots = actual.map(
    (a, i) => `<circle cx="${p(a)}" cy="${(s - Number(p(predicted[i] ?? a))).toFixed(1)}" r="1.6" fill="#0b5cad" fill-opacity=".6"/>`,
  );
  return raw(
    `<svg width="${s}" height="${s}" role="img" aria-label="predicted vs actual"><line x1="5" y1="${s - 5}" x2="${s - 5}" y2="5" stroke="#9aa5b1" stroke-dasharray="3 3"/>${dots.join('')}</svg>`,
  );
}

function confusionTable(labels: string[], matrix: number[][]): Html {
  const max = Math.max(...matrix.flat(), 1);
  return html`<table class="small"><thead><tr><th>true \\ predicted</th>${labels.map((l) => html`<th class="num">${l}</th>`)}</tr></thead><tbody>
  ${labels.map((l, i) => html`<tr><th>${l}</th>${(matrix[i] ?? []).map((n) => raw(`<td class="num heat${Math.min(4, Math.floor((4.999 * n) / max))}">${n}</td>`))}</tr>`)}</tbody></table>`;
}

/** load-test.json as the LoadTest task writes it (lambdas/load-test), or lambdas/ml's LoadTestSummary. */
type LoadTestDoc = Partial<LoadTestSummary> & {
  achievedRps?: number;
  errors?: number;
  maxMs?: number;
  target?: { rps?: number; durationSeconds?: number };
  failures?: string[];
};

function loadTestSection(lt: LoadTestDoc | undefined): Html {
  if (!lt) return html`<p class="muted">No load test for this version.</p>`;
  const rate = lt.achievedRps ?? lt.rps;
  return html`<div class="card" id="load-test"><p>${lt.ok ? badge('passed', 'ok') : badge('failed', 'bad')}</p>
  <dl class="kv"><dt>Requests</dt><dd data-field="requests">${fmtNumber(lt.requests)}${lt.errors !== undefined ? ` (${fmtNumber(lt.errors)} failed)` : ''}</dd>
  <dt>Rate</dt><dd data-field="rps">${fmtNumber(rate)} req/s${lt.target?.rps !== undefined ? html` <span class="muted">(target ${fmtNumber(lt.target.rps)} req/s for ${fmtNumber(lt.target.durationSeconds)} s)</span>` : ''}</dd>
  <dt>Latency p50 / p95 / p99</dt><dd data-field="latency">${fmtNumber(lt.p50Ms)} / ${fmtNumber(lt.p95Ms)} / ${fmtNumber(lt.p99Ms)} ms</dd>
  <dt>Error rate</dt><dd data-field="errorRate">${fmtNumber(lt.errorRate)}</dd>
  ${lt.bounds ? html`<dt>Bounds</dt><dd>p99 ≤ ${fmtNumber(lt.bounds.p99Ms)} ms, error rate ≤ ${fmtNumber(lt.bounds.maxErrorRate)}</dd>` : ''}
  ${(lt.failures ?? []).length ? html`<dt>Failures</dt><dd>${(lt.failures ?? []).join('; ')}</dd>` : ''}</dl></div>`;
}

/** A drift report (training data vs production's baseline, or a monitoring run). */
export function driftSection(d: Partial<DriftReport> | undefined): Html {
  if (!d) return html`<p class="muted">No drift comparison (first version, or none recorded).</p>`;
  return html`<div class="card"><p>${badge(d.verdict ?? 'unknown')} <span class="muted">${d.message ?? ''}</span></p>
  <dl class="kv"><dt>Drift share</dt><dd>${fmtNumber(d.driftShare)}</dd><dt>Rows</dt><dd>reference ${fmtNumber(d.referenceRows)}, current ${fmtNumber(d.currentRows)}</dd>
  ${(d.driftedCritical ?? []).length ? html`<dt>Critical drifted</dt><dd>${(d.driftedCritical ?? []).join(', ')}</dd>` : ''}</dl>
  <table class="small"><thead><tr><th>Column</th><th>Method</th><th class="num">Score</th><th class="num">Threshold</th><th class="num">PSI</th><th>Drift</th><th>Reference vs current</th></tr></thead><tbody>
  ${(d.columns ?? []).map(
    (
      c,
    ) => html`<tr><td>${c.column}${c.critical ? html` ${badge('critical', 'warn')}` : ''}</td><td>${c.method}</td><td class="num">${fmtNumber(c.score)}</td><td class="num">${fmtNumber(c.threshold)}</td><td class="num">${fmtNumber(c.psi)}</td>
      <td>${c.drifted === null ? badge('n/a') : c.drifted ? badge('drift', 'bad') : badge('ok', 'ok')}</td><td>${c.distribution ? distributionSvg(c.distribution.reference, c.distribution.current) : ''}</td></tr>`,
  )}</tbody></table></div>`;
}

function distributionSvg(ref: number[], cur: number[]): Html {
  const n = Math.max(ref.length, cur.length);
  if (!n) return html``;
  const w = 160;
  const h = 30;
  const max = Math.max(...ref, ...cur, 1e-12);
  const bw = w / n;
  const bars = [...Array(n).keys()].flatMap((i) => [
    `<rect x="${(i * bw).toFixed(1)}" y="${(h - ((ref[i] ?? 0) / max) * h).toFixed(1)}" width="${Math.max(1, bw / 2 - 0.5).toFixed(1)}" height="${(((ref[i] ?? 0) / max) * h).toFixed(1)}" fill="#9aa5b1"/>`,
    `<rect x="${(i * bw + bw / 2).toFixed(1)}" y="${(h - ((cur[i] ?? 0) / max) * h).toFixed(1)}" width="${Math.max(1, bw / 2 - 0.5).toFixed(1)}" height="${(((cur[i] ?? 0) / max) * h).toFixed(1)}" fill="#0b5cad"/>`,
  ]);
  return raw(`<svg width="${w}" height="${h}" role="img" aria-label="reference (grey) vs current (blue)">${bars.join('')}</svg>`);
}

function lineageSection(q: Partial<QualityReport> | undefined): Html {
  const l = q?.lineage;
  if (!l) return html`<p class="muted">No lineage recorded.</p>`;
  return html`<div class="card"><dl class="kv"><dt>Commit</dt><dd><code>${l.commit}</code></dd>
  ${l.imageDigest ? html`<dt>Image digest</dt><dd><code>${l.imageDigest}</code></dd>` : ''}
  ${Object.entries(l.dataDigests ?? {}).map(([f, dgst]) => html`<dt>${f}</dt><dd><code>${dgst}</code></dd>`)}
  ${l.trigger ? html`<dt>Trigger</dt><dd>${l.trigger}</dd>` : ''}
  ${l.executionArn ? html`<dt>Execution</dt><dd><a href="/releases?arn=${encodeURIComponent(l.executionArn)}">${l.executionArn.split(':').at(-1)}</a></dd>` : ''}
  </dl></div>`;
}
