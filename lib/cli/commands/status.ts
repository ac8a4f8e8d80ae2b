/** `mlship status`: the workflow executions of the local cloud, as a table or JSON. */
import { Command, InvalidArgumentError } from 'commander';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { createSfnClient } from '../../../lambdas/shared/clients';
import { discoverEndpoint, localClientConfig, type EndpointOptions } from '../../local/client';
import { addEndpointOptions, reportError } from '../run';

export interface ExecutionRow {
  name: string;
  workflow: string;
  status: string;
  /** The state a running execution is in, or the error a failed one ended with. */
  state: string;
  /** Why a failed execution ended: the cause its Fail state recorded. */
  cause?: string;
  startedAt: string;
  elapsedSeconds: number;
  executionArn: string;
  /** The CodeBuild build of a release once BuildImage has started it: what `mlship logs <build>` takes. */
  buildId?: string;
}

/** The build id BuildImage recorded at `$.BuildImageResult.buildId`, read from the history. */
async function buildIdOf(sfn: SFNClient, executionArn: string): Promise<string | undefined> {
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 200, nextToken }));
    for (const ev of page.events ?? []) {
      const d = ev.stateExitedEventDetails;
      if (d?.name !== 'BuildImage' || !d.output) continue;
      try {
        return (JSON.parse(d.output) as { BuildImageResult?: { buildId?: string } }).BuildImageResult?.buildId;
      } catch {
        return undefined;
      }
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return undefined;
}

/** Read the executions of every state machine, newest first. */
export async function listExecutionRows(sfn: SFNClient, limit: number): Promise<ExecutionRow[]> {
  const machines = (await sfn.send(new ListStateMachinesCommand({ maxResults: 100 }))).stateMachines ?? [];
  const rows: ExecutionRow[] = [];
  for (const m of machines) {
    const { executions = [] } = await sfn.send(new ListExecutionsCommand({ stateMachineArn: m.stateMachineArn, maxResults: limit }));
    for (const e of executions) {
      let state = '';
      let cause: string | undefined;
      if (e.status === 'RUNNING') {
        const { events = [] } = await sfn.send(
          new GetExecutionHistoryCommand({ executionArn: e.executionArn, reverseOrder: true, maxResults: 30, includeExecutionData: false }),
        );
        state = events.find((ev) => ev.type?.endsWith('StateEntered'))?.stateEnteredEventDetails?.name ?? '';
        if (state === 'WaitForLease' || state === 'AcquireLease') {
          // AcquireLease with no earlier answer is a first look at the lease, not a wait.
          const detail = await leaseDetail(sfn, e.executionArn!);
          if (detail || state === 'WaitForLease') state = `${state}: ${detail ?? 'waiting for another release of the model'}`;
        }
      } else if (e.status !== 'SUCCEEDED') {
        const described = await sfn.send(new DescribeExecutionCommand({ executionArn: e.executionArn }));
        state = described.error ?? '';
        cause = described.cause || undefined;
        // Stopped by the release that superseded it, the cause names that release; ended by
        // itself in ReleaseSuperseded, the lease task's result does.
        if (state === 'ReleaseSuperseded')
          state = `${state}: ${(e.status === 'ABORTED' ? described.cause : await leaseDetail(sfn, e.executionArn!)) ?? 'superseded'}`;
      }
      const buildId = m.name!.endsWith('release') ? await buildIdOf(sfn, e.executionArn!) : undefined;
      const start = e.startDate ?? new Date();
      const end = e.stopDate ?? new Date();
      rows.push({
        name: e.name!,
        workflow: m.name!.replace(/^mlship-/, ''),
        status: e.status!,
        state,
        startedAt: start.toISOString(),
        elapsedSeconds: Math.max(0, Math.round((end.getTime() - start.getTime()) / 1000)),
        executionArn: e.executionArn!,
        ...(buildId ? { buildId } : {}),
        ...(cause ? { cause } : {}),
      });
    }
  }
  return rows.sort((a, b) => b.startedAt.localeCompare(a.startedAt)).slice(0, limit);
}

/** The last word of the model lease on an execution: "waiting for …", "superseded by …". */
async function leaseDetail(sfn: SFNClient, executionArn: string): Promise<string | undefined> {
  const { events = [] } = await sfn.send(new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 20 }));
  for (const ev of events) {
    const output = ev.stateExitedEventDetails?.output;
    if (!output || (ev.stateExitedEventDetails?.name !== 'AcquireLease' && ev.stateExitedEventDetails?.name !== 'ClaimProduction'))
      continue;
    const parsed = JSON.parse(output) as { AcquireLeaseResult?: { detail?: string }; ClaimProductionResult?: { detail?: string } };
    return (ev.stateExitedEventDetails.name === 'ClaimProduction' ? parsed.ClaimProductionResult : parsed.AcquireLeaseResult)?.detail;
  }
  return undefined;
}

export function formatElapsed(s: number): string {
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86400)}d${String(Math.floor((s % 86400) / 3600)).padStart(2, '0')}h`;
}

export function formatTable(rows: ExecutionRow[]): string {
  if (rows.length === 0) return 'No executions yet. Push a commit (`git push mlship main`) or run `mlship drift run <model>`.\n';
  const header = ['EXECUTION', 'WORKFLOW', 'STATUS', 'STATE', 'ELAPSED', 'STARTED', 'BUILD'];
  const body = rows.map((r) => [
    r.name,
    r.workflow,
    r.status,
    r.state || '-',
    formatElapsed(r.elapsedSeconds),
    r.startedAt.replace('T', ' ').slice(0, 19),
    r.buildId ?? '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cols: string[]) =>
    cols
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  // A failed execution's cause goes on its own line under the row: it is a sentence, too
  // long for a column, and the part a person acts on.
  const rowsWithCauses = rows.map((r, i) => (r.cause ? `${line(body[i]!)}\n  cause: ${r.cause}` : line(body[i]!)));
  return `${[line(header), ...rowsWithCauses].join('\n')}\n`;
}

const positive = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new InvalidArgumentError('an integer 1-1000');
  return n;
};

export function register(program: Command): void {
  const cmd = program
    .command('status')
    .description('Show the release and drift executions with their current state and elapsed time')
    .option('--watch', 'refresh every 2 seconds until Ctrl-C')
    .option('--json', 'print JSON for scripts')
    .option('--limit <n>', 'at most this many executions', positive, 20);
  addEndpointOptions(cmd).action(async (opts: EndpointOptions & { watch?: boolean; json?: boolean; limit: number }) => {
    let endpoint: string | undefined;
    let sfn: SFNClient | undefined;
    try {
      endpoint = discoverEndpoint(opts).endpoint;
      sfn = createSfnClient(localClientConfig(endpoint));
      for (;;) {
        const rows = await listExecutionRows(sfn, opts.limit);
        const text = opts.json ? `${JSON.stringify(rows, null, 2)}\n` : formatTable(rows);
        if (!opts.watch) {
          process.stdout.write(text);
          return;
        }
        process.stdout.write(`\x1b[2J\x1b[H${new Date().toISOString()}  (Ctrl-C to stop)\n\n${text}`);
        await new Promise((r) => setTimeout(r, 2000));
      }
    } catch (err) {
      reportError('status', err, endpoint);
    } finally {
      sfn?.destroy();
    }
  });
}
