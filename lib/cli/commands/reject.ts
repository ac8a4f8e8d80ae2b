/** `mlship reject <id> --comment <why>`: reject a pending release, as the console's Reject button does. */
import type { Command } from 'commander';
import { decisionCommand } from '../decision-command';

export function register(program: Command): void {
  program.addCommand(
    decisionCommand({
      decision: 'reject',
      description: 'Reject a pending release: it ends, and production keeps its current version',
      commentRequired: true,
    }),
  );
}
