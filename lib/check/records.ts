/**
 * Where a check's results live in the artifact bucket, and its record: what the pusher, the
 * `mlship check` command and the console read.
 *
 * ```
 * checks/<model>/<checkId>.json                  the record (CheckRecord)
 * checks/<model>/<checkId>/build/files/...       the build's artifacts (the candidate bundle)
 * checks/<model>/<checkId>/quality-report.json   the report (the release's QualityReport shape)
 * checks/<model>/<checkId>/quality-report.html
 * ```
 */
export const checkKeys = {
  folder: (model: string, checkId: string) => `checks/${model}/${checkId}`,
  record: (model: string, checkId: string) => `checks/${model}/${checkId}.json`,
  file: (model: string, checkId: string, file: string) => `checks/${model}/${checkId}/${file}`,
  models: 'checks/',
};

/** One check of one model at one commit (or working tree). */
export interface CheckRecord {
  model: string;
  /** `<UTC time>-<commit 12>`: sorts by start. */
  checkId: string;
  commit: string;
  /** The branch pushed, or "working tree". */
  ref: string;
  /** The working tree had changes no commit holds (`mlship check` only). */
  dirty: boolean;
  /** passed / failed: the gate's verdict; error: the check could not reach one (build failed, a model server broke). */
  status: 'passed' | 'failed' | 'error';
  /** The gate's failure messages, or the error. */
  failures: string[];
  notes: string[];
  metrics?: Record<string, number>;
  production?: { version: string; metrics: Record<string, number> };
  buildId?: string;
  buildLog?: string;
  reportUri?: string;
  htmlUri?: string;
  startedAt: string;
  finishedAt: string;
}

/** The lines the pusher and `mlship check` print: the verdict first, then each cause, then where the report is. */
export function verdictLines(r: CheckRecord): string[] {
  const head =
    r.status === 'passed'
      ? 'PASSED: the release gate would pass'
      : r.status === 'failed'
        ? 'FAILED: the release gate would fail; do not merge'
        : 'ERROR: no verdict';
  const out = [`check ${r.model} @ ${r.ref} ${r.commit.slice(0, 12)}${r.dirty ? ' (uncommitted changes)' : ''}: ${head}`];
  for (const f of r.failures) out.push(`  - ${f}`);
  if (r.status === 'passed' && r.production) out.push(`  compared with production ${r.production.version} on the same holdout`);
  if (r.htmlUri) out.push(`  report: ${r.htmlUri}`);
  if (r.buildLog && r.status === 'error') out.push(`  build log: ${r.buildLog}`);
  out.push('  nothing was deployed');
  return out;
}
