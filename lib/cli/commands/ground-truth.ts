/** `mlship ground-truth <model> <file>`: check a file of labels and upload it where the drift check reads ground truth. */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { Command, Option } from 'commander';
import { loadManifestText, MODEL_NAME_PATTERN, MODEL_NAME_RULE } from '../../config';
import { addTargetOptions, targetOptionsFrom, type TargetCliOptions } from '../../console/cli';
import { resolveTarget, TargetOptionsError } from '../../console/target';
import { groundTruthKey, GroundTruthFileError, parseLabelsFile, toModelMonitorLines } from '../ground-truth';
import { CliError, EXIT_CODE, EXIT_CODES_HELP, reportError } from '../run';

interface GroundTruthOptions extends TargetCliOptions {
  format?: 'jsonl' | 'csv';
  repo: string;
  dryRun?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  const cmd = new Command('ground-truth')
    .description(
      "Check a file of labels for a model's captured requests and upload it as Model Monitor ground truth (ground-truth/<model>/yyyy/mm/dd/hh/), " +
        'where the next drift check joins it to the predictions on inferenceId',
    )
    .argument('<model>', 'the model name')
    .argument('<file>', 'JSONL ({"inferenceId": "...", "label": ...} per line) or CSV with the columns inferenceId,label')
    .addOption(new Option('--format <format>', 'the file format (default: from the extension; .csv is CSV)').choices(['jsonl', 'csv']))
    .option('--repo <dir>', "the repository holding models/<model>/model.yaml (a regression model's labels must be numbers)", '.')
    .option('--dry-run', 'check the file and upload nothing')
    .option('--json', 'print the outcome as JSON');
  addTargetOptions(cmd).addHelpText('after', EXIT_CODES_HELP);
  cmd.action(async (model: string, file: string, opts: GroundTruthOptions) => {
    try {
      const result = await uploadGroundTruth(model, file, opts);
      process.stdout.write(
        opts.json
          ? `${JSON.stringify(result, null, 2)}\n`
          : opts.dryRun
            ? `${file}: ${result.labels} label(s) for ${model} are valid (dry run: nothing uploaded)\n`
            : `Uploaded ${result.labels} label(s) for ${model} to ${result.uri}; the next drift check joins them to the captured predictions on inferenceId.\n`,
      );
      process.exitCode = EXIT_CODE.ok;
    } catch (err) {
      if (err instanceof GroundTruthFileError) {
        // Every problem on its own line, each naming the file and line: an expected outcome, no stack.
        process.stderr.write(`mlship ground-truth: ${file} was not uploaded:\n${err.message}\n`);
        process.exitCode = EXIT_CODE.usage;
      } else if (err instanceof TargetOptionsError) {
        process.stderr.write(`mlship ground-truth: ${err.message}\n`);
        process.exitCode = EXIT_CODE.usage;
      } else reportError('ground-truth', err, opts.endpointUrl ?? opts.endpoint);
    }
  });
  program.addCommand(cmd);
}

async function uploadGroundTruth(
  model: string,
  file: string,
  opts: GroundTruthOptions,
): Promise<{ model: string; labels: number; bucket?: string; key?: string; uri?: string }> {
  if (!MODEL_NAME_PATTERN.test(model)) throw new CliError(`"${model}" is not a model name (${MODEL_NAME_RULE})`, EXIT_CODE.usage);
  if (!existsSync(file)) throw new CliError(`${file}: no such file`, EXIT_CODE.usage);
  const manifestFile = join(opts.repo, 'models', model, 'model.yaml');
  // Without the manifest (labels sent from outside the repository) only the type check is skipped.
  const task = existsSync(manifestFile) ? loadManifestText(readFileSync(manifestFile, 'utf8'), manifestFile).task : undefined;
  const labels = parseLabelsFile(readFileSync(file, 'utf8'), file, { task, format: opts.format });
  if (opts.dryRun) return { model, labels: labels.length };
  const target = resolveTarget(targetOptionsFrom(opts));
  const now = new Date();
  const key = groundTruthKey(
    model,
    now,
    `${basename(file)
      .replace(/\.[^.]*$/, '')
      .replace(/[^\w.-]/g, '_')}-${now.getTime()}.jsonl`,
  );
  try {
    await target.s3.send(
      new PutObjectCommand({ Bucket: target.bucket, Key: key, Body: toModelMonitorLines(labels), ContentType: 'application/jsonl' }),
    );
  } finally {
    target.s3.destroy();
    target.sfn.destroy();
  }
  return { model, labels: labels.length, bucket: target.bucket, key, uri: `s3://${target.bucket}/${key}` };
}
