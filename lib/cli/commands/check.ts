/**
 * `mlship check <model>`: the pull-request check on the working tree, committed or not, against
 * the running cloud (build, tests, training, offline evaluation vs production, quality report;
 * nothing deployed). The same code a push to a non-release branch runs (lib/check).
 * `--in-build` is what the pull-request CodeBuild project runs on AWS: the buildspec in place,
 * against the artifact bucket named by `--bucket`, with the build's own credentials.
 */
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Command } from 'commander';
import { createCodeBuildClient, createS3Client, s3ConfigFromEnv } from '../../../lambdas/shared/clients';
import { codeBuildBuilder } from '../../check/builder';
import { inPlaceBuilder } from '../../check/in-build';
import { verdictLines, type CheckRecord } from '../../check/records';
import { runCheck, type CheckDeps } from '../../check/run-check';
import { repositoryRoot, snapshotWorkingTree } from '../../check/snapshot';
import { discoverModels, type DiscoveredModel } from '../../config';
import { discoverEndpoint, localClientConfig, type EndpointOptions } from '../../local/client';
import { ARTIFACT_BUCKET } from '../../local/constants';
import { addEndpointOptions, CliError, EXIT_CODE, reportError } from '../run';

type CheckOptions = EndpointOptions & { json?: boolean; inBuild?: boolean; bucket?: string };

const progress = (line: string) => void process.stderr.write(`mlship check: ${line}\n`);

/** Against the local cloud: a snapshot of the working tree built by its CodeBuild. */
async function checkAgainstCloud(repo: string, found: DiscoveredModel, opts: CheckOptions, endpoint: string): Promise<CheckRecord> {
  const snapshot = await snapshotWorkingTree(repo);
  const config = localClientConfig(endpoint);
  const s3 = createS3Client(config);
  const codebuild = createCodeBuildClient(config);
  try {
    const builder = codeBuildBuilder({ s3, codebuild, bucket: ARTIFACT_BUCKET });
    const deps: CheckDeps = {
      s3,
      bucket: ARTIFACT_BUCKET,
      workDir: join(tmpdir(), 'mlship-checks'),
      now: () => new Date(),
      builder,
      progress,
    };
    return await runCheck(deps, {
      manifest: found.manifest,
      commit: snapshot.commit,
      ref: snapshot.branch,
      dirty: snapshot.dirty,
      zip: snapshot.zip,
    });
  } finally {
    s3.destroy();
    codebuild.destroy();
  }
}

/** Inside the pull-request build: the checkout as it is, the bucket with the build's role. */
async function checkInBuild(repo: string, found: DiscoveredModel, bucket: string): Promise<CheckRecord> {
  const git = promisify(execFile);
  const commit = process.env.CODEBUILD_RESOLVED_SOURCE_VERSION || (await git('git', ['-C', repo, 'rev-parse', 'HEAD'])).stdout.trim();
  const ref =
    process.env.CODEBUILD_WEBHOOK_HEAD_REF?.replace(/^refs\/heads\//, '') || process.env.CODEBUILD_SOURCE_VERSION || 'pull request';
  const s3 = createS3Client(s3ConfigFromEnv());
  try {
    const deps: CheckDeps = {
      s3,
      bucket,
      workDir: join(tmpdir(), 'mlship-checks'),
      now: () => new Date(),
      builder: inPlaceBuilder(repo),
      progress,
    };
    return await runCheck(deps, { manifest: found.manifest, commit, ref, dirty: false });
  } finally {
    s3.destroy();
  }
}

export function register(program: Command): void {
  const cmd = program
    .command('check')
    .description("Run a model's pull-request check on the working tree (uncommitted changes included); nothing is deployed")
    .argument('<model>', 'the model name')
    .option('--json', 'print the check record as JSON')
    .option('--in-build', 'inside the AWS pull-request build: run the buildspec here, use --bucket with the build role')
    .option('--bucket <name>', 'the artifact bucket (with --in-build)');
  addEndpointOptions(cmd).action(async (model: string, opts: CheckOptions) => {
    let endpoint: string | undefined;
    try {
      const repo = opts.inBuild ? process.cwd() : await repositoryRoot(process.cwd());
      const found = discoverModels(repo).find((m) => m.manifest.name === model);
      if (!found) throw new CliError(`no model named "${model}" under ${join(repo, 'models')}`, EXIT_CODE.usage);
      let record: CheckRecord;
      if (opts.inBuild) {
        if (!opts.bucket) throw new CliError('--in-build needs --bucket <artifact bucket>', EXIT_CODE.usage);
        record = await checkInBuild(repo, found, opts.bucket);
      } else {
        endpoint = discoverEndpoint(opts).endpoint;
        record = await checkAgainstCloud(repo, found, opts, endpoint);
      }
      process.stdout.write(opts.json ? `${JSON.stringify(record, null, 2)}\n` : `${verdictLines(record).join('\n')}\n`);
      process.exitCode = record.status === 'passed' ? EXIT_CODE.ok : EXIT_CODE.failed;
    } catch (err) {
      reportError('check', err, endpoint);
    }
  });
}
