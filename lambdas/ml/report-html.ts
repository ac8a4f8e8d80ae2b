/**
 * The quality report as one self-contained HTML page for the approver: the verdict first, then
 * the metrics against the dummy and production, the plots, the training data's drift, the load
 * test and the lineage.
 */
import { driftSection } from './drift-html';
import { directionOf } from './evaluate';
import { confusionTable, esc, histogramSvg, num, page, scatterSvg, signed } from './html-kit';
import type { QualityReport } from './types';

function verdict(r: QualityReport): string {
  const v = r.validation;
  const loadOk = r.loadTest ? r.loadTest.ok : true;
  const drift = r.trainingDrift?.verdict === 'drift';
  const ok = v.validation_ok && loadOk;
  const items: string[] = [];
  for (const f of v.failures) items.push(`Gate: ${f.message}`);
  if (r.loadTest && !r.loadTest.ok)
    items.push(`Load test failed: p99 ${num(r.loadTest.p99Ms)} ms, error rate ${(r.loadTest.errorRate * 100).toFixed(2)}%`);
  if (ok)
    items.push(
      `All ${new Set(v.checks.map((c) => c.metric)).size} gated metric(s) pass${v.comparedWithProduction ? ` against production${r.production ? ` ${r.production.version}` : ''}` : ''}${r.loadTest ? '; load test passed' : ''}`,
    );
  for (const n of v.notes) items.push(n);
  if (drift) items.push('The training data drifted from production’s baseline (see below)');
  const cls = ok ? (drift ? 'warn' : 'ok') : 'bad';
  const headline = ok ? 'PASSED — READY FOR APPROVAL' : 'FAILED — DO NOT PROMOTE';
  return `<div class="verdict ${cls}"><div class="big">${headline}</div><ul>${items.map((i) => `<li>${esc(i)}</li>`).join('')}</ul></div>`;
}

function metricsSection(r: QualityReport): string {
  const e = r.evaluation;
  const gated = Object.keys(r.gates ?? {});
  const names = [...new Set([...gated, ...Object.keys(e.metrics)])].filter((m) => m in e.metrics || gated.includes(m));
  const kpis = names
    .filter((m) => m in e.metrics)
    .slice(0, 6)
    .map(
      (m) =>
        `<div class="kpi"><div class="name">${esc(m)}${gated.includes(m) ? ' · gated' : ''}</div><div class="val">${num(e.metrics[m])}</div><div class="std">± ${num(e.std[m] ?? 0, 2)} (bootstrap) · dummy ${num(e.dummy[m])}</div></div>`,
    )
    .join('');
  const rows = names
    .map((m) => {
      const value = e.metrics[m];
      const prod = r.production?.metrics[m];
      const dir = r.gates?.[m]?.direction ?? directionOf(m);
      const delta = value !== undefined && prod !== undefined ? value - prod : undefined;
      const better = delta === undefined || delta === 0 ? '' : (dir === 'higher') === delta > 0 ? 'better' : 'worse';
      // Slice checks have their own table; this row is about the whole holdout.
      const checks = r.validation.checks.filter((c) => c.metric === m && c.kind !== 'slice');
      const bound = checks.find((c) => c.kind === 'bound');
      const limit = checks.find((c) => c.kind === 'no-regression');
      const st =
        checks.length === 0
          ? '<span class="pill na">not gated</span>'
          : checks.every((c) => c.ok)
            ? '<span class="pill ok">pass</span>'
            : '<span class="pill bad">fail</span>';
      const beatsDummy =
        value !== undefined && e.dummy[m] !== undefined
          ? (dir === 'higher') === value > e.dummy[m]!
            ? ''
            : ' <span class="pill warn">not better than dummy</span>'
          : '';
      return `<tr><td>${esc(m)}</td><td>${num(value)}</td><td>${num(e.std[m])}</td><td>${num(e.dummy[m])}${beatsDummy}</td><td>${num(prod)}</td><td class="${better}">${signed(delta)}</td><td>${bound ? `${dir === 'higher' ? '≥' : '≤'} ${num(bound.bound)}` : '—'}</td><td>${limit ? `${dir === 'higher' ? '≥' : '≤'} ${num(limit.bound)}` : '—'}</td><td>${st}</td></tr>`;
    })
    .join('');
  return `<section class="card"><h2>Metrics on the holdout (${e.n.toLocaleString('en-US')} rows)</h2><div class="grid">${kpis}</div>
<table style="margin-top:14px"><tr><th>metric</th><th>candidate</th><th>bootstrap std</th><th>dummy</th><th>production${r.production ? ` (${esc(r.production.version)})` : ''}</th><th>Δ vs production</th><th>bound</th><th>no-regression limit</th><th>gate</th></tr>${rows}</table>
<p class="note">Standard deviations from ${e.bootstrap.resamples} bootstrap resamples (seed ${e.bootstrap.seed}). Dummy: ${e.task === 'regression' ? 'predicts the mean label' : 'predicts the majority class with the class prior as scores'}.${e.warnings.length ? ` Notes: ${esc(e.warnings.join('; '))}.` : ''}</p></section>`;
}

const pctCell = (x: number | undefined) => (x === undefined ? '—' : `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)} %`);

/** The slice table: worst slice first (evaluateSlices sorts), one column group per gated metric. */
function slicesSection(r: QualityReport): string {
  const e = r.slices;
  if (!e || e.slices.length === 0) return '';
  const metrics = [...new Set(e.slices.flatMap((s) => Object.keys(s.metrics)))];
  const head = metrics.map((m) => `<th>${esc(m)}</th><th>95 % interval</th><th>production</th><th>Δ</th><th>adj. p</th>`).join('');
  const rows = e.slices
    .map((s) => {
      const cells = metrics
        .map((m) => {
          const v = s.metrics[m];
          if (!v) return '<td>—</td><td></td><td></td><td></td><td></td>';
          const worse = v.delta !== undefined && v.delta !== 0 && (directionOf(m) === 'higher') === v.delta < 0;
          return `<td>${num(v.value)}</td><td>${v.low === undefined ? '—' : `${num(v.low)} – ${num(v.high)}`}</td><td>${num(v.production)}</td><td class="${worse ? 'worse' : 'better'}">${pctCell(v.relativeDelta)}</td><td>${v.adjustedP === undefined ? '—' : num(v.adjustedP, 3)}</td>`;
        })
        .join('');
      const st = !s.gated
        ? '<span class="pill na">not gated</span>'
        : s.ok
          ? '<span class="pill ok">pass</span>'
          : '<span class="pill bad">fail</span>';
      return `<tr><td class="l">${esc(s.name)}</td><td>${s.n.toLocaleString('en-US')}</td>${cells}<td>${st}</td></tr>`;
    })
    .join('');
  const method = e.correction === 'holm' ? 'Holm' : 'Bonferroni';
  return `<section class="card"><h2>Slices (worst first)</h2><table><tr><th>slice</th><th>rows</th>${head}<th>gate</th></tr>${rows}</table>
<p class="note">A slice of at least ${e.minRows} rows fails when it is worse than production by more than the metric's tolerance with a one-sided p-value (paired bootstrap, ${e.resamples} resamples, seed ${e.seed}) of at most ${e.alpha} after the ${method} correction over every slice and metric.${e.notes.length ? ` Notes: ${esc(e.notes.join('; '))}.` : ''}</p></section>`;
}

function detailsSection(r: QualityReport): string {
  const d = r.evaluation.details;
  if (d.confusion) {
    const per = d.perClass ?? {};
    const rows = Object.entries(per)
      .map(
        ([c, m]) =>
          `<tr><td>${esc(c)}</td><td>${num(m.precision)}</td><td>${num(m.recall)}</td><td>${num(m.f1)}</td><td>${m.support}</td></tr>`,
      )
      .join('');
    return `<section class="card two"><div><h2>Confusion matrix</h2>${confusionTable(d.confusion.labels, d.confusion.matrix)}<p class="note">Rows: true class; columns: predicted class.</p></div><div><h2>Per class</h2><table><tr><th>class</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr>${rows}</table></div></section>`;
  }
  const parts: string[] = [];
  if (d.residualHistogram)
    parts.push(
      `<div><h2>Residuals (prediction − label)</h2>${histogramSvg(d.residualHistogram.edges, d.residualHistogram.counts, { xLabel: 'residual', marker: 0 })}</div>`,
    );
  if (d.predictedVsActual)
    parts.push(`<div><h2>Predicted vs actual</h2>${scatterSvg(d.predictedVsActual.actual, d.predictedVsActual.predicted)}</div>`);
  return parts.length ? `<section class="card two">${parts.join('')}</section>` : '';
}

function loadTestSection(r: QualityReport): string {
  const l = r.loadTest;
  if (!l) return '';
  return `<section class="card"><h2>Load test <span class="pill ${l.ok ? 'ok' : 'bad'}">${l.ok ? 'pass' : 'fail'}</span></h2><table><tr><th>requests</th><th>rate</th><th>p50</th><th>p95</th><th>p99</th><th>p99 bound</th><th>error rate</th><th>error bound</th></tr>
<tr><td>${l.requests.toLocaleString('en-US')}</td><td>${num(l.rps)} req/s</td><td>${num(l.p50Ms)} ms</td><td>${num(l.p95Ms)} ms</td><td>${num(l.p99Ms)} ms</td><td>${l.bounds ? `≤ ${num(l.bounds.p99Ms)} ms` : '—'}</td><td>${(l.errorRate * 100).toFixed(2)}%</td><td>${l.bounds ? `≤ ${(l.bounds.maxErrorRate * 100).toFixed(2)}%` : '—'}</td></tr></table></section>`;
}

/** experiment.ab: the plan made here, which the release runs after the approval (lambdas/ab-test). */
function abSection(r: QualityReport): string {
  const a = r.ab;
  if (!a) return '';
  const timeout = a.onTimeout === 'promote' ? 'promote anyway' : 'roll back (no promotion without evidence)';
  if (!a.plan)
    return `<section class="card"><h2>A/B test after the approval</h2><p class="note">No plan: ${esc(a.reason ?? 'unknown')}</p></section>`;
  const p = a.plan;
  const sigma = p.sigma === null ? '' : `<dt>spread of the loss</dt><dd>σ ${num(p.sigma)} from ${esc(p.sigmaSource ?? 'this report')}</dd>`;
  return `<section class="card"><h2>A/B test after the approval</h2><p>The candidate will answer ${num(a.trafficPercent)} % of production's requests; it is promoted unless the test at ${p.nPerArm.toLocaleString('en-US')} labelled requests per arm finds it significantly worse.</p>
<dl><dt>method</dt><dd>${esc(p.method)}, two-sided, alpha ${num(p.alpha)}, power ${num(p.power)}, run once at the horizon</dd>
<dt>detects</dt><dd>${esc(p.metric)} worse by ${num(p.minDetectableEffect)} than production's ${num(p.baseline)}</dd>${sigma}
<dt>out of time (${num(a.maxDuration / 3600)} h)</dt><dd>${timeout}</dd></dl></section>`;
}

function lineageSection(r: QualityReport): string {
  const l = r.lineage;
  const rows: [string, string][] = [
    ['model', r.model],
    ['version', r.version],
    ['commit', l.commit],
  ];
  if (l.imageDigest) rows.push(['image digest', l.imageDigest]);
  for (const [file, digest] of Object.entries(l.dataDigests ?? {})) rows.push([file, digest]);
  if (l.trigger) rows.push(['trigger', l.trigger]);
  if (l.executionArn) rows.push(['execution', l.executionArn]);
  return `<section class="card"><h2>Lineage</h2><dl>${rows.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl></section>`;
}

/** Render the quality report as a self-contained HTML page (inline CSS and SVG, no scripts, no network). */
export function renderQualityReportHtml(report: QualityReport): string {
  const title = `Quality report — ${report.model} ${report.version}`;
  const body = [
    `<h1>${esc(title)}</h1><div class="sub">${esc(report.task)} · generated ${esc(report.generatedAt)} · commit ${esc(report.lineage.commit.slice(0, 12))}</div>`,
    verdict(report),
    metricsSection(report),
    slicesSection(report),
    detailsSection(report),
    report.trainingDrift ? driftSection(report.trainingDrift, { title: 'Training data vs production baseline', maxCharts: 4 }) : '',
    loadTestSection(report),
    abSection(report),
    lineageSection(report),
  ].join('\n');
  return page(title, body);
}
