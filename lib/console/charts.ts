/**
 * The model page's charts as inline SVG, as the quality and drift reports draw theirs
 * (lambdas/ml/html-kit.ts): no script, no network, the same picture in a browser and a
 * screenshot. Drawn by hand because the page's CSP allows no chart library's script, and
 * the charts are small: a series over versions or runs, bars, and a heat strip.
 */
import { esc, niceTicks, num } from '../../lambdas/ml/html-kit';

export interface Series {
  name: string;
  values: (number | null)[];
  color: string;
  /** Dashed line, no dots: a reference such as the dummy baseline. */
  dashed?: boolean;
}

export interface RefLine {
  value: number;
  label: string;
  color: string;
}

const AXIS = '#9aa3b2';
const GRID = '#eef0f4';
const M = { l: 52, r: 96, t: 10, b: 40 };

function yScale(values: number[], H: number): { y: (v: number) => number; ticks: number[] } {
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (lo === hi) {
    lo -= Math.abs(lo) * 0.1 || 1;
    hi += Math.abs(hi) * 0.1 || 1;
  }
  const pad = (hi - lo) * 0.08;
  lo -= pad;
  hi += pad;
  return { y: (v) => H - M.b - ((v - lo) / (hi - lo)) * (H - M.t - M.b), ticks: niceTicks(lo, hi, 4) };
}

function xLabels(labels: string[], x: (i: number) => number, H: number): string {
  const every = Math.max(1, Math.ceil(labels.length / 10));
  return labels
    .map((l, i) =>
      i % every === 0 || i === labels.length - 1
        ? `<text x="${x(i).toFixed(1)}" y="${H - M.b + 14}" text-anchor="middle">${esc(l.length > 14 ? `${l.slice(0, 13)}…` : l)}</text>`
        : '',
    )
    .join('');
}

/** Lines over ordinal x labels (versions, runs), with horizontal reference lines (bounds, thresholds). */
export function seriesSvg(
  labels: string[],
  series: Series[],
  refs: RefLine[] = [],
  opts: { width?: number; height?: number } = {},
): string {
  const W = opts.width ?? 560;
  const H = opts.height ?? 200;
  const all = [...series.flatMap((s) => s.values), ...refs.map((r) => r.value)].filter(
    (v): v is number => v !== null && Number.isFinite(v),
  );
  if (!all.length || !labels.length) return '<p class="muted small">No data yet.</p>';
  const { y, ticks } = yScale(all, H);
  const step = labels.length > 1 ? (W - M.l - M.r) / (labels.length - 1) : 0;
  const x = (i: number) => (labels.length > 1 ? M.l + i * step : (M.l + W - M.r) / 2);
  const grid = ticks
    .map(
      (t) =>
        `<line x1="${M.l}" x2="${W - M.r}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="${GRID}"/><text x="${M.l - 6}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end">${esc(num(t, 3))}</text>`,
    )
    .join('');
  // Labels of close reference lines are pushed apart, so "limit" and "at evaluation" both read.
  const labelY: number[] = [];
  const refLines = [...refs]
    .sort((a, b) => y(a.value) - y(b.value))
    .map((r) => {
      const ly = Math.max(y(r.value) + 4, (labelY.at(-1) ?? -Infinity) + 12);
      labelY.push(ly);
      return `<line x1="${M.l}" x2="${W - M.r}" y1="${y(r.value).toFixed(1)}" y2="${y(r.value).toFixed(1)}" stroke="${r.color}" stroke-dasharray="5 4"/><text x="${W - M.r + 4}" y="${ly.toFixed(1)}" style="fill:${r.color}">${esc(r.label)}</text>`;
    })
    .join('');
  const lines = series.map((s) => seriesPath(s, labels, x, y)).join('');
  return `<svg viewBox="0 0 ${W} ${H}" width="100%" role="img">${grid}${refLines}${lines}<line x1="${M.l}" x2="${W - M.r}" y1="${H - M.b}" y2="${H - M.b}" stroke="${AXIS}"/>${xLabels(labels, x, H)}</svg>`;
}

function seriesPath(s: Series, labels: string[], x: (i: number) => number, y: (v: number) => number): string {
  const pts = s.values.map((v, i) => (v === null || !Number.isFinite(v) ? undefined : { i, v }));
  let d = '';
  let pen = false;
  for (const p of pts) {
    if (!p) {
      pen = false;
      continue;
    }
    d += `${pen ? 'L' : 'M'}${x(p.i).toFixed(1)} ${y(p.v).toFixed(1)}`;
    pen = true;
  }
  const dash = s.dashed ? ' stroke-dasharray="2 3"' : '';
  const dots = s.dashed
    ? ''
    : pts
        .filter((p) => p !== undefined)
        .map(
          (p) =>
            `<circle cx="${x(p.i).toFixed(1)}" cy="${y(p.v).toFixed(1)}" r="3.5" fill="${s.color}"><title>${esc(`${s.name} ${labels[p.i]}: ${num(p.v)}`)}</title></circle>`,
        )
        .join('');
  return `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="${s.dashed ? 1.5 : 2}"${dash}/>${dots}`;
}

/** Bars over ordinal labels, coloured by `bad`, with an optional threshold line. */
export function barsSvg(
  labels: string[],
  values: (number | null)[],
  opts: {
    threshold?: number;
    bad?: (v: number) => boolean;
    format?: (v: number) => string;
    width?: number;
    height?: number;
    max?: number;
  } = {},
): string {
  const W = opts.width ?? 560;
  const H = opts.height ?? 180;
  if (!labels.length) return '<p class="muted small">No data yet.</p>';
  const fmt = opts.format ?? ((v: number) => num(v));
  const max = Math.max(opts.max ?? 0, opts.threshold ?? 0, ...values.filter((v): v is number => v !== null)) || 1;
  const y = (v: number) => H - M.b - (v / max) * (H - M.t - M.b);
  const band = (W - M.l - M.r) / labels.length;
  const bars = values
    .map((v, i) => {
      if (v === null) return '';
      // At most 48 wide: a single run is a bar, not a wall.
      const w = Math.max(1, Math.min(48, band * 0.7));
      const x0 = M.l + i * band + (band - w) / 2;
      const color = opts.bad?.(v) ? '#c62828' : '#0b5cad';
      return `<rect x="${x0.toFixed(1)}" y="${y(v).toFixed(1)}" width="${w.toFixed(1)}" height="${(H - M.b - y(v)).toFixed(1)}" fill="${color}"><title>${esc(`${labels[i]}: ${fmt(v)}`)}</title></rect>`;
    })
    .join('');
  const ticks = niceTicks(0, max, 4)
    .map(
      (t) =>
        `<line x1="${M.l}" x2="${W - M.r}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="${GRID}"/><text x="${M.l - 6}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end">${esc(fmt(t))}</text>`,
    )
    .join('');
  const thr =
    opts.threshold === undefined
      ? ''
      : `<line x1="${M.l}" x2="${W - M.r}" y1="${y(opts.threshold).toFixed(1)}" y2="${y(opts.threshold).toFixed(1)}" stroke="#c62828" stroke-dasharray="5 4"/><text x="${W - M.r + 4}" y="${(y(opts.threshold) + 4).toFixed(1)}" style="fill:#c62828">threshold</text>`;
  const x = (i: number) => M.l + i * band + band / 2;
  return `<svg viewBox="0 0 ${W} ${H}" width="100%" role="img">${ticks}${bars}${thr}<line x1="${M.l}" x2="${W - M.r}" y1="${H - M.b}" y2="${H - M.b}" stroke="${AXIS}"/>${xLabels(labels, x, H)}</svg>`;
}

export interface HeatCell {
  value: number | null;
  /** Drawn with a dark outline: the test said drift. */
  flagged?: boolean | null;
}

/**
 * One strip per row (a feature) and one cell per column (a run), shaded by the value relative
 * to the row's largest, so each feature's own trend shows whatever its test's scale.
 */
export function heatStripSvg(columns: string[], rows: { label: string; cells: HeatCell[] }[], opts: { width?: number } = {}): string {
  if (!rows.length || !columns.length) return '<p class="muted small">No data yet.</p>';
  const W = opts.width ?? 560;
  const L = 150;
  const rowH = 18;
  const H = rows.length * rowH + 30;
  const cw = (W - L - 10) / columns.length;
  const body = rows
    .map((r, ri) => {
      const max = Math.max(1e-12, ...r.cells.map((c) => (c.value !== null && Number.isFinite(c.value) ? Math.abs(c.value) : 0)));
      const y0 = ri * rowH;
      const cells = r.cells
        .map((c, ci) => {
          const a = c.value === null || !Number.isFinite(c.value) ? 0 : Math.abs(c.value) / max;
          const fill = c.value === null ? '#f2f4f6' : `rgba(11,92,173,${(0.08 + 0.85 * a).toFixed(2)})`;
          const stroke = c.flagged ? ' stroke="#c62828" stroke-width="2"' : ' stroke="#fff"';
          return `<rect x="${(L + ci * cw).toFixed(1)}" y="${y0 + 2}" width="${Math.max(1, cw - 1).toFixed(1)}" height="${rowH - 3}" fill="${fill}"${stroke}><title>${esc(`${r.label} · ${columns[ci]}: ${c.value === null ? 'no value' : num(c.value)}${c.flagged ? ' (drift)' : ''}`)}</title></rect>`;
        })
        .join('');
      return `<text x="${L - 6}" y="${y0 + 14}" text-anchor="end">${esc(r.label.length > 22 ? `${r.label.slice(0, 21)}…` : r.label)}</text>${cells}`;
    })
    .join('');
  const foot = `<text x="${L}" y="${H - 8}">${esc(columns[0]!)}</text><text x="${W - 10}" y="${H - 8}" text-anchor="end">${esc(columns.at(-1)!)}</text>`;
  return `<svg viewBox="0 0 ${W} ${H}" width="100%" role="img">${body}${foot}</svg>`;
}
