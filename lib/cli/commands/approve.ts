/** `mlship approve <id>`: approve a pending release, as the console's Approve button does. */
import { Command } from 'commander';
import { addTargetOptions, EXIT_HELP, usageExitCode2 } from '../../console/cli';
import { runDecision, type DecideCliOptions } from '../../console/cli-decide';

export function register(program: Command): void {
  const cmd = new Command('approve')
    .description('Approve a pending release: it continues to production')
    .argument('<id>', 'the approval request, <model>/<executionName> (see `mlship approvals`)')
    .option('--comment <text>', 'a note recorded with the decision')
    .option(
      '--as <name>',
      'locally: the approver name recorded (default MLSHIP_APPROVER or your OS user); on AWS your IAM identity is recorded',
    )
    .option('--json', 'print the outcome as JSON')
    .addHelpText('after', EXIT_HELP);
  addTargetOptions(cmd);
  usageExitCode2(cmd).action(async (id: string, opts: DecideCliOptions) => {
    process.exitCode = await runDecision('approve', id, opts);
  });
  program.addCommand(cmd);
}
