/** `mlship console`: the approval console on 127.0.0.1, against the local cloud or AWS. */
import { spawn } from 'node:child_process';
import { Command } from 'commander';
import { addTargetOptions, EXIT, targetOptionsFrom, usageExitCode2, type TargetCliOptions } from '../../console/cli';
import { startConsole, TargetOptionsError } from '../../console/index';
import { onStopSignals } from '../stop-signals';

interface ConsoleCliOptions extends TargetCliOptions {
  port: string;
  approver?: string;
  open: boolean;
}

export function register(program: Command): void {
  const cmd = new Command('console')
    .description('Serve the approval console on 127.0.0.1 (prints a URL with a fresh access token)')
    .option('--port <port>', 'port on 127.0.0.1 (0 = any free port)', '0')
    .option('--approver <name>', 'locally: the name decisions are recorded under (default MLSHIP_APPROVER or your OS user)')
    .option('--no-open', 'do not open a browser');
  addTargetOptions(cmd);
  usageExitCode2(cmd).action(async (opts: ConsoleCliOptions) => {
    const port = Number(opts.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      process.stderr.write(`mlship console: --port ${opts.port} is not a port number (0-65535)\n`);
      process.exit(EXIT.usage);
    }
    // Before the start, and kept to the exit: a Ctrl-C relayed by npm or tsx arrives twice,
    // and with once-listeners the second copy killed the console mid-stop (see stop-signals.ts).
    const signals = onStopSignals({ onForce: () => process.exit(130) });
    let running;
    try {
      running = await startConsole({ target: targetOptionsFrom(opts), port, approver: opts.approver });
    } catch (err) {
      process.stderr.write(`mlship console: ${(err as Error).message}\n`);
      process.exit(err instanceof TargetOptionsError ? EXIT.usage : EXIT.error);
    }
    process.stdout.write(
      `mlship console on ${running.origin} (decisions recorded as ${running.approver})\nOpen: ${running.url}\nCtrl-C to stop.\n`,
    );
    if (opts.open) openBrowser(running.url);
    await signals.stopped;
    await running.close();
    process.stdout.write('mlship console stopped\n');
    process.exit(0);
  });
  program.addCommand(cmd);
}

/** Open the default browser where there is one; never in CI or without a display. */
function openBrowser(url: string): void {
  if (process.env.CI) return;
  const opener =
    process.platform === 'darwin'
      ? 'open'
      : process.platform === 'win32'
        ? 'explorer'
        : process.env.DISPLAY || process.env.WAYLAND_DISPLAY
          ? 'xdg-open'
          : undefined;
  if (!opener) return;
  try {
    const child = spawn(opener, [url], { stdio: 'ignore', detached: true });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    // No browser: the URL is printed above.
  }
}
