/** `mlship demo` (what `npm start` runs): the whole release story on the local cloud, narrated. */
import { Command, InvalidArgumentError } from 'commander';
import { DEMO_APPROVER, runDemo } from '../../demo';
import { parsePort } from '../options';

const scale = (v: string): number => {
  const n = Number(v);
  if (!(n > 0 && n <= 1)) throw new InvalidArgumentError('a number in (0, 1]; 1 = real time');
  return n;
};

export function register(program: Command): void {
  program
    .command('demo')
    .description(
      'Run the demo: start a local cloud, push two models, watch them build, evaluate and load-test, approve one and reject the other, ' +
        'send live and drifted traffic, detect drift and start retraining, push a change to one model, roll the retrained model out with a canary. ' +
        'Exits 0 only if every step did what it said.',
    )
    .option(
      '--interactive',
      'wait for you to approve/reject in the console or with `mlship approve|reject` instead of deciding as a demo approver',
    )
    .option('--data-dir <dir>', "keep the cloud's state here (reuses a cloud already running there); default: a new temp dir")
    .option('--endpoint <url>', 'use the local cloud running at this edge URL instead of starting one')
    .option('--git-dir <dir>', "with --endpoint: the running cloud's bare repository (default: from <data-dir>/cloud.json)")
    .option('--port <port>', 'edge port of the cloud the demo starts (0 = any free port)', parsePort, 0)
    .option('--time-scale <x>', 'time scale of the cloud the demo starts (Wait states, bake times)', scale, 0.02)
    .option('--approver <name>', "the approver name recorded for the demo's decisions", DEMO_APPROVER)
    .option(
      '--no-wait-second-release',
      'after the second push, only check which release started (no wait for approval, no canary rollout of the retraining)',
    )
    .action(
      async (opts: {
        interactive?: boolean;
        dataDir?: string;
        endpoint?: string;
        gitDir?: string;
        port: number;
        timeScale: number;
        approver: string;
        waitSecondRelease: boolean;
      }) => {
        const controller = new AbortController();
        const stop = (signal: string) => {
          if (controller.signal.aborted) return;
          process.stdout.write(`\nmlship demo: ${signal}: stopping (cleaning up the local cloud)...\n`);
          controller.abort(signal);
        };
        const onInt = () => stop('SIGINT');
        const onTerm = () => stop('SIGTERM');
        process.on('SIGINT', onInt);
        process.on('SIGTERM', onTerm);
        try {
          const result = await runDemo({
            interactive: opts.interactive,
            dataDir: opts.dataDir,
            endpoint: opts.endpoint,
            gitDir: opts.gitDir,
            port: opts.port,
            timeScale: opts.timeScale,
            approver: opts.approver,
            checkSecondRelease: opts.waitSecondRelease,
            signal: controller.signal,
          });
          process.exitCode = result.ok ? 0 : controller.signal.aborted ? 130 : 1;
        } finally {
          process.off('SIGINT', onInt);
          process.off('SIGTERM', onTerm);
        }
      },
    );
}
