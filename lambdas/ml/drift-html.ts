/**
 * The drift report as a self-contained HTML page; `driftSection` is reused by the quality report
 * for the training data's drift against production's baseline.
 */
import { esc, legend, num, page, pairedBarsSvg } from './html-kit';
import type { DataQualityReport } from './data-quality';
import type { ColumnDrift, ConceptDriftResult, DriftReport } from './types';

function status(c: ColumnDrift): string {
  if (c.drifted === null) return '<span class="pill na">too few rows</span>';
  return c.drifted ? '<span class="pill bad">drift</span>' : '<span class="pill ok">stable</span>';
}

function score(c: ColumnDrift): string {
  const cmp =
    c.pValue !== null
      ? `p = ${num(c.pValue, 3)} ${c.testDrifted ? '<' : '≥'} ${num(c.threshold, 3)}`
      : `${num(c.statistic, 3)} ${c.testDrifted ? '≥' : '<'} ${num(c.threshold, 3)}`;
  return esc(cmp);
}

const METHOD_NAMES: Record<string, string> = {
  ks: 'K–S',
  chisquare: 'chi-squared',
  ztest: 'Z-test',
  wasserstein: 'Wasserstein (norm.)',
  jensenshannon: 'Jensen–Shannon',
  psi: 'PSI',
};

/** The drift table and the charts of the drifted columns (at most `maxCharts`). */
export function driftSection(report: DriftReport, opts: { title: string; maxCharts?: number }): string {
  const rows = report.columns
    .map(
      (c) =>
        `<tr><td>${esc(c.column)}${c.critical ? ' <span class="pill warn">critical</span>' : ''}</td><td class="l">${esc(c.kind)}</td><td class="l">${esc(METHOD_NAMES[c.method] ?? c.method)}</td><td>${score(c)}</td><td>${num(c.psi, 3)}${c.psiDrifted ? ' <span class="pill bad">≥ ' + num(report.options.psiThreshold) + '</span>' : ''}</td><td>${c.currentCount.toLocaleString('en-US')}</td><td>${(c.currentCompleteness * 100).toFixed(1)}%</td><td>${status(c)}</td></tr>`,
    )
    .join('');
  const verdictPill =
    report.verdict === 'drift'
      ? '<span class="pill bad">dataset drift</span>'
      : report.verdict === 'no-drift'
        ? '<span class="pill ok">no dataset drift</span>'
        : '<span class="pill na">insufficient data</span>';
  const drifted = report.columns.filter((c) => c.drifted).slice(0, opts.maxCharts ?? 6);
  const charts = drifted.length
    ? `<div class="two">${drifted.map((c) => `<div><h2>${esc(c.column)} <span class="sub">${esc(METHOD_NAMES[c.method] ?? c.method)} ${num(c.statistic, 3)}, PSI ${num(c.psi, 3)}</span></h2>${pairedBarsSvg(c.distribution.labels, c.distribution.reference, c.distribution.current)}</div>`).join('')}</div>${legend()}`
    : '';
  const schema = [
    report.schema.missingColumns.length ? `Missing in the current data: ${esc(report.schema.missingColumns.join(', '))}.` : '',
    report.schema.extraColumns.length ? `Not in the baseline: ${esc(report.schema.extraColumns.join(', '))}.` : '',
    report.schema.typeErrors.length
      ? `Values of the wrong type in: ${esc([...new Set(report.schema.typeErrors.map((t) => t.column))].join(', '))}.`
      : '',
  ].filter(Boolean);
  return `<section class="card"><h2>${esc(opts.title)} ${verdictPill}</h2><p class="sub">${esc(report.message)}. Reference ${report.referenceRows.toLocaleString('en-US')} rows, current ${report.currentRows.toLocaleString('en-US')} rows; dataset drift at a drifted-feature share ≥ ${num(report.options.datasetDriftShare)} or any critical feature; PSI threshold ${num(report.options.psiThreshold)}${report.options.bonferroni ? '; Bonferroni-corrected p-value thresholds' : ''}.</p>
<table><tr><th>column</th><th style="text-align:left">kind</th><th style="text-align:left">test</th><th>result</th><th>PSI</th><th>rows</th><th>complete</th><th>status</th></tr>${rows}</table>
${schema.length ? `<p class="note">${schema.join(' ')}</p>` : ''}${charts}</section>`;
}

/** Skipped lines and values, and each feature's missing share against the baseline's. */
function qualitySection(q: DataQualityReport): string {
  const pill =
    q.verdict === 'data-quality'
      ? '<span class="pill bad">data-quality alert</span>'
      : q.verdict === 'ok'
        ? '<span class="pill ok">within limits</span>'
        : '<span class="pill na">too few rows</span>';
  const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(1)}%`);
  const rows = q.features
    .map(
      (f) =>
        `<tr><td>${esc(f.feature)}</td><td>${f.rows.toLocaleString('en-US')}</td><td>${f.skipped} (${pct(f.skippedShare)})</td><td>${pct(f.missingShare)}</td><td>${pct(f.referenceMissingShare)}</td><td>${f.alert ? '<span class="pill bad">alert</span>' : '<span class="pill ok">ok</span>'}</td></tr>`,
    )
    .join('');
  const examples = q.capture.examples.map((e) => `<li>${esc(e.source)} line ${e.line}: ${esc(e.reason)}</li>`).join('');
  return `<section class="card"><h2>Data quality ${pill}</h2><p class="sub">Capture lines: ${q.capture.skipped} of ${q.capture.total} skipped (${pct(q.capture.share)}); ground-truth lines: ${q.groundTruth.skipped} of ${q.groundTruth.total} skipped. Limits: skipped share ≤ ${pct(q.options.maxSkippedShare)}, missing share ≤ the baseline's + ${pct(q.options.maxMissingIncrease)}.</p>
<table><tr><th>feature</th><th>rows</th><th>skipped values</th><th>missing</th><th>missing in baseline</th><th>status</th></tr>${rows}</table>
${examples ? `<p class="note">Skipped lines:</p><ul>${examples}</ul>` : ''}</section>`;
}

/**
 * The drift check's HTML page.
 * @param meta what the pure code cannot know: the model, when the check ran, the window, the concept-drift result and the window's data quality
 */
export function renderDriftReportHtml(
  report: DriftReport,
  meta: { model: string; generatedAt: string; window?: string; concept?: ConceptDriftResult; quality?: DataQualityReport },
): string {
  const concept = meta.concept;
  const badQuality = meta.quality?.verdict === 'data-quality';
  const anyDrift = !badQuality && (report.verdict === 'drift' || concept?.verdict === 'drift');
  const noVerdict = report.verdict === 'insufficient-data' && (!concept || concept.verdict === 'insufficient-data');
  const cls = badQuality || anyDrift ? 'bad' : noVerdict ? 'warn' : 'ok';
  const headline = badQuality
    ? 'DATA-QUALITY ALERT — NO DRIFT VERDICT'
    : anyDrift
      ? 'DRIFT DETECTED'
      : noVerdict
        ? 'NO VERDICT — TOO LITTLE DATA'
        : 'NO DRIFT';
  const lines = [`Data drift: ${report.message}`];
  if (concept) lines.push(`Concept drift: ${concept.message}`);
  if (meta.quality) lines.unshift(`Data quality: ${meta.quality.message}`);
  const conceptCard = concept
    ? `<section class="card"><h2>Concept drift <span class="pill ${concept.verdict === 'drift' ? 'bad' : concept.verdict === 'no-drift' ? 'ok' : 'na'}">${esc(concept.verdict)}</span></h2>
<table><tr><th>metric</th><th>window</th><th>at evaluation</th><th>limit</th><th>labelled rows</th><th>unlabelled</th><th>no inferenceId</th><th>orphan labels</th></tr>
<tr><td>${esc(concept.metric)}</td><td>${num(concept.value)}</td><td>${num(concept.baseline)}</td><td>${concept.direction === 'higher' ? '≥' : '≤'} ${num(concept.limit)}</td><td>${concept.joined}</td><td>${concept.unlabeled}</td><td>${concept.withoutInferenceId}</td><td>${concept.orphanLabels}</td></tr></table></section>`
    : '';
  return page(
    `Drift report — ${meta.model}`,
    `<h1>Drift report — ${esc(meta.model)}</h1><div class="sub">${esc(meta.generatedAt)}${meta.window ? ` · window ${esc(meta.window)}` : ''}</div>
<div class="verdict ${cls}"><div class="big">${headline}</div><ul>${lines.map((l) => `<li>${esc(l)}</li>`).join('')}</ul></div>
${meta.quality ? qualitySection(meta.quality) : ''}${conceptCard}${driftSection(report, { title: 'Data drift per feature' })}`,
  );
}
