/** `mlship reject <id> --comment <why>`: reject a pending release, as the console's Reject button does. */
import { Command } from 'commander';
import { addTargetOptions, EXIT_HELP, usageExitCode2 } from '../../console/cli';
import { runDecision, type DecideCliOptions } from '../../console/cli-decide';

export function register(program: Command): void {
  const cmd = new Command('reject')
    .description('Reject a pending release: it ends, and production keeps its current version')
    .argument('<id>', 'the approval request, <model>/<executionName> (see `mlship approvals`)')
    .requiredOption('--comment <text>', 'why (required: recorded with the decision)')
    .option(
      '--as <name>',
      'locally: the approver name recorded (default MLSHIP_APPROVER or your OS user); on AWS your IAM identity is recorded',
    )
    .option('--json', 'print the outcome as JSON')
    .addHelpText('after', EXIT_HELP);
  addTargetOptions(cmd);
  usageExitCode2(cmd).action(async (id: string, opts: DecideCliOptions) => {
    process.exitCode = await runDecision('reject', id, opts);
  });
  program.addCommand(cmd);
}
