/**
 * The shadow stage's comparison on the approval page, from reports/<model>/<version>/shadow.json
 * (lambdas/shadow-test): the verdict, how often and how far the candidate's answers differ from
 * production's on the same live requests, and the ground-truth metric difference when labels came.
 */
import type { Agreement, PairedBootstrapResult, VariantMetrics } from '../../../lambdas/ml/shadow';
import { badge, fmtNumber, html, raw, type Html } from '../html';

export interface ShadowDoc {
  verdict?: 'pass' | 'fail' | 'insufficient-data';
  reasons?: string[];
  requests?: number;
  labelled?: number;
  samplingPercent?: number;
  startedAt?: string;
  endedAt?: string;
  agreement?: Agreement | null;
  metric?: Partial<PairedBootstrapResult> & { reason?: string };
  /** Latency and error rate per variant (CloudWatch); absent in reports written before they were read. */
  variants?: VariantMetrics;
}

const TONE = { pass: 'ok', fail: 'bad', 'insufficient-data': 'warn' } as const;

export function shadowSection(s: ShadowDoc | undefined): Html {
  if (!s) return html`<p class="muted">No shadow test for this version (none configured, or a first release).</p>`;
  return html`<div class="card" id="shadow-test"><p data-field="verdict">${badge(s.verdict ?? 'unknown', s.verdict ? TONE[s.verdict] : undefined)}
    <span class="muted">${(s.reasons ?? []).join('; ')}</span></p>
  <dl class="kv"><dt>Shadowed requests</dt><dd data-field="requests">${fmtNumber(s.requests)} (${fmtNumber(s.samplingPercent)} % of production's, ${fmtNumber(s.labelled)} with ground truth)</dd>
  <dt>Window</dt><dd>${s.startedAt ?? ''} – ${s.endedAt ?? ''}</dd>
  ${agreementRows(s.agreement ?? null)}
  ${metricRows(s.metric)}${variantRows(s.variants)}</dl>${s.agreement?.task === 'classification' ? crossTab(s.agreement) : ''}${
    s.agreement?.task === 'regression' ? differenceHistogram(s.agreement) : ''
  }</div>`;
}

function agreementRows(a: Agreement | null): Html {
  if (!a) return html`<dt>Agreement</dt><dd class="muted">no request answered by both</dd>`;
  if (a.task === 'classification')
    return html`<dt>Agreement</dt><dd data-field="agreement">${fmtNumber(a.agreement)} of ${fmtNumber(a.n)}</dd>`;
  return html`<dt>Difference (candidate − production)</dt><dd data-field="difference">mean ${fmtNumber(a.meanDifference)}, mean |d| ${fmtNumber(a.meanAbsDifference)}, p95 |d| ${fmtNumber(a.p95AbsDifference)}, max |d| ${fmtNumber(a.maxAbsDifference)}</dd>`;
}

/** Production's and the shadow's invocations, errors and model latency over the window, side by side. */
function variantRows(m: VariantMetrics | undefined): Html {
  if (!m) return html``;
  if (!m.available)
    return html`<dt>Latency and error rate per variant</dt><dd class="muted" data-field="variants">not available: ${m.reason}</dd>`;
  const role = (i: number) => (i === 0 ? 'production' : 'candidate');
  return html`<dt>Latency and error rate per variant</dt><dd data-field="variants"><table class="small" id="shadow-variants"><thead><tr><th>variant</th><th class="num">invocations</th><th class="num">4XX</th><th class="num">5XX</th><th class="num">error rate</th><th class="num">p50 ms</th><th class="num">p99 ms</th></tr></thead><tbody>
  ${m.variants.map(
    (v, i) =>
      html`<tr data-variant="${v.variant}"><th>${v.variant} (${role(i)})</th><td class="num">${fmtNumber(v.invocations)}</td><td class="num">${fmtNumber(v.errors4xx)}</td><td class="num">${fmtNumber(v.errors5xx)}</td><td class="num">${fmtNumber(v.errorRate)}</td><td class="num">${fmtNumber(v.latencyP50Ms)}</td><td class="num">${fmtNumber(v.latencyP99Ms)}</td></tr>`,
  )}</tbody></table><span class="muted">CloudWatch AWS/SageMaker, ${m.from} – ${m.to}</span></dd>`;
}

function metricRows(m: ShadowDoc['metric']): Html {
  if (!m) return html``;
  if (m.reason || m.difference === undefined)
    return html`<dt>${m.metric ?? 'Metric'} on ground truth</dt><dd class="muted">${m.reason ?? 'not compared'}</dd>`;
  return html`<dt>${m.metric} on ground truth</dt><dd data-field="metric">production ${fmtNumber(m.production)}, candidate ${fmtNumber(m.shadow)}, difference ${fmtNumber(m.difference)} (${fmtNumber((m.level ?? 0) * 100)} % paired bootstrap interval ${fmtNumber(m.lower)} .. ${fmtNumber(m.upper)}, ${fmtNumber(m.resamples)} resamples)</dd>`;
}

function crossTab(a: Extract<Agreement, { task: 'classification' }>): Html {
  return html`<table class="small" id="shadow-crosstab"><thead><tr><th>production \\ candidate</th>${a.classes.map((c) => html`<th class="num">${c}</th>`)}</tr></thead><tbody>
  ${a.classes.map((c, i) => html`<tr><th>${c}</th>${a.crossTab[i]!.map((n, j) => html`<td class="num"${i === j ? raw(' style="font-weight:bold"') : ''}>${fmtNumber(n)}</td>`)}</tr>`)}
  </tbody></table>`;
}

/** The histogram of the differences, as bars (the counts are in the title of each). */
function differenceHistogram(a: Extract<Agreement, { task: 'regression' }>): Html {
  const { edges, counts } = a.histogram;
  const w = 320;
  const h = 60;
  const max = Math.max(...counts, 1);
  const bw = w / Math.max(1, counts.length);
  const bars = counts.map(
    (n, i) =>
      `<rect x="${(i * bw).toFixed(1)}" y="${(h - (n / max) * h).toFixed(1)}" width="${Math.max(1, bw - 1).toFixed(1)}" height="${((n / max) * h).toFixed(1)}" fill="#0b5cad"><title>${edges[i]!.toPrecision(3)} .. ${edges[i + 1]!.toPrecision(3)}: ${n}</title></rect>`,
  );
  return html`<p class="small">Differences candidate − production, ${fmtNumber(edges[0])} .. ${fmtNumber(edges.at(-1))}</p>${raw(
    `<svg id="shadow-histogram" width="${w}" height="${h}" role="img" aria-label="histogram of the differences">${bars.join('')}</svg>`,
  )}`;
}
