/**
 * What the console and approval commands share on the command line: the target options,
 * the exit codes and the identity. Kept here (not in lib/cli/commands/, where every file is a
 * command) so the four commands read the same way.
 */
import { type Command, Option } from 'commander';
import type { TargetOptions } from './target';

/** Exit codes scripts can trust. */
export const EXIT = {
  ok: 0,
  /** The request exists but was refused: already decided or expired. */
  refused: 1,
  /** Bad usage, a bad id, or no such request. */
  usage: 2,
  /** The target could not be reached or answered with an error (network, credentials, IAM). */
  error: 3,
} as const;

export const EXIT_HELP = `
Exit codes: 0 done (also the same decision by the same person again); 1 refused (decided
otherwise or by someone else, expired, or you authored the change); 2 usage error or no such request;
3 the target could not be found or reached, or failed (network, credentials, permissions).
Locally the cloud is found from --endpoint-url, then AWS_ENDPOINT_URL, then <data-dir>/cloud.json.`;

export function addTargetOptions(cmd: Command): Command {
  return cmd
    .option('--aws', 'use AWS with your own credentials instead of the local cloud')
    .option('--profile <name>', 'AWS profile (with --aws)')
    .option('--region <region>', 'AWS region')
    .option('--endpoint-url <url>', 'local cloud edge URL (default AWS_ENDPOINT_URL, then <data-dir>/cloud.json)')
    .option('--data-dir <dir>', 'the data dir of a cloud started with `mlship up` (default .mlship)')
    .addOption(new Option('--endpoint <url>', 'same as --endpoint-url').hideHelp())
    .option('--bucket <name>', 'artifact bucket (default MLSHIP_BUCKET; locally mlship-artifacts)')
    .addOption(
      new Option(
        '--state-machine <arn>',
        'release state machine ARN (with --aws the stack output ReleaseStateMachineArn, default MLSHIP_RELEASE_STATE_MACHINE_ARN; locally the one named *release*)',
      ),
    )
    .option(
      '--decide-url <url>',
      'with --aws: the DecideApproval function URL, stack output DecideApprovalUrl (default MLSHIP_DECIDE_URL)',
    );
}

export interface TargetCliOptions {
  aws?: boolean;
  profile?: string;
  region?: string;
  endpoint?: string;
  endpointUrl?: string;
  dataDir?: string;
  bucket?: string;
  stateMachine?: string;
  decideUrl?: string;
}

export function targetOptionsFrom(o: TargetCliOptions): TargetOptions {
  return {
    aws: o.aws,
    profile: o.profile,
    region: o.region,
    endpoint: o.endpointUrl ?? o.endpoint,
    dataDir: o.dataDir,
    bucket: o.bucket,
    stateMachineArn: o.stateMachine,
    decideUrl: o.decideUrl,
  };
}

/**
 * Commander exits 1 on a usage error; these commands promise 2, so their parse errors are
 * turned into exit code 2 (help and version still exit 0).
 */
export function usageExitCode2(cmd: Command): Command {
  return cmd.exitOverride((err) => {
    if (err.exitCode === 0 || err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version')
      process.exit(0);
    process.exit(EXIT.usage);
  });
}

/** Print to stdout, as JSON when asked. */
export function out(json: boolean | undefined, value: unknown, text: string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text}\n`);
}
