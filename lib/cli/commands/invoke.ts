/** `mlship invoke <model> <json>`: send one request to a model's endpoint through SageMaker Runtime. */
import { Command, Option } from 'commander';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { localClientConfig, resolveEndpoint } from '../../local/client';
import { DEFAULT_DATA_DIR } from '../../local/constants';

/** The endpoint names the release creates (lambdas/shared/names.ts). */
const endpointName = (model: string, stage: string): string => `mlship-${model}-${stage}`;

export function register(program: Command): void {
  program
    .command('invoke')
    .description("Send a request to a model's endpoint and print the predictions")
    .argument('<model>', 'the model name')
    .argument('<json>', 'the request body: {"instances": [...]} or one object')
    .addOption(new Option('--stage <stage>', 'which endpoint').choices(['production', 'staging']).default('production'))
    .option('--data-dir <dir>', 'the data dir of the running cloud', DEFAULT_DATA_DIR)
    .option('--endpoint <url>', 'the local cloud edge (default: from <data-dir>/cloud.json)')
    .action(async (model: string, json: string, opts: { stage: string; dataDir: string; endpoint?: string }) => {
      try {
        JSON.parse(json);
      } catch (err) {
        process.stderr.write(`mlship: the request body is not valid JSON: ${(err as Error).message}\n`);
        process.exitCode = 2;
        return;
      }
      const runtime = new SageMakerRuntimeClient(localClientConfig(resolveEndpoint(opts)));
      try {
        const out = await runtime.send(
          new InvokeEndpointCommand({ EndpointName: endpointName(model, opts.stage), Body: Buffer.from(json), ContentType: 'application/json', Accept: 'application/json' }),
        );
        process.stdout.write(`${Buffer.from(out.Body ?? new Uint8Array()).toString('utf8')}\n`);
        process.stderr.write(`(variant ${out.InvokedProductionVariant ?? '?'})\n`);
      } catch (err) {
        process.stderr.write(`mlship: ${(err as Error).name}: ${(err as Error).message}\n`);
        process.exitCode = 1;
      } finally {
        runtime.destroy();
      }
    });
}
