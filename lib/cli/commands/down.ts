/** `mlship down`: stop the local cloud started by `mlship up` for a data dir. */
import { Command } from 'commander';
import { processAlive, readCloudFile } from '../../local/client';
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CLOUD_FILE, DEFAULT_DATA_DIR } from '../../local/constants';

export function register(program: Command): void {
  program
    .command('down')
    .description('Stop the local cloud running for a data dir (its state stays in the data dir)')
    .option('--data-dir <dir>', 'the data dir of the cloud to stop', DEFAULT_DATA_DIR)
    .action(async (opts: { dataDir: string }) => {
      const cloud = readCloudFile(opts.dataDir);
      if (!cloud) {
        process.stdout.write(`mlship: no local cloud is running for ${opts.dataDir}\n`);
        return;
      }
      try {
        process.kill(cloud.pid, 'SIGTERM');
      } catch {
        // It died without cleaning up (kill -9): the stale file would mislead other commands.
        rmSync(join(resolve(opts.dataDir), CLOUD_FILE), { force: true });
        process.stdout.write(`mlship: the local cloud (pid ${cloud.pid}) is not running any more; removed its stale ${CLOUD_FILE}\n`);
        return;
      }
      // Wait for the process to end; it removes cloud.json when it has flushed its journals.
      for (let i = 0; i < 300; i++) {
        if (!processAlive(cloud.pid)) {
          process.stdout.write(`mlship: stopped the local cloud at ${cloud.endpoint}\n`);
          return;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      process.stderr.write(`mlship: the local cloud (pid ${cloud.pid}) did not stop within 30 s\n`);
      process.exitCode = 1;
    });
}
