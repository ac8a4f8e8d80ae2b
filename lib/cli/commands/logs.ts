/** `mlship logs <execution|build>`: an execution's history, or a build's log. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { BatchGetBuildsCommand } from '@aws-sdk/client-codebuild';
import {
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  type HistoryEvent,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { createCodeBuildClient, createSfnClient } from '../../../lambdas/shared/clients';
import { discoverEndpoint, localClientConfig, type EndpointOptions } from '../../local/client';
import { addEndpointOptions, CliError, reportError } from '../run';

/** One line per history event: time, type, state, and the error of a failure. */
export function formatEvent(e: HistoryEvent): string {
  const details = Object.entries(e).find(([k]) => k.endsWith('EventDetails'))?.[1] as Record<string, unknown> | undefined;
  const parts = [e.timestamp?.toISOString().slice(11, 23) ?? '', String(e.type).padEnd(24)];
  if (details?.name) parts.push(String(details.name));
  if (details?.error) parts.push(`error=${String(details.error)}`);
  if (details?.cause) parts.push(`cause=${String(details.cause).slice(0, 300)}`);
  return parts.join('  ');
}

async function findExecution(sfn: SFNClient, ref: string): Promise<string | undefined> {
  if (ref.startsWith('arn:aws:states:')) return ref;
  for (const m of (await sfn.send(new ListStateMachinesCommand({}))).stateMachines ?? []) {
    let nextToken: string | undefined;
    do {
      const page = await sfn.send(new ListExecutionsCommand({ stateMachineArn: m.stateMachineArn, maxResults: 1000, nextToken }));
      const hit = page.executions?.find((e) => e.name === ref);
      if (hit) return hit.executionArn;
      nextToken = page.nextToken;
    } while (nextToken);
  }
  return undefined;
}

export function register(program: Command): void {
  const cmd = program
    .command('logs')
    .description('Print an execution history (by name or ARN) or a build log (by build id; `mlship status` shows it)')
    .argument('<ref>', 'an execution name or ARN, or a CodeBuild build id (mlship-build-<model>:<uuid>)');
  addEndpointOptions(cmd).action(async (ref: string, opts: EndpointOptions) => {
    let endpoint: string | undefined;
    try {
      endpoint = discoverEndpoint(opts).endpoint;
      await printLogs(ref, localClientConfig(endpoint));
    } catch (err) {
      reportError('logs', err, endpoint);
    }
  });
}

async function printLogs(ref: string, config: ReturnType<typeof localClientConfig>): Promise<void> {
  if (/^[^:]+:[0-9a-f-]{36}$/.test(ref) || ref.startsWith('arn:aws:codebuild:')) {
    const cb = createCodeBuildClient(config);
    try {
      const { builds = [] } = await cb.send(new BatchGetBuildsCommand({ ids: [ref] }));
      const build = builds[0];
      if (!build) throw new CliError(`no build ${ref} (\`mlship status\` shows each release's build id)`);
      process.stdout.write(`build ${build.id}: ${build.buildStatus} (phase ${build.currentPhase})\n`);
      const link = build.logs?.deepLink;
      if (link?.startsWith('file:')) process.stdout.write(readFileSync(fileURLToPath(link), 'utf8'));
      else process.stdout.write(`log: ${link ?? '(none)'}\n`);
    } finally {
      cb.destroy();
    }
    return;
  }
  const sfn = createSfnClient(config);
  try {
    const arn = await findExecution(sfn, ref);
    if (!arn) throw new CliError(`no execution named ${ref} (see \`mlship status\`)`);
    let nextToken: string | undefined;
    do {
      const page = await sfn.send(new GetExecutionHistoryCommand({ executionArn: arn, maxResults: 1000, nextToken }));
      for (const e of page.events ?? []) process.stdout.write(`${formatEvent(e)}\n`);
      nextToken = page.nextToken;
    } while (nextToken);
  } finally {
    sfn.destroy();
  }
}
