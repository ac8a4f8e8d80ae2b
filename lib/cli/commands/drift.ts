/** `mlship drift run <model>`: start the drift workflow for a model now, as its schedule would. */
import { Command } from 'commander';
import { DescribeExecutionCommand, StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { createSfnClient } from '../../../lambdas/shared/clients';
import { discoverEndpoint, localClientConfig, type EndpointOptions } from '../../local/client';
import { STATE_MACHINE_NAMES, stateMachineArn } from '../../local/constants';
import { addEndpointOptions, reportError } from '../run';

export function register(program: Command): void {
  const drift = program.command('drift').description('Drift checks');
  const run = drift
    .command('run')
    .description('Start the drift check of a model now')
    .argument('<model>', 'the model name')
    .option('--wait', 'wait until the check ends and print its outcome');
  addEndpointOptions(run).action(async (model: string, opts: EndpointOptions & { wait?: boolean }) => {
    let endpoint: string | undefined;
    let sfn: SFNClient | undefined;
    try {
      endpoint = discoverEndpoint(opts).endpoint;
      sfn = createSfnClient(localClientConfig(endpoint));
      const name = `${model}-drift-${Date.now().toString(36)}`;
      const { executionArn } = await sfn.send(
        new StartExecutionCommand({
          stateMachineArn: stateMachineArn(STATE_MACHINE_NAMES.driftCheck),
          name,
          input: JSON.stringify({ model, trigger: 'manual' }),
        }),
      );
      process.stdout.write(`mlship: started drift check ${name}\n  ${executionArn}\n`);
      if (!opts.wait) return;
      for (;;) {
        const d = await sfn.send(new DescribeExecutionCommand({ executionArn }));
        if (d.status !== 'RUNNING') {
          process.stdout.write(`mlship: ${d.status}${d.error ? ` (${d.error}: ${d.cause})` : ''}\n`);
          if (d.output) process.stdout.write(`${checkSummary(d.output)}${d.output}\n`);
          process.exitCode = d.status === 'SUCCEEDED' ? 0 : 1;
          return;
        }
        await new Promise((r) => setTimeout(r, 1000));
      }
    } catch (err) {
      reportError('drift run', err, endpoint);
    } finally {
      sfn?.destroy();
    }
  });
}

/** The verdict and what the check skipped, one line each, above the raw output. */
export function checkSummary(output: string): string {
  let check:
    | {
        verdict?: string;
        reason?: string;
        dataQuality?: { captureLines?: number; skippedLines?: number; skippedValues?: Record<string, number>; alerts?: string[] } | null;
      }
    | undefined;
  try {
    check = (JSON.parse(output) as { CheckDriftResult?: typeof check }).CheckDriftResult;
  } catch {
    return '';
  }
  if (!check?.verdict) return '';
  const q = check.dataQuality;
  const values = Object.entries(q?.skippedValues ?? {}).map(([f, n]) => `${f} ${n}`);
  const lines = [`verdict: ${check.verdict}${check.reason ? ` — ${check.reason}` : ''}`];
  if (q)
    lines.push(
      `skipped: ${q.skippedLines ?? 0} of ${q.captureLines ?? 0} capture lines; values: ${values.length ? values.join(', ') : 'none'}`,
    );
  for (const a of q?.alerts ?? []) lines.push(`data-quality alert: ${a}`);
  return lines.map((l) => `  ${l}\n`).join('');
}
