/**
 * The shadow stage's report as a self-contained page (reports/<model>/<version>/shadow.html),
 * beside the quality report the evaluation wrote before the stage: the verdict, the agreement
 * or the histogram of differences, the cross-tab and the ground-truth metric difference.
 */
import { CUR_COLOR, esc, histogramSvg, num, page } from './html-kit';
import type { Agreement, PairedBootstrapResult, ShadowVerdict, VariantMetrics } from './shadow';

export interface ShadowReport extends ShadowVerdict {
  model: string;
  version: string;
  startedAt: string;
  endedAt: string;
  samplingPercent: number;
  requests: number;
  labelled: number;
  agreement: Agreement | null;
  metric: PairedBootstrapResult | { metric: string; reason: string };
  variants: VariantMetrics;
}

function agreementHtml(a: Agreement | null): string {
  if (!a) return '<p>No request was answered by both models.</p>';
  if (a.task === 'classification') {
    const head = a.classes.map((c) => `<th>${esc(c)}</th>`).join('');
    const rows = a.classes
      .map((c, i) => `<tr><th>${esc(c)}</th>${a.crossTab[i]!.map((n) => `<td class="num">${n}</td>`).join('')}</tr>`)
      .join('');
    return `<p>Agreement <b>${num(a.agreement)}</b> on ${a.n} requests.</p><table><thead><tr><th>production \\ candidate</th>${head}</tr></thead><tbody>${rows}</tbody></table>`;
  }
  return `<p>Candidate − production on ${a.n} requests: mean ${num(a.meanDifference)}, mean |d| ${num(a.meanAbsDifference)}, p95 |d| ${num(a.p95AbsDifference)}, max |d| ${num(a.maxAbsDifference)}.</p>${histogramSvg(
    a.histogram.edges,
    a.histogram.counts,
    { xLabel: 'candidate − production', color: CUR_COLOR, marker: 0 },
  )}`;
}

/** Latency and error rate per variant (CloudWatch, over the window), or why they are not available. */
function variantsHtml(m: VariantMetrics): string {
  if (!m.available) return `<p>Not available: ${esc(m.reason)}.</p>`;
  const ms = (x: number | null) => (x === null ? '–' : `${num(x)} ms`);
  const rows = m.variants
    .map(
      (v) =>
        `<tr><th>${esc(v.variant)}</th><td class="num">${v.invocations}</td><td class="num">${v.errors4xx}</td><td class="num">${v.errors5xx}</td><td class="num">${v.errorRate === null ? '–' : num(v.errorRate)}</td><td>p50 ${ms(v.latencyP50Ms)}, p99 ${ms(v.latencyP99Ms)}</td></tr>`,
    )
    .join('');
  return `<table><thead><tr><th>variant</th><th>invocations</th><th>4XX</th><th>5XX</th><th>error rate</th><th>model latency</th></tr></thead><tbody>${rows}</tbody></table><p class="small">CloudWatch AWS/SageMaker, ${esc(m.from)} – ${esc(m.to)}.</p>`;
}

function metricHtml(m: ShadowReport['metric']): string {
  if ('reason' in m) return `<p>${esc(m.metric)} on ground truth: ${esc(m.reason)}.</p>`;
  return `<p>${esc(m.metric)} on ${m.n} labelled requests: production ${num(m.production)}, candidate ${num(m.shadow)}, difference ${num(m.difference)} (${Math.round(m.level * 100)} % paired bootstrap interval ${num(m.lower)} .. ${num(m.upper)}, ${m.resamples} resamples, seed ${m.seed}).</p>`;
}

export function renderShadowReportHtml(r: ShadowReport): string {
  return page(
    `Shadow test ${r.model} ${r.version}`,
    `<h1>Shadow test: ${esc(r.model)} ${esc(r.version)}</h1>
<p><b>${esc(r.verdict)}</b>: ${esc(r.reasons.join('; '))}</p>
<p>${r.requests} requests answered by both (${r.samplingPercent} % of production's copied), ${r.labelled} with ground truth, ${esc(r.startedAt)} – ${esc(r.endedAt)}.</p>
<h2>Agreement</h2>${agreementHtml(r.agreement)}
<h2>Metric on ground truth</h2>${metricHtml(r.metric)}
<h2>Latency and error rate per variant</h2>${variantsHtml(r.variants)}`,
  );
}
