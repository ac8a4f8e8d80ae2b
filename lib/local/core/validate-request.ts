/**
 * Checks a request against an AWS service model (the botocore JSON subset in aws-models/):
 * required members, types, enums, patterns, lengths and ranges, as AWS's front end does
 * before a service sees the request.
 *
 * Written by hand: no maintained JavaScript library validates against botocore or Smithy JSON
 * models at run time (the SDK v3 clients validate nothing, and the npm registry had no such
 * package when this was written). Each shape is compiled once into a closure, so a request
 * costs one walk over its own values.
 */

export interface MemberRef {
  shape: string;
  location?: 'uri' | 'header' | 'headers' | 'querystring' | 'statusCode';
  locationName?: string;
  flattened?: boolean;
  jsonvalue?: boolean;
}

export interface Shape {
  type: 'structure' | 'list' | 'map' | 'string' | 'integer' | 'long' | 'float' | 'double' | 'boolean' | 'timestamp' | 'blob';
  members?: Record<string, MemberRef>;
  required?: string[];
  member?: MemberRef;
  key?: MemberRef;
  value?: MemberRef;
  enum?: string[];
  pattern?: string;
  min?: number;
  max?: number;
  sensitive?: boolean;
  union?: boolean;
  document?: boolean;
  flattened?: boolean;
  locationName?: string;
}

export interface AwsModel {
  source: string;
  metadata: {
    apiVersion: string;
    protocol: 'json' | 'rest-json' | 'query' | 'rest-xml';
    jsonVersion?: string;
    targetPrefix?: string;
    serviceId?: string;
  };
  operations: Record<string, { http: { method: string; requestUri: string }; input?: string }>;
  shapes: Record<string, Shape>;
}

/** One broken rule. `kind: 'type'` is a value of the wrong JSON type (AWS: a serialization error). */
export interface Violation {
  kind: 'constraint' | 'type';
  /** As AWS names it: member names with a lower-case first letter, `.N.member` for list items. */
  path: string;
  /** AWS's wording, e.g. `Member must have length less than or equal to 80`. */
  constraint: string;
  /** The value as AWS quotes it, or undefined where AWS leaves it out (sensitive or not a scalar). */
  shown?: string;
}

type Check = (value: unknown, path: string, out: Violation[]) => void;

/** Java-only regular-expression syntax found in botocore patterns, and its ECMAScript equivalent. */
const JAVA_REGEX: Array<[RegExp, string]> = [
  [/\\A/g, '^'],
  [/\\[zZ]/g, '$'],
  [/\\p\{Print\}/g, '\\x20-\\x7E'],
  [/\\p\{Graph\}/g, '\\x21-\\x7E'],
  [/\\p\{Alnum\}/g, 'A-Za-z0-9'],
  // Java accepts a quantifier on the end anchor (SageMaker's CustomerMetadataKey/Value end in
  // `${1,256}`, the length being checked by min/max); repeating an anchor changes nothing, so drop it.
  [/(?<!\\)\$\{\d+(?:,\d*)?\}/g, '$'],
];

/**
 * A pattern as AWS applies it: to the whole value. Smithy calls its patterns unanchored, but
 * AWS's services refuse values with a matching prefix and a bad tail (e.g. Lambda's
 * `[a-zA-Z0-9-_]+` refuses `a.json`), so the match is anchored at both ends here.
 */
export function compilePattern(pattern: string): RegExp | undefined {
  let source = pattern;
  for (const [from, to] of JAVA_REGEX) source = source.replace(from, to);
  for (const flags of ['u', '']) {
    try {
      return new RegExp(`^(?:${source})$`, flags);
    } catch {
      // Not valid with these flags: patterns escape characters that Unicode mode refuses.
    }
  }
  return undefined;
}

const lowerFirst = (s: string): string => s.charAt(0).toLowerCase() + s.slice(1);
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);
/** AWS echoes scalars in quotes, numbers too (`Value '0' at 'timeout'`); cut here so a 6 MB string does not become a 6 MB message. */
const quote = (v: unknown): string | undefined =>
  typeof v === 'string'
    ? `'${v.length > 256 ? `${v.slice(0, 256)}...` : v}'`
    : typeof v === 'number' || typeof v === 'boolean'
      ? `'${String(v)}'`
      : undefined;

/** A check that reports a value of the wrong JSON type. */
const typeError =
  (expected: string): Check =>
  (_v, path, out) =>
    out.push({ kind: 'type', path, constraint: `Member must be ${expected}` });

/** The shape's min/max on a value's length or size; a sensitive value is not quoted. */
function bound<T>(shape: Shape, what: 'length' | 'value', size: (v: T) => number): Check {
  const hidden = shape.sensitive === true;
  const { min, max } = shape;
  return (v, path, out) => {
    const n = size(v as T);
    const shown = hidden ? undefined : quote(v);
    if (min !== undefined && n < min)
      out.push({ kind: 'constraint', path, shown, constraint: `Member must have ${what} greater than or equal to ${min}` });
    if (max !== undefined && n > max)
      out.push({ kind: 'constraint', path, shown, constraint: `Member must have ${what} less than or equal to ${max}` });
  };
}

/** A type test, then the other rules only on a value of the right type. */
function both(type: (v: unknown) => boolean, expected: string, rest: Check[]): Check {
  const wrong = typeError(expected);
  return (v, path, out) => {
    if (!type(v)) return wrong(v, path, out);
    for (const r of rest) r(v, path, out);
  };
}

/** A service model compiled for checking requests; shapes compile on first use. */
export class RequestValidator {
  private readonly checks = new Map<string, Check>();
  /** Patterns this JavaScript engine cannot compile; they are not checked (test: none in the committed subset). */
  readonly unusablePatterns: string[] = [];

  constructor(readonly model: AwsModel) {}

  /** The operation's input shape name, or undefined when the model does not have the operation. */
  inputOf(operation: string): string | undefined {
    return Object.hasOwn(this.model.operations, operation) ? this.model.operations[operation]!.input : undefined;
  }

  /** Everything wrong with `input` for this operation; [] when it is valid or the operation takes no input. */
  validate(operation: string, input: Record<string, unknown>): Violation[] {
    const shape = this.inputOf(operation);
    const out: Violation[] = [];
    if (shape) this.check(shape)(input, '', out);
    return out;
  }

  /** The compiled check of a shape; recursive shapes go through the map, filled before they are called. */
  check(name: string): Check {
    let c = this.checks.get(name);
    if (!c) {
      const slot: { compiled?: Check } = {};
      this.checks.set(name, (v, p, o) => slot.compiled!(v, p, o));
      c = slot.compiled = this.compile(this.model.shapes[name]!);
      this.checks.set(name, c);
    }
    return c;
  }

  private compile(shape: Shape): Check {
    if (shape.document) return () => undefined;
    switch (shape.type) {
      case 'structure':
        return this.structure(shape);
      case 'list':
        return this.list(shape);
      case 'map':
        return this.map(shape);
      case 'string':
        return this.string(shape);
      case 'integer':
      case 'long':
        return both((v) => Number.isInteger(v), 'an integer', [bound(shape, 'value', Number)]);
      case 'float':
      case 'double':
        return both((v) => typeof v === 'number', 'a number', [bound(shape, 'value', Number)]);
      case 'boolean':
        return both((v) => typeof v === 'boolean', 'a boolean', []);
      case 'timestamp':
        // JSON protocols send epoch seconds; an ISO 8601 string is accepted too.
        return both((v) => typeof v === 'number' || (typeof v === 'string' && !Number.isNaN(Date.parse(v))), 'a timestamp', []);
      case 'blob':
        // Base64 text in JSON bodies, raw bytes in REST payloads; lengths count the bytes.
        return both((v) => typeof v === 'string' || Buffer.isBuffer(v), 'a blob', [
          bound(shape, 'length', (v: string | Buffer) => (typeof v === 'string' ? Buffer.byteLength(v, 'base64') : v.length)),
        ]);
      default:
        return () => undefined;
    }
  }

  private list(shape: Shape): Check {
    const item = this.check(shape.member!.shape);
    return both(Array.isArray, 'a list', [
      bound(shape, 'length', (v: unknown[]) => v.length),
      (v, path, out) => (v as unknown[]).forEach((x, i) => item(x, `${path}.${i + 1}.member`, out)),
    ]);
  }

  private map(shape: Shape): Check {
    const key = this.check(shape.key!.shape);
    const value = this.check(shape.value!.shape);
    return both(isObject, 'a map', [
      bound(shape, 'length', (v: object) => Object.keys(v).length),
      (v, path, out) => {
        for (const [k, x] of Object.entries(v as object)) {
          key(k, path, out);
          value(x, `${path}.${k}`, out);
        }
      },
    ]);
  }

  /** Length, enum and pattern; a pattern this engine cannot compile is recorded in unusablePatterns and not checked. */
  private string(shape: Shape): Check {
    const hidden = shape.sensitive === true;
    const rules: Check[] = [bound(shape, 'length', (v: string) => v.length)];
    if (shape.enum) {
      const allowed = new Set(shape.enum);
      const constraint = `Member must satisfy enum value set: [${shape.enum.join(', ')}]`;
      rules.push((v, path, out) => {
        if (!allowed.has(v as string)) out.push({ kind: 'constraint', path, shown: hidden ? undefined : quote(v), constraint });
      });
    }
    if (shape.pattern !== undefined) {
      const re = compilePattern(shape.pattern);
      const constraint = `Member must satisfy regular expression pattern: ${shape.pattern}`;
      if (!re) this.unusablePatterns.push(shape.pattern);
      else
        rules.push((v, path, out) => {
          if (!re.test(v as string)) out.push({ kind: 'constraint', path, shown: hidden ? undefined : quote(v), constraint });
        });
    }
    return both((v) => typeof v === 'string', 'a string', rules);
  }

  private structure(shape: Shape): Check {
    const members = Object.entries(shape.members ?? {}).map(([name, ref]) => ({
      name,
      path: lowerFirst(name),
      check: this.check(ref.shape),
    }));
    const required = (shape.required ?? []).map((name) => ({ name, path: lowerFirst(name) }));
    const union = shape.union === true;
    return (v, path, out) => {
      if (!isObject(v)) {
        out.push({ kind: 'type', path, constraint: 'Member must be a structure' });
        return;
      }
      const at = (p: string) => (path ? `${path}.${p}` : p);
      // JSON null is an absent member to AWS.
      for (const r of required)
        if (v[r.name] === undefined || v[r.name] === null)
          out.push({ kind: 'constraint', path: at(r.path), shown: 'null', constraint: 'Member must not be null' });
      let set = 0;
      for (const m of members) {
        const x = v[m.name];
        if (x === undefined || x === null) continue;
        set += 1;
        m.check(x, at(m.path), out);
      }
      if (union && set !== 1)
        out.push({ kind: 'constraint', path: path || 'input', constraint: 'Member must have exactly one member set' });
    };
  }
}

/** AWS's message for a set of violations: `1 validation error detected: Value 'x' at 'name' failed to satisfy constraint: ...`. */
export function validationMessage(violations: Violation[]): string {
  const n = violations.length;
  const each = violations.map(
    (v) => `Value${v.shown === undefined ? '' : ` ${v.shown}`} at '${v.path}' failed to satisfy constraint: ${v.constraint}`,
  );
  return `${n} validation error${n === 1 ? '' : 's'} detected: ${each.join('; ')}`;
}
