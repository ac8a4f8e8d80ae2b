import { z } from 'zod';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { cacheSchema } from './cache';

/**
 * Buildspec v0.2 as the local CodeBuild runs it.
 *
 * Keys CodeBuild knows but a laptop cannot honour (parameter-store, secrets-manager) are
 * refused with a message rather than ignored, because a build that silently lacks a
 * variable fails later in a confusing way; keys that only tune AWS (reports,
 * runtime-versions, run-as, proxy) are accepted and ignored, and the build log says so.
 * `cache` is honoured (see cache.ts).
 */

/** A command: YAML may hand us a number or boolean (`- true`), which bash reads as text. */
const command = z
  .union([z.string(), z.number(), z.boolean()], { error: 'a command must be a string (quote it if it contains ": ")' })
  .transform(String);

const phase = z.strictObject({
  'run-as': z.string().optional(),
  'on-failure': z.enum(['ABORT', 'CONTINUE']).default('ABORT'),
  'runtime-versions': z.record(z.string(), z.unknown()).optional(),
  commands: z.array(command).default([]),
  finally: z.array(command).default([]),
});

const yesNo = z.union([z.boolean(), z.enum(['yes', 'no'])]).transform((v) => v === true || v === 'yes');

const buildspecSchema = z.strictObject({
  version: z.union([z.literal(0.2), z.literal('0.2')], { error: 'must be 0.2 (the only version the local cloud runs)' }),
  'run-as': z.string().optional(),
  proxy: z.unknown().optional(),
  batch: z.unknown().optional(),
  env: z
    .strictObject({
      shell: z.enum(['bash', '/bin/sh', 'sh']).optional(),
      variables: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).default({}),
      'exported-variables': z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a variable name')).default([]),
      'parameter-store': z.never({ error: 'not supported by the local cloud; use env.variables' }).optional(),
      'secrets-manager': z.never({ error: 'not supported by the local cloud; use env.variables' }).optional(),
      'git-credential-helper': z.unknown().optional(),
    })
    .prefault({}),
  phases: z
    .strictObject({
      install: phase.optional(),
      pre_build: phase.optional(),
      build: phase.optional(),
      post_build: phase.optional(),
    })
    .refine((p) => Object.keys(p).length > 0, 'at least one of install, pre_build, build, post_build'),
  reports: z.unknown().optional(),
  artifacts: z
    .strictObject({
      files: z.array(z.string().min(1)).min(1),
      name: z.string().optional(),
      'discard-paths': yesNo.default(false),
      'base-directory': z.string().optional(),
      'exclude-paths': z.array(z.string()).default([]),
      'enable-symlinks': yesNo.optional(),
      's3-prefix': z.string().optional(),
      'secondary-artifacts': z.unknown().optional(),
    })
    .optional(),
  cache: cacheSchema.optional(),
});

export type Buildspec = z.output<typeof buildspecSchema>;
export type BuildspecPhase = z.output<typeof phase>;
export const PHASE_KEYS = ['install', 'pre_build', 'build', 'post_build'] as const;

/** Keys accepted only for compatibility; the build log notes them. */
export function ignoredKeys(spec: Buildspec): string[] {
  const out: string[] = [];
  for (const k of ['run-as', 'proxy', 'batch', 'reports'] as const) if (spec[k] !== undefined) out.push(k);
  for (const p of PHASE_KEYS) {
    if (spec.phases[p]?.['runtime-versions']) out.push(`phases.${p}.runtime-versions`);
    if (spec.phases[p]?.['run-as']) out.push(`phases.${p}.run-as`);
  }
  return out;
}

/** A buildspec that is not valid YAML or not a valid v0.2 document; the message names the file and field. */
export class BuildspecError extends Error {
  constructor(
    message: string,
    readonly file: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'BuildspecError';
  }
}

/**
 * Parse and validate a buildspec.
 * @param file the path (or `buildspecOverride`) used in messages
 */
export function parseBuildspec(text: string, file: string): Buildspec {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? ` (line ${err.linePos[0].line})` : '';
    throw new BuildspecError(`${file}: not valid YAML${where}: ${(err as Error).message.split('\n')[0]}`, file, { cause: err });
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new BuildspecError(`${file}: a buildspec must be a YAML mapping with version and phases`, file);
  }
  const result = buildspecSchema.safeParse(doc);
  if (!result.success) {
    const problems = result.error.issues
      .map((i) => {
        const field = i.path.length ? i.path.join('.') : '(top level)';
        if (i.code === 'unrecognized_keys') return `${i.keys.join(', ')}: unknown field${i.path.length ? ` in ${field}` : ''}`;
        if (i.code === 'invalid_value') return `${field}: must be one of ${i.values.map((v) => JSON.stringify(v)).join(', ')}`;
        return `${field}: ${i.message}`;
      })
      .join('; ');
    throw new BuildspecError(`${file}: ${problems}`, file, { cause: result.error });
  }
  return result.data;
}
