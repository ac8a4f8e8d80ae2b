/** `mlship approve <id>`: approve a pending release, as the console's Approve button does. */
import type { Command } from 'commander';
import { decisionCommand } from '../decision-command';

export function register(program: Command): void {
  program.addCommand(
    decisionCommand({ decision: 'approve', description: 'Approve a pending release: it continues to production', commentRequired: false }),
  );
}
