/** The one shape of `mlship approve` and `mlship reject`: same argument, options and exit codes. */
import { Command } from 'commander';
import { addTargetOptions, EXIT_HELP, usageExitCode2 } from '../console/cli';
import { runDecision, type DecideCliOptions } from '../console/cli-decide';

export interface DecisionCommandSpec {
  decision: 'approve' | 'reject';
  description: string;
  /** A rejection must say why; an approval may. */
  commentRequired: boolean;
}

export function decisionCommand({ decision, description, commentRequired }: DecisionCommandSpec): Command {
  const cmd = new Command(decision)
    .description(description)
    .argument('<id>', 'the approval request, <model>/<executionName> (see `mlship approvals`)');
  if (commentRequired) cmd.requiredOption('--comment <text>', 'why (required: recorded with the decision)');
  else cmd.option('--comment <text>', 'a note recorded with the decision');
  cmd
    .option(
      '--as <name>',
      'locally: the approver name recorded (default MLSHIP_APPROVER or your OS user); on AWS your IAM identity is recorded',
    )
    .option('--json', 'print the outcome as JSON')
    .addHelpText('after', EXIT_HELP);
  addTargetOptions(cmd);
  usageExitCode2(cmd).action(async (id: string, opts: DecideCliOptions) => {
    process.exitCode = await runDecision(decision, id, opts);
  });
  return cmd;
}
