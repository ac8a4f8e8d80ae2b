/** `mlship approvals`: the approval requests, pending ones by default. */
import { Command, Option } from 'commander';
import { addTargetOptions, EXIT, EXIT_HELP, out, targetOptionsFrom, usageExitCode2, type TargetCliOptions } from '../../console/cli';
import { ConsoleData } from '../../console/data';
import { resolveTarget, TargetOptionsError } from '../../console/target';
import type { ApprovalStatus, PublicApproval } from '../../console/approvals';

interface ApprovalsOptions extends TargetCliOptions {
  all?: boolean;
  status?: ApprovalStatus;
  json?: boolean;
}

export function register(program: Command): void {
  const cmd = new Command('approvals')
    .description('List approval requests (pending ones unless --all or --status)')
    .option('--all', 'every request, decided and expired ones too')
    .addOption(new Option('--status <status>', 'only requests with this status').choices(['pending', 'approved', 'rejected', 'expired']))
    .option('--json', 'print the requests as JSON (without task tokens)')
    .addHelpText('after', EXIT_HELP);
  addTargetOptions(cmd);
  usageExitCode2(cmd).action(async (opts: ApprovalsOptions) => {
    try {
      const data = new ConsoleData(resolveTarget(targetOptionsFrom(opts)));
      const status = opts.status ?? (opts.all ? undefined : 'pending');
      const list = await data.approvals(status);
      out(opts.json, list, table(list, status));
      process.exitCode = EXIT.ok;
    } catch (err) {
      process.stderr.write(`mlship approvals: ${(err as Error).message}\n`);
      process.exitCode = err instanceof TargetOptionsError ? EXIT.usage : EXIT.error;
    }
  });
  program.addCommand(cmd);
}

function table(list: PublicApproval[], status: ApprovalStatus | undefined): string {
  if (!list.length) return `No ${status ?? ''} approval requests.`.replace('  ', ' ');
  const rows = [
    ['ID', 'VERSION', 'STATUS', 'REQUESTED', 'EXPIRES', 'REPORT', 'DECISION'],
    ...list.map((a) => [
      a.id,
      a.version,
      a.status,
      a.requestedAt ?? '',
      a.expiresAt ?? '',
      // The HTML quality report is the one a person reads; the JSON one when there is no HTML.
      a.reportLinks.html ?? a.reportLinks.json ?? '-',
      a.decision ? `${a.decision.by ?? ''} ${a.decision.at ?? ''}${a.decision.comment ? ` "${a.decision.comment}"` : ''}` : '',
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}
