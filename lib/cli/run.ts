/**
 * What every local-cloud command shares: the options that find the cloud, exit codes a
 * script can trust, and one line on stderr for an expected failure instead of a stack trace.
 */
import { type Command, Option } from 'commander';
import { CloudNotRunningError, InvalidEndpointError } from '../local/client';
import { DEFAULT_DATA_DIR } from '../local/constants';

/** Exit codes, the same numbers as the approval commands' (lib/console/cli.ts). */
export const EXIT_CODE = {
  ok: 0,
  /** The command ran and the answer is "no": a failed check, no such build, a model error. */
  failed: 1,
  /** Bad usage or bad input (a malformed file, an invalid argument). */
  usage: 2,
  /** The cloud could not be found or reached. */
  unreachable: 3,
} as const;

export const EXIT_CODES_HELP = `
Exit codes: 0 done; 1 the command ran and failed (a failed check, nothing found, a model error);
2 usage error or bad input; 3 no cloud found or it could not be reached.
The cloud is found from --endpoint-url, then AWS_ENDPOINT_URL, then <data-dir>/cloud.json.`;

/** An error the command expected and explains itself; `exitCode` says which kind. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_CODE.failed,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** `--endpoint-url`, `--data-dir`, and `--endpoint` kept (hidden) for scripts written against it. */
export function addEndpointOptions(cmd: Command): Command {
  return cmd
    .option('--endpoint-url <url>', 'the cloud edge (default: AWS_ENDPOINT_URL, then <data-dir>/cloud.json)')
    .option('--data-dir <dir>', 'the data dir of a cloud started with `mlship up`', DEFAULT_DATA_DIR)
    .addOption(new Option('--endpoint <url>', 'same as --endpoint-url').hideHelp())
    .addHelpText('after', EXIT_CODES_HELP);
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENOTFOUND', 'ETIMEDOUT', 'EAI_AGAIN']);

/** The network error code of a failed request, also inside Node's AggregateError (IPv4 + IPv6 tries). */
function connectionCode(err: unknown): string | undefined {
  const e = err as { code?: string; errors?: unknown[]; cause?: unknown };
  if (e?.code && CONNECTION_CODES.has(e.code)) return e.code;
  for (const inner of e?.errors ?? []) {
    const c = connectionCode(inner);
    if (c) return c;
  }
  return e?.cause ? connectionCode(e.cause) : undefined;
}

/** One line and an exit code for an error; a stack only for a real bug, and only with MLSHIP_DEBUG. */
export function describeError(err: unknown, endpoint?: string): { line: string; exitCode: number } {
  if (err instanceof CliError) return { line: err.message, exitCode: err.exitCode };
  if (err instanceof CloudNotRunningError) return { line: err.message, exitCode: EXIT_CODE.unreachable };
  if (err instanceof InvalidEndpointError) return { line: err.message, exitCode: EXIT_CODE.usage };
  const code = connectionCode(err);
  if (code) {
    const where = endpoint ? ` at ${endpoint}` : '';
    return {
      line: `cannot reach the cloud${where} (${code}); is \`mlship up\` running, and is --endpoint-url / AWS_ENDPOINT_URL right?`,
      exitCode: EXIT_CODE.unreachable,
    };
  }
  const e = err as Error & { $metadata?: unknown };
  // An AWS service error is an answer, not a crash: its name says what was refused.
  if (e?.$metadata) return { line: `${e.name}: ${e.message}`, exitCode: EXIT_CODE.failed };
  return {
    line: `${e?.name ?? 'Error'}: ${e?.message ?? String(err)}${process.env.MLSHIP_DEBUG ? `\n${e?.stack ?? ''}` : ''}`,
    exitCode: EXIT_CODE.failed,
  };
}

/** Report an error the way every command does: `mlship <command>: <line>` and the exit code. */
export function reportError(command: string, err: unknown, endpoint?: string): void {
  const { line, exitCode } = describeError(err, endpoint);
  process.stderr.write(`mlship ${command}: ${line}\n`);
  process.exitCode = exitCode;
}
