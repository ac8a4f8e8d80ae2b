/**
 * `mlship check <model>`: the pull-request check on the working tree, committed or not, against
 * the running cloud (build, tests, training, offline evaluation vs production, quality report;
 * nothing deployed). The same code a push to a non-release branch runs (lib/check).
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { createCodeBuildClient, createS3Client } from '../../../lambdas/shared/clients';
import { runCheck } from '../../check/run-check';
import { verdictLines } from '../../check/records';
import { repositoryRoot, snapshotWorkingTree } from '../../check/snapshot';
import { discoverModels } from '../../config';
import { ARTIFACT_BUCKET } from '../../local/constants';
import { discoverEndpoint, localClientConfig, type EndpointOptions } from '../../local/client';
import { addEndpointOptions, CliError, EXIT_CODE, reportError } from '../run';

export function register(program: Command): void {
  const cmd = program
    .command('check')
    .description("Run a model's pull-request check on the working tree (uncommitted changes included); nothing is deployed")
    .argument('<model>', 'the model name')
    .option('--json', 'print the check record as JSON');
  addEndpointOptions(cmd).action(async (model: string, opts: EndpointOptions & { json?: boolean }) => {
    let endpoint: string | undefined;
    try {
      const repo = await repositoryRoot(process.cwd());
      const found = discoverModels(repo).find((m) => m.manifest.name === model);
      if (!found) throw new CliError(`no model named "${model}" under ${join(repo, 'models')}`, EXIT_CODE.usage);
      endpoint = discoverEndpoint(opts).endpoint;
      const snapshot = await snapshotWorkingTree(repo);
      const config = localClientConfig(endpoint);
      const deps = {
        s3: createS3Client(config),
        codebuild: createCodeBuildClient(config),
        bucket: ARTIFACT_BUCKET,
        workDir: join(tmpdir(), 'mlship-checks'),
        now: () => new Date(),
        progress: (line: string) => process.stderr.write(`mlship check: ${line}\n`),
      };
      try {
        const record = await runCheck(deps, {
          manifest: found.manifest,
          commit: snapshot.commit,
          ref: snapshot.branch,
          dirty: snapshot.dirty,
          zip: snapshot.zip,
        });
        process.stdout.write(opts.json ? `${JSON.stringify(record, null, 2)}\n` : `${verdictLines(record).join('\n')}\n`);
        process.exitCode = record.status === 'passed' ? EXIT_CODE.ok : EXIT_CODE.failed;
      } finally {
        deps.s3.destroy();
        deps.codebuild.destroy();
      }
    } catch (err) {
      reportError('check', err, endpoint);
    }
  });
}
