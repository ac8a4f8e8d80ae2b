import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

/**
 * Loads an ASL file, substitutes its `${Name}` placeholders and validates the result.
 *
 * CDK (definitionSubstitutions are resolved here, not by CloudFormation, so the same
 * checks run for both targets) and the local cloud both call `renderAsl()`.
 */

/** Where `statemachines/` lives: two levels above this file. */
const REPO_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');

/** `${Name}` as SAM and CDK `definitionSubstitutions` write it. */
const PLACEHOLDER = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** An ASL file that cannot be rendered; the message names the file and the problem. */
export class AslRenderError extends Error {
  constructor(
    message: string,
    readonly file: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AslRenderError';
  }
}

export interface ValidationResult {
  isValid: boolean;
  errorsText(separator?: string): string;
}
type Validator = (definition: unknown, opts?: { checkPaths?: boolean; checkArn?: boolean }) => ValidationResult;

// asl-validator is CommonJS without type declarations; loaded once, on first use, so
// importing this module (CDK app, CLI) does not pay for ajv until a file is rendered.
let validator: Validator | undefined;
/**
 * asl-validator's verdict on a definition, paths and ARNs checked: what renderAsl() and the
 * local Step Functions' CreateStateMachine both ask.
 */
export function validateAsl(definition: unknown): ValidationResult {
  validator ??= createRequire(import.meta.url)('asl-validator') as Validator;
  return validator(definition, { checkPaths: true, checkArn: true });
}

function resolveFile(file: string): string {
  return isAbsolute(file) ? file : resolve(REPO_ROOT, file);
}

function readAsl(file: string): string {
  try {
    return readFileSync(resolveFile(file), 'utf8');
  } catch (err) {
    throw new AslRenderError(`${file}: cannot read the state machine file: ${(err as Error).message}`, file, { cause: err });
  }
}

/** The distinct placeholder names of an ASL file, in order of first appearance. */
export function placeholdersOf(file: string): string[] {
  return [...new Set([...readAsl(file).matchAll(PLACEHOLDER)].map((m) => m[1]!))];
}

/**
 * Refuse what the local engine (aws-local-stepfunctions) would ignore silently: JSONata
 * and variables. A definition that used them would behave differently in the two clouds.
 */
function refuseUnsupported(node: unknown, file: string, path: string): void {
  if (Array.isArray(node)) {
    node.forEach((item, i) => refuseUnsupported(item, file, `${path}[${i}]`));
    return;
  }
  if (node === null || typeof node !== 'object') return;
  for (const [key, value] of Object.entries(node)) {
    const where = `${path}.${key}`;
    if (key === 'QueryLanguage' && value === 'JSONata') {
      throw new AslRenderError(`${file}: ${where}: "QueryLanguage": "JSONata" is not supported; write JSONPath`, file);
    }
    if (key === 'Assign') {
      throw new AslRenderError(`${file}: ${where}: "Assign" (workflow variables) is not supported; pass data with ResultPath`, file);
    }
    refuseUnsupported(value, file, where);
  }
}

/**
 * Render a state machine definition.
 *
 * @param file the ASL JSON file, relative to the repository root or absolute
 * @param substitutions a value for every `${Name}` placeholder of the file and nothing else;
 *   values are inserted verbatim in one pass (a value that itself looks like `${...}`,
 *   e.g. a CDK token, is never substituted again) and JSON-escaped, since every
 *   placeholder sits inside a JSON string
 * @returns the definition as a JSON string, validated with asl-validator
 * @throws AslRenderError naming the file and the placeholder or validation problem
 */
export function renderAsl(file: string, substitutions: Record<string, string>): string {
  const text = readAsl(file);
  const used = new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1]!));
  for (const name of used) {
    if (!Object.hasOwn(substitutions, name)) {
      throw new AslRenderError(`${file}: placeholder \${${name}} has no substitution`, file);
    }
  }
  for (const name of Object.keys(substitutions)) {
    if (!used.has(name)) {
      throw new AslRenderError(`${file}: substitution "${name}" is not used by any \${${name}} placeholder`, file);
    }
  }

  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new AslRenderError(`${file}: not valid JSON: ${(err as Error).message}`, file, { cause: err });
  }
  refuseUnsupported(raw, file, '$');

  // JSON.stringify(value).slice(1, -1) escapes quotes and backslashes so any string
  // stays a valid JSON string body.
  const rendered = text.replace(PLACEHOLDER, (_, name: string) => JSON.stringify(substitutions[name]).slice(1, -1));
  const definition = JSON.parse(rendered) as unknown;
  const result = validateAsl(definition);
  if (!result.isValid) {
    throw new AslRenderError(`${file}: invalid state machine definition: ${result.errorsText('; ')}`, file);
  }
  return rendered;
}
