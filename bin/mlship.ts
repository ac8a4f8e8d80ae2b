// Run through bin/mlship.mjs (the `mlship` command, `npm run mlship`), which loads this file with tsx in-process.
/**
 * The mlship command line. Each command lives in its own module under lib/cli/commands/
 * and exports `register(program)`; this entry only wires them up, so adding a command
 * touches one new file.
 */
import './polyfills';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Command } from 'commander';

const commandsDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'lib', 'cli', 'commands');

const program = new Command('mlship')
  .description('Continuous delivery for machine-learning models: on AWS, or on the local cloud')
  .showHelpAfterError();

for (const file of readdirSync(commandsDir).filter((f) => f.endsWith('.ts')).sort()) {
  const mod = (await import(pathToFileURL(join(commandsDir, file)).href)) as { register?: (p: Command) => void };
  mod.register?.(program);
}

await program.parseAsync(process.argv);
