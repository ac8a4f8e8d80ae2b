/**
 * HTML building blocks of the console: escaping, the page layout with its inline style and
 * script (both allowed by a per-response CSP nonce), and small components. Every value that
 * comes from a record goes through `esc` or `attr`; nothing here loads from the network.
 */

import { html, Html, raw } from '../html';

// The one kit (lib/html.ts): the console's pages and the reports escape alike.
export { esc, html, Html, raw } from '../html';

export function fmtNumber(v: unknown, digits = 4): string {
  if (typeof v !== 'number' || !Number.isFinite(v)) return v === null || v === undefined ? '—' : String(v);
  if (Number.isInteger(v)) return String(v);
  return Number(v.toPrecision(digits)).toString();
}

export function fmtTime(v: unknown): string {
  if (v === undefined || v === null || v === '') return '—';
  const d = v instanceof Date ? v : new Date(String(v));
  if (Number.isNaN(d.getTime())) return String(v);
  return d
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d{3}Z$/, 'Z');
}

export function fmtDuration(ms: number | undefined): string {
  if (ms === undefined) return '';
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

const BADGE: Record<string, string> = {
  pending: 'warn',
  waiting: 'warn',
  running: 'info',
  RUNNING: 'info',
  approved: 'ok',
  succeeded: 'ok',
  SUCCEEDED: 'ok',
  production: 'ok',
  'no-drift': 'ok',
  'no drift': 'ok',
  rejected: 'bad',
  failed: 'bad',
  FAILED: 'bad',
  ABORTED: 'bad',
  TIMED_OUT: 'bad',
  expired: 'muted',
  caught: 'bad',
  drift: 'bad',
  'not-reached': 'muted',
  'awaiting-approval': 'warn',
  building: 'info',
  built: 'info',
  evaluated: 'info',
  archived: 'muted',
  'insufficient-data': 'muted',
  'data-quality': 'bad',
};

export function badge(label: string, tone?: string): Html {
  const t = tone ?? BADGE[label] ?? (/drift/.test(label) && !/no/.test(label) ? 'bad' : 'muted');
  return html`<span class="badge ${t}">${label}</span>`;
}

/** Pretty JSON in a collapsible block; `summary` is the clickable label. */
export function jsonDetails(summary: string, value: unknown, open = false): Html {
  let text: string;
  if (typeof value === 'string') {
    try {
      text = JSON.stringify(JSON.parse(value), null, 2);
    } catch {
      text = value;
    }
  } else text = JSON.stringify(value, null, 2) ?? 'undefined';
  return html`<details${open ? raw(' open') : ''}><summary>${summary}</summary><pre>${text}</pre></details>`;
}

const CSS = `
:root{--fg:#1d2430;--muted:#5f6b7a;--line:#dde2e8;--bg:#f6f7f9;--card:#fff;--ok:#1a7f37;--bad:#c62828;--warn:#9a6700;--info:#0b5cad;--accent:#0b5cad}
*{box-sizing:border-box}
body{margin:0;font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header{background:#18212e;color:#fff;padding:10px 24px;display:flex;gap:24px;align-items:center}
header .brand{font-weight:700;letter-spacing:.3px}
header nav a{color:#cfd8e3;text-decoration:none;margin-right:16px}
header nav a:hover{color:#fff}
header .target{margin-left:auto;color:#9fb0c3;font-size:12px}
main{max-width:1180px;margin:0 auto;padding:20px 24px 48px}
h1{font-size:22px;margin:4px 0 12px}
h2{font-size:17px;margin:24px 0 8px}
h3{font-size:15px;margin:16px 0 6px}
a{color:var(--accent)}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:14px 16px;margin:12px 0}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(240px,1fr));gap:12px}
.kv{display:grid;grid-template-columns:max-content 1fr;gap:4px 14px;margin:0}
.kv dt{color:var(--muted)}
.kv dd{margin:0;word-break:break-word}
table{border-collapse:collapse;width:100%;background:var(--card)}
th,td{text-align:left;padding:6px 10px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-weight:600;color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.4px}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;border:1px solid}
.badge.ok{color:var(--ok);border-color:#a6d8b3;background:#eaf6ee}
.badge.bad{color:var(--bad);border-color:#f0b4b4;background:#fdeeee}
.badge.warn{color:var(--warn);border-color:#e9cf8a;background:#fdf6e3}
.badge.info{color:var(--info);border-color:#a9c7e8;background:#ebf3fb}
.badge.muted{color:var(--muted);border-color:var(--line);background:#f2f4f6}
.muted{color:var(--muted)}
.small{font-size:12px}
pre{background:#0f1720;color:#e3e9f0;padding:10px 12px;border-radius:6px;overflow:auto;max-height:420px;font-size:12px}
details summary{cursor:pointer;color:var(--accent)}
.notice{padding:10px 14px;border-radius:6px;margin:12px 0;border:1px solid}
.notice.ok{background:#eaf6ee;border-color:#a6d8b3}
.notice.bad{background:#fdeeee;border-color:#f0b4b4}
.notice.warn{background:#fdf6e3;border-color:#e9cf8a}
.decide{display:grid;grid-template-columns:1fr 1fr;gap:16px}
.decide form{display:flex;flex-direction:column;gap:8px}
textarea{width:100%;min-height:70px;font:inherit;padding:8px;border:1px solid var(--line);border-radius:6px}
button{font:inherit;font-weight:600;padding:8px 18px;border-radius:6px;border:1px solid transparent;cursor:pointer}
button.approve{background:var(--ok);color:#fff}
button.reject{background:#fff;color:var(--bad);border-color:var(--bad)}
ol.states{list-style:none;padding:0;margin:0;counter-reset:s}
ol.states li{position:relative;padding:8px 12px 8px 44px;border-left:3px solid var(--line);margin-left:14px}
ol.states li::before{content:"";position:absolute;left:-10px;top:12px;width:16px;height:16px;border-radius:50%;background:#fff;border:3px solid var(--line)}
ol.states li.succeeded::before{border-color:var(--ok);background:var(--ok)}
ol.states li.failed::before,ol.states li.caught::before{border-color:var(--bad);background:var(--bad)}
ol.states li.running::before,ol.states li.waiting::before{border-color:var(--warn);background:#fff}
ol.states li.current{background:#fff8e1;border-left-color:var(--warn);border-radius:0 6px 6px 0}
ol.states li.current.succeeded{background:#eaf6ee;border-left-color:var(--ok)}
ol.states li.current.failed{background:#fdeeee;border-left-color:var(--bad)}
ol.states li .name{font-weight:600}
ol.states li.not-reached .name{color:var(--muted);font-weight:400}
ol.states li .meta{color:var(--muted);font-size:12px;margin-left:8px}
.bar{height:10px;background:#eef1f4;border-radius:5px;overflow:hidden;min-width:80px}
.bar span{display:block;height:100%;background:var(--accent)}
.live{font-size:12px;color:var(--muted)}
iframe.report{width:100%;height:900px;border:1px solid var(--line);border-radius:8px;background:#fff}
td.heat0{background:#f4f8fc}td.heat1{background:#dce9f6}td.heat2{background:#b9d3ee}td.heat3{background:#8db7e2}td.heat4{background:#5d97d3;color:#fff}
th .legend{text-transform:none;letter-spacing:0;font-weight:600}.legend.c{color:#0b5cad}.legend.p{color:#1a7f37}.legend.d{color:#7b8794}
.io details{display:inline-block;margin-right:14px;font-size:12px}.io details[open]{display:block}
svg text{font:11px system-ui,sans-serif;fill:var(--muted)}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(460px,1fr));gap:12px}.charts .card{margin:0}.legend.n{color:#9a6700}.legend.b{color:#c62828}
`;

/**
 * The live-update script: poll a fingerprint of what the page shows; reload when it changes.
 * It stops once a form is submitted: the approver's own decision moves the release, and a
 * reload then would cancel the form's navigation, so the approver never saw its outcome.
 */
const LIVE_JS = `
(function(){var el=document.querySelector('[data-watch]');if(!el)return;var url=el.getAttribute('data-watch');var last=el.getAttribute('data-fingerprint');
var leaving=false;document.addEventListener('submit',function(e){if(!e.defaultPrevented)leaving=true});
function tick(){if(leaving)return;fetch(url,{credentials:'same-origin',headers:{'Accept':'application/json'}}).then(function(r){return r.ok?r.json():null}).then(function(j){
if(leaving)return;if(j&&typeof j.fingerprint==='string'&&j.fingerprint!==last){location.reload();return}setTimeout(tick,2000)}).catch(function(){setTimeout(tick,5000)})}
setTimeout(tick,2000)})();
(function(){var f=document.getElementById('reject-form');if(!f)return;f.addEventListener('submit',function(e){var c=f.querySelector('textarea');if(!c.value.trim()){e.preventDefault();c.focus();var m=document.getElementById('reject-msg');if(m)m.textContent='A rejection needs a comment that says why.'}})})();
`;

export interface LayoutOptions {
  title: string;
  nonce: string;
  target: string;
  body: Html;
  /** Poll this URL (returns {fingerprint}) and reload when the fingerprint changes. */
  watch?: { url: string; fingerprint: string };
}

export function layout(o: LayoutOptions): string {
  const watch = o.watch
    ? html`<p class="live" data-watch="${o.watch.url}" data-fingerprint="${o.watch.fingerprint}">This page follows the release and refreshes when it moves.</p>`
    : '';
  return `<!doctype html>${
    html`<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${o.title} · mlship console</title><style nonce="${o.nonce}">${raw(CSS)}</style></head>
<body><header><span class="brand">mlship console</span><nav><a href="/">Models</a><a href="/approvals">Approvals</a><a href="/releases">Releases</a><a href="/notifications">Notifications</a><a href="/weekly">Weekly</a></nav><span class="target">${o.target}</span></header>
<main>${o.body}${watch}</main><script nonce="${o.nonce}">${raw(LIVE_JS)}</script></body></html>`.value
  }`;
}
