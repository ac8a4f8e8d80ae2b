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
import { reportError } from '../lib/cli/run';

// Node 20 is below the SDK's coming floor, and the SDK says so in nine lines on every
// command. The README states the floor (22) once; the CLI's output stays readable. Only
// the CLI sets this: the Lambda functions run Node 22 and never see the warning.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const commandsDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'lib', 'cli', 'commands');

const program = new Command('mlship')
  .description('Continuous delivery for machine-learning models: on AWS, or on the local cloud')
  .showHelpAfterError();

for (const file of readdirSync(commandsDir)
  .filter((f) => f.endsWith('.ts'))
  .sort()) {
  const mod = (await import(pathToFileURL(join(commandsDir, file)).href)) as { register?: (p: Command) => void };
  mod.register?.(program);
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  // Whatever a command did not handle itself still ends as one line and an exit code.
  reportError(program.args[0] ?? '', err);
}
