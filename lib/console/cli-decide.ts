/**
 * `mlship approve` and `mlship reject`: the same decision the console's buttons make, from a
 * terminal, through the same decide module, with exit codes a script can branch on.
 */
import { decide, InvalidApprovalIdError } from './approvals';
import { EXIT, out, targetOptionsFrom, type TargetCliOptions } from './cli';
import { ConsoleData } from './data';
import { resolveTarget, TargetOptionsError } from './target';

export interface DecideCliOptions extends TargetCliOptions {
  comment?: string;
  as?: string;
  json?: boolean;
}

/** Decide one request; returns the exit code (the caller sets process.exitCode). */
export async function runDecision(decision: 'approve' | 'reject', id: string, opts: DecideCliOptions): Promise<number> {
  const fail = (code: number, error: string, message: string) => {
    if (opts.json) out(true, { ok: false, id, decision, error, message }, '');
    else process.stderr.write(`mlship ${decision}: ${message}\n`);
    return code;
  };
  if (decision === 'reject' && !opts.comment?.trim()) return fail(EXIT.usage, 'invalid', 'a rejection needs --comment "<why>"');
  try {
    const target = resolveTarget(targetOptionsFrom(opts));
    const data = new ConsoleData(target);
    const before = await data.approval(id);
    if (!before)
      return fail(EXIT.usage, 'not-found', `no approval request ${id} in s3://${target.bucket}/approvals/ (see \`mlship approvals\`)`);
    // A decided request is still sent to the decision function: the same decision by the
    // same person is answered with the recorded outcome, anything else is refused there.
    const by = await target.approver(opts.as);
    const outcome = await decide(data.deps, { id, decision, by, comment: opts.comment });
    if (!outcome.ok) return fail(outcome.kind === 'refused' ? EXIT.refused : EXIT.usage, outcome.kind, outcome.message);
    const status = decision === 'approve' ? 'approved' : 'rejected';
    out(
      opts.json,
      {
        ok: true,
        id,
        decision: status,
        by,
        comment: opts.comment?.trim() || null,
        repeated: outcome.repeated === true,
        approval: outcome.approval ?? null,
      },
      `${status === 'approved' ? 'Approved' : 'Rejected'} ${before.model} ${before.version} (${id}) as ${by}${outcome.repeated ? ' (already recorded: same decision, same approver)' : ''}.${
        status === 'approved' ? ' The release continues to production.' : ' The release ends; production is unchanged.'
      }`,
    );
    return EXIT.ok;
  } catch (err) {
    if (err instanceof TargetOptionsError || err instanceof InvalidApprovalIdError)
      return fail(EXIT.usage, 'usage', (err as Error).message);
    return fail(EXIT.error, (err as Error).name ?? 'Error', (err as Error).message ?? String(err));
  }
}
