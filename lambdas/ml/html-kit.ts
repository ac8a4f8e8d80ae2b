/**
 * Building blocks of the self-contained HTML reports: escaping, one inline stylesheet and small
 * inline-SVG charts. No scripts, no fonts, no network: the page renders the same from S3, a mail
 * attachment or a file on disk.
 */

import { esc } from '../../lib/html';

// The one escaping function of mlship (lib/html.ts); the report components below build on it.
export { esc };

/** A number for people: 4 significant digits, no exponent for ordinary magnitudes. */
export function num(v: number | null | undefined, digits = 4): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '−∞';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e6 || a < 1e-4) return v.toExponential(2);
  return Number(v.toPrecision(digits)).toLocaleString('en-US', { maximumFractionDigits: 6 });
}

export function signed(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  return (v > 0 ? '+' : v < 0 ? '−' : '±') + num(Math.abs(v));
}

export const CSS = `
*{box-sizing:border-box}
body{margin:0;background:#f4f5f7;color:#1d2330;font:14px/1.45 -apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1120px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:16px;margin:0 0 12px;color:#2b3445}
.sub{color:#5b6578;font-size:13px}
.card{background:#fff;border:1px solid #dfe3ea;border-radius:8px;padding:18px 20px;margin:16px 0}
.verdict{display:flex;gap:18px;align-items:center;border-radius:8px;padding:18px 22px;margin:16px 0;color:#fff}
.verdict.ok{background:#1f7a4d}.verdict.bad{background:#b3261e}.verdict.warn{background:#9a6700}
.verdict .big{font-size:26px;font-weight:700;letter-spacing:.3px}
.verdict ul{margin:6px 0 0;padding-left:18px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(160px,1fr));gap:12px}
.kpi{border:1px solid #e3e7ee;border-radius:6px;padding:10px 12px}
.kpi .name{color:#5b6578;font-size:12px;text-transform:uppercase;letter-spacing:.4px}
.kpi .val{font-size:20px;font-weight:650}
.kpi .std{color:#5b6578;font-size:12px}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{text-align:right;padding:6px 10px;border-bottom:1px solid #edf0f4;white-space:nowrap}
th{color:#5b6578;font-weight:600;font-size:12px;background:#fafbfc}
th:first-child,td:first-child{text-align:left}
td.l{text-align:left;white-space:normal}
.pill{display:inline-block;border-radius:10px;padding:1px 9px;font-size:12px;font-weight:600}
.pill.ok{background:#dff3e8;color:#17603c}.pill.bad{background:#fbe0de;color:#8c1d16}.pill.na{background:#eceff3;color:#4a5466}.pill.warn{background:#fff1cc;color:#7a5200}
.better{color:#17603c}.worse{color:#b3261e}
.two{display:grid;grid-template-columns:1fr 1fr;gap:16px}
table+.two,.note+.two{margin-top:18px}
@media (max-width:820px){.two{grid-template-columns:1fr}}
dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:0}
dt{color:#5b6578}dd{margin:0;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px;word-break:break-all}
.note{color:#5b6578;font-size:12.5px;margin:8px 0 0}
svg text{font:11px -apple-system,"Segoe UI",Roboto,Arial,sans-serif;fill:#4a5466}
.legend{font-size:12px;color:#4a5466}.sw{display:inline-block;width:10px;height:10px;border-radius:2px;margin:0 4px 0 10px;vertical-align:-1px}
`;

export const REF_COLOR = '#8aa4c8';
export const CUR_COLOR = '#e07b39';

export function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${esc(title)}</title><style>${CSS}</style></head><body><main>${body}</main></body></html>\n`;
}

export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (lo === hi) return [lo];
  const span = hi - lo;
  const step0 = span / count;
  const mag = Math.pow(10, Math.floor(Math.log10(step0)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => span / s <= count) ?? 10 * mag;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(Math.abs(t) < step * 1e-9 ? 0 : t);
  return ticks;
}

/** A histogram from edges and counts. */
export function histogramSvg(
  edges: number[],
  counts: number[],
  opts: { width?: number; height?: number; xLabel?: string; color?: string; marker?: number } = {},
): string {
  const W = opts.width ?? 500;
  const H = opts.height ?? 220;
  const m = { l: 44, r: 12, t: 10, b: 38 };
  const lo = edges[0]!;
  const hi = edges[edges.length - 1]!;
  const maxC = Math.max(1, ...counts);
  const x = (v: number) => m.l + ((v - lo) / (hi - lo || 1)) * (W - m.l - m.r);
  const y = (c: number) => H - m.b - (c / maxC) * (H - m.t - m.b);
  const bars = counts
    .map(
      (c, i) =>
        `<rect x="${x(edges[i]!).toFixed(1)}" y="${y(c).toFixed(1)}" width="${Math.max(0.5, x(edges[i + 1]!) - x(edges[i]!) - 1).toFixed(1)}" height="${(H - m.b - y(c)).toFixed(1)}" fill="${opts.color ?? REF_COLOR}"><title>${esc(`${num(edges[i]!)} – ${num(edges[i + 1]!)}: ${c}`)}</title></rect>`,
    )
    .join('');
  const xt = niceTicks(lo, hi)
    .map(
      (t) =>
        `<line x1="${x(t)}" x2="${x(t)}" y1="${H - m.b}" y2="${H - m.b + 4}" stroke="#9aa3b2"/><text x="${x(t)}" y="${H - m.b + 16}" text-anchor="middle">${esc(num(t, 3))}</text>`,
    )
    .join('');
  const yt = niceTicks(0, maxC, 4)
    .map(
      (t) =>
        `<line x1="${m.l}" x2="${W - m.r}" y1="${y(t)}" y2="${y(t)}" stroke="#eef0f4"/><text x="${m.l - 6}" y="${y(t) + 4}" text-anchor="end">${esc(num(t, 3))}</text>`,
    )
    .join('');
  const marker =
    opts.marker !== undefined && opts.marker >= lo && opts.marker <= hi
      ? `<line x1="${x(opts.marker)}" x2="${x(opts.marker)}" y1="${m.t}" y2="${H - m.b}" stroke="#1d2330" stroke-dasharray="4 3"/>`
      : '';
  return `<svg viewBox="0 0 ${W} ${H}" width="100%" role="img">${yt}${bars}${marker}<line x1="${m.l}" x2="${W - m.r}" y1="${H - m.b}" y2="${H - m.b}" stroke="#9aa3b2"/>${xt}<text x="${(m.l + W - m.r) / 2}" y="${H - 4}" text-anchor="middle">${esc(opts.xLabel ?? '')}</text></svg>`;
}

/** A scatter plot of predicted against actual with the y = x diagonal. */
export function scatterSvg(actual: number[], predicted: number[], opts: { width?: number; height?: number } = {}): string {
  const W = opts.width ?? 500;
  const H = opts.height ?? 260;
  const m = { l: 48, r: 12, t: 10, b: 38 };
  const all = [...actual, ...predicted];
  let lo = Math.min(...all);
  let hi = Math.max(...all);
  if (lo === hi) {
    lo -= 1;
    hi += 1;
  }
  const pad = (hi - lo) * 0.03;
  lo -= pad;
  hi += pad;
  const x = (v: number) => m.l + ((v - lo) / (hi - lo)) * (W - m.l - m.r);
  const y = (v: number) => H - m.b - ((v - lo) / (hi - lo)) * (H - m.t - m.b);
  const dots = actual
    .map((a, i) => `<circle cx="${x(a).toFixed(1)}" cy="${y(predicted[i]!).toFixed(1)}" r="2.4" fill="${CUR_COLOR}" fill-opacity=".55"/>`)
    .join('');
  const ticks = niceTicks(lo, hi);
  const xt = ticks.map((t) => `<text x="${x(t)}" y="${H - m.b + 16}" text-anchor="middle">${esc(num(t, 3))}</text>`).join('');
  const yt = ticks
    .map(
      (t) =>
        `<line x1="${m.l}" x2="${W - m.r}" y1="${y(t)}" y2="${y(t)}" stroke="#eef0f4"/><text x="${m.l - 6}" y="${y(t) + 4}" text-anchor="end">${esc(num(t, 3))}</text>`,
    )
    .join('');
  return `<svg viewBox="0 0 ${W} ${H}" width="100%" role="img">${yt}<line x1="${x(lo)}" y1="${y(lo)}" x2="${x(hi)}" y2="${y(hi)}" stroke="#1d2330" stroke-dasharray="4 3"/>${dots}<line x1="${m.l}" x2="${W - m.r}" y1="${H - m.b}" y2="${H - m.b}" stroke="#9aa3b2"/>${xt}<text x="${(m.l + W - m.r) / 2}" y="${H - 4}" text-anchor="middle">actual</text><text transform="translate(12 ${(m.t + H - m.b) / 2}) rotate(-90)" text-anchor="middle">predicted</text></svg>`;
}

/** Grouped bars of reference and current shares per bin or category. */
export function pairedBarsSvg(
  labels: string[],
  reference: number[],
  current: number[],
  opts: { width?: number; height?: number } = {},
): string {
  const W = opts.width ?? 520;
  const H = opts.height ?? 180;
  const m = { l: 40, r: 8, t: 8, b: 50 };
  const max = Math.max(0.01, ...reference, ...current);
  const band = (W - m.l - m.r) / Math.max(1, labels.length);
  const bw = Math.max(1, band * 0.38);
  const y = (v: number) => H - m.b - (v / max) * (H - m.t - m.b);
  const bars = labels
    .map((label, i) => {
      const x0 = m.l + i * band + band * 0.1;
      const short = label.length > 12 ? `${label.slice(0, 11)}…` : label;
      return (
        `<rect x="${x0.toFixed(1)}" y="${y(reference[i]!).toFixed(1)}" width="${bw.toFixed(1)}" height="${(H - m.b - y(reference[i]!)).toFixed(1)}" fill="${REF_COLOR}"><title>${esc(`${label} reference ${(reference[i]! * 100).toFixed(1)}%`)}</title></rect>` +
        `<rect x="${(x0 + bw).toFixed(1)}" y="${y(current[i]!).toFixed(1)}" width="${bw.toFixed(1)}" height="${(H - m.b - y(current[i]!)).toFixed(1)}" fill="${CUR_COLOR}"><title>${esc(`${label} current ${(current[i]! * 100).toFixed(1)}%`)}</title></rect>` +
        `<text transform="translate(${(x0 + bw).toFixed(1)} ${H - m.b + 12}) rotate(-30)" text-anchor="end" font-size="10">${esc(short)}</text>`
      );
    })
    .join('');
  const yt = niceTicks(0, max, 3)
    .map(
      (t) =>
        `<line x1="${m.l}" x2="${W - m.r}" y1="${y(t)}" y2="${y(t)}" stroke="#eef0f4"/><text x="${m.l - 5}" y="${y(t) + 4}" text-anchor="end">${(t * 100).toFixed(0)}%</text>`,
    )
    .join('');
  return `<svg viewBox="0 0 ${W} ${H}" width="100%" role="img">${yt}${bars}<line x1="${m.l}" x2="${W - m.r}" y1="${H - m.b}" y2="${H - m.b}" stroke="#9aa3b2"/></svg>`;
}

export function legend(): string {
  return `<div class="legend"><span class="sw" style="background:${REF_COLOR}"></span>reference<span class="sw" style="background:${CUR_COLOR}"></span>current</div>`;
}

/** A confusion matrix as a shaded table (rows true, columns predicted). */
export function confusionTable(labels: string[], matrix: number[][]): string {
  const max = Math.max(1, ...matrix.flat());
  const head = `<tr><th>true \\ predicted</th>${labels.map((l) => `<th>${esc(l)}</th>`).join('')}</tr>`;
  const rows = matrix
    .map((row, i) => {
      const cells = row
        .map((v, j) => {
          const a = v / max;
          const bg =
            i === j
              ? `rgba(31,122,77,${(0.12 + 0.7 * a).toFixed(2)})`
              : v
                ? `rgba(179,38,30,${(0.1 + 0.7 * a).toFixed(2)})`
                : 'transparent';
          return `<td style="background:${bg};color:${a > 0.55 ? '#fff' : 'inherit'}">${v}</td>`;
        })
        .join('');
      return `<tr><th>${esc(labels[i]!)}</th>${cells}</tr>`;
    })
    .join('');
  return `<table>${head}${rows}</table>`;
}
