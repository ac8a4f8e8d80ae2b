/**
 * Task tokens are bearer credentials: whoever holds one can complete the approval step
 * with SendTaskSuccess. The console reads them (they sit in the approval records and in the
 * RequestApproval state's input in the execution history) and must never show them.
 *
 * Two layers: values are redacted where they are read (`redactTokens`), and every response
 * body is checked once more against the tokens the console has seen (`TokenGuard`).
 */

import { esc } from '../html';

export const REDACTED = '[redacted task token]';

const TOKEN_KEY = /task_?token/i;

/**
 * A deep copy of `value` with every property named like `taskToken` (also `TaskToken`,
 * `taskToken.$`), and every string that equals or contains a known token, replaced. Strings
 * that hold JSON (Step Functions history puts parameters and outputs in JSON strings) are
 * parsed, redacted and re-serialised.
 */
export function redactTokens(value: unknown, known: ReadonlySet<string> = new Set()): unknown {
  if (typeof value === 'string') return redactString(value, known);
  if (Array.isArray(value)) return value.map((v) => redactTokens(v, known));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      // A JSONPath selector such as "$$.Task.Token" is not a secret; keep it readable.
      out[k] = TOKEN_KEY.test(k) && !(typeof v === 'string' && v.startsWith('$')) ? REDACTED : redactTokens(v, known);
    }
    return out;
  }
  return value;
}

function redactString(s: string, known: ReadonlySet<string>): string {
  const trimmed = s.trimStart();
  if ((trimmed.startsWith('{') || trimmed.startsWith('[')) && s.length < 5_000_000) {
    try {
      return JSON.stringify(redactTokens(JSON.parse(s), known));
    } catch {
      // not JSON after all: fall through to substring replacement
    }
  }
  let out = s;
  for (const t of known) if (t.length >= 8 && out.includes(t)) out = out.split(t).join(REDACTED);
  return out;
}

/**
 * Remembers every task token the console has read and checks outgoing bodies for them.
 * Kept small: tokens are only remembered, never exposed.
 */
export class TokenGuard {
  private readonly tokens = new Set<string>();

  remember(token: unknown): void {
    if (typeof token === 'string' && token.length >= 8) this.tokens.add(token);
  }

  get known(): ReadonlySet<string> {
    return this.tokens;
  }

  /** The body with every known token replaced; `leaked` says whether one was found. */
  scrub(body: string): { body: string; leaked: boolean } {
    let leaked = false;
    let out = body;
    for (const t of this.tokens) {
      if (out.includes(t)) {
        leaked = true;
        out = out.split(t).join(REDACTED);
      }
      // The same token as it would appear HTML- or JSON-escaped.
      for (const variant of [JSON.stringify(t).slice(1, -1), escapeHtmlLike(t), encodeURIComponent(t)]) {
        if (variant !== t && out.includes(variant)) {
          leaked = true;
          out = out.split(variant).join(REDACTED);
        }
      }
    }
    return { body: out, leaked };
  }
}

// A token as the pages print it: the kit's own escaping, so the scrub finds exactly that.
const escapeHtmlLike = (s: string): string => esc(s);
