/** `mlship up`: start the local cloud in the foreground until Ctrl-C or `mlship down`. */
import { relative } from 'node:path';
import { Command } from 'commander';
import { LocalCloud } from '../../local/cloud';
import { DEFAULT_DATA_DIR, DEFAULT_PORT } from '../../local/constants';
import { runningCloud } from '../../local/client';
import { parsePort } from '../options';
import { onStopSignals } from '../stop-signals';

/** `--fast`: Wait states, retry pauses and deployment bake times run 50 times faster. */
const FAST_TIME_SCALE = 0.02;

export function register(program: Command): void {
  program
    .command('up')
    .description('Start the local cloud: Step Functions, CodeBuild, SageMaker, S3 and SNS on one port of 127.0.0.1')
    .option('--port <port>', 'edge port (0 = any free port)', parsePort, DEFAULT_PORT)
    .option('--data-dir <dir>', 'where all state lives', DEFAULT_DATA_DIR)
    .option('--fast', `run Wait states, retries and bake times ${1 / FAST_TIME_SCALE}x faster (demos)`)
    .option('--no-console', 'do not start the approval console')
    .option('--no-schedule', 'do not run the drift schedules')
    .action(async (opts: { port: number; dataDir: string; fast?: boolean; console: boolean; schedule: boolean }) => {
      const running = runningCloud(opts.dataDir);
      if (running && running.pid !== process.pid) {
        process.stderr.write(
          `mlship: a local cloud already runs for ${opts.dataDir} (pid ${running.pid}, ${running.endpoint}); stop it with \`mlship down\`\n`,
        );
        process.exitCode = 1;
        return;
      }
      // Before anything starts: a Ctrl-C from here on stops the cloud gracefully, even one
      // that comes during the start or right after the banner (which says to press it).
      const signals = onStopSignals({
        onForce: () => {
          process.stderr.write(
            '\nmlship: Ctrl-C again: forcing the stop without waiting for the graceful one (data capture not flushed, running executions not recorded, cloud.json left)\n',
          );
          process.exit(130);
        },
      });
      let cloud: LocalCloud;
      try {
        cloud = await LocalCloud.start({
          port: opts.port,
          dataDir: opts.dataDir,
          repoRoot: process.cwd(),
          timeScale: opts.fast ? FAST_TIME_SCALE : 1,
          console: opts.console,
          scheduler: opts.schedule,
        });
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        const why =
          e.code === 'EADDRINUSE' ? `port ${opts.port} is in use on 127.0.0.1; pick another with --port (0 = any free port)` : e.message;
        process.stderr.write(`mlship: cannot start the local cloud: ${why}\n`);
        process.exitCode = 1;
        signals.dispose();
        return;
      }
      const models = cloud.knownModels().map((m) => m.manifest.name);
      const next = cloud.upcomingDriftChecks();
      const rel = relative(process.cwd(), cloud.gitDir);
      const gitDir = rel && !rel.startsWith('..') ? rel : cloud.gitDir;
      const lines = [
        `mlship local cloud is up${opts.fast ? ' (--fast)' : ''}`,
        '',
        `  endpoint   ${cloud.endpoint}`,
        `  data dir   ${cloud.dataDir}`,
        `  console    ${cloud.consoleUrl ?? '(not started; run `mlship console`)'}`,
        `  models     ${models.length ? models.join(', ') : '(none found under models/)'}`,
        ...Object.entries(next).map(([m, at]) => `  drift      ${m}: next check ${at}`),
        '',
        'Point AWS clients at it:',
        `  export AWS_ENDPOINT_URL=${cloud.endpoint} AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1`,
        '',
        'Release by pushing:',
        `  git remote add mlship ${gitDir}`,
        '  git push mlship main',
        '',
        'Watch with `mlship status --watch`; stop with Ctrl-C or `mlship down`.',
      ];
      if (!signals.signal) process.stdout.write(`${lines.join('\n')}\n`);
      const signal = await signals.stopped;
      const force = signal === 'SIGINT' ? '; Ctrl-C again to force' : '';
      process.stdout.write(
        `\nmlship: ${signal}: stopping the local cloud (running executions end FAILED and can be redriven${force})...\n`,
      );
      await cloud.close().catch((err) => {
        process.stderr.write(`mlship: error while stopping: ${(err as Error).message}\n`);
        process.exitCode = 1;
      });
      process.stdout.write('mlship: local cloud stopped\n');
    });
}
