/** `--name value` command-line options, strict: an unknown option is an error naming it. */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/** A bad command line; the message names the option. */
export class UsageError extends Error {
  constructor(message) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * @param {string[]} argv the arguments after the script
 * @param {Record<string, { type: 'string' | 'number', default?: string | number }>} spec
 * @returns {Record<string, string | number>}
 */
export function parseArgs(argv, spec) {
  const out = {};
  for (const [name, s] of Object.entries(spec)) if (s.default !== undefined) out[name] = s.default;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') ? arg.slice(2, eq > 0 ? eq : undefined) : undefined;
    if (!name || !spec[name]) {
      throw new UsageError(`unknown argument "${arg}"; options: ${Object.keys(spec).map((k) => `--${k}`).join(', ')}`);
    }
    const raw = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (raw === undefined) throw new UsageError(`--${name} needs a value`);
    if (spec[name].type === 'number') {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name}: "${raw}" is not a number`);
      out[name] = n;
    } else {
      out[name] = raw;
    }
  }
  return out;
}

/** Run a CLI main function: a thrown error prints one line (its name and message) and exits 1. */
export async function runMain(main) {
  try {
    await main();
  } catch (err) {
    process.stderr.write(`${err?.name ?? 'Error'}: ${err?.message ?? err}\n`);
    process.exit(1);
  }
}

/** Whether the module at `moduleUrl` (its `import.meta.url`) is the script node was started with. */
export function isMain(moduleUrl) {
  if (!process.argv[1]) return false;
  try {
    return moduleUrl === pathToFileURL(realpathSync(process.argv[1])).href;
  } catch {
    return false; // argv[1] is not a file (node -e, a REPL): this module was imported
  }
}
