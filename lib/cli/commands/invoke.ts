/** `mlship invoke <model> <json>`: send one request to a model's endpoint through SageMaker Runtime. */
import { Command, Option } from 'commander';
import { InvokeEndpointCommand, type SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { createSageMakerRuntimeClient } from '../../../lambdas/shared/clients';
import { endpointName } from '../../../lambdas/shared/names';
import { discoverEndpoint, localClientConfig, type EndpointOptions } from '../../local/client';
import { addEndpointOptions, EXIT_CODE, reportError } from '../run';

/** The endpoint names the release creates (lambdas/shared/names.ts). */

export function register(program: Command): void {
  const cmd = program
    .command('invoke')
    .description("Send a request to a model's endpoint and print the predictions")
    .argument('<model>', 'the model name')
    .argument('<json>', 'the request body: {"instances": [...]} or one object')
    .addOption(new Option('--stage <stage>', 'which endpoint').choices(['production', 'staging']).default('production'));
  addEndpointOptions(cmd).action(async (model: string, json: string, opts: EndpointOptions & { stage: 'production' | 'staging' }) => {
    try {
      JSON.parse(json);
    } catch (err) {
      process.stderr.write(`mlship invoke: the request body is not valid JSON: ${(err as Error).message}\n`);
      process.exitCode = EXIT_CODE.usage;
      return;
    }
    let endpoint: string | undefined;
    let runtime: SageMakerRuntimeClient | undefined;
    try {
      endpoint = discoverEndpoint(opts).endpoint;
      runtime = createSageMakerRuntimeClient(localClientConfig(endpoint));
      const out = await runtime.send(
        new InvokeEndpointCommand({
          EndpointName: endpointName(model, opts.stage),
          Body: Buffer.from(json),
          ContentType: 'application/json',
          Accept: 'application/json',
        }),
      );
      process.stdout.write(`${Buffer.from(out.Body ?? new Uint8Array()).toString('utf8')}\n`);
      process.stderr.write(`(variant ${out.InvokedProductionVariant ?? '?'})\n`);
    } catch (err) {
      reportError('invoke', err, endpoint);
    } finally {
      runtime?.destroy();
    }
  });
}
