/**
 * The one HTML kit of mlship, for the console's pages and the self-contained reports
 * (quality, drift) alike: escaping and a tagged template that escapes every interpolation
 * unless it is already `Html`. Escaping is escape-html's (the escaper of Express and Koa):
 * & < > " ' become entities, so a value is safe in element content and in quoted attributes.
 */
import escapeHtml from 'escape-html';

/** A value as text in HTML; undefined and null are empty. */
export function esc(value: unknown): string {
  return escapeHtml(String(value ?? ''));
}

/** A trusted HTML fragment (already escaped). */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

/** Tagged template: interpolations are escaped unless they are `Html` (or arrays of it). */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0]!;
  values.forEach((v, i) => {
    out += render(v) + strings[i + 1]!;
  });
  return new Html(out);
}

function render(v: unknown): string {
  if (v instanceof Html) return v.value;
  if (Array.isArray(v)) return v.map(render).join('');
  if (v === undefined || v === null || v === false) return '';
  return esc(v);
}

/** Markup the caller built and vouches for (an SVG chart, a stylesheet). */
export const raw = (s: string): Html => new Html(s);
