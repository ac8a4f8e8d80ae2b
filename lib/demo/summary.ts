import type { DemoContext } from './context';
import { fmtMetrics, fmtNumber, secs, table } from './output';
import type { StepTiming } from './steps';

/** Step 8's table: every release the demo started or caused, and the drift check. */
export async function summaryTable(ctx: DemoContext): Promise<{ text: string; rows: string[][] }> {
  await ctx.watcher.poll();
  const rows: string[][] = [];
  for (const r of ctx.releases) {
    const v = ctx.watcher.view(r.executionArn);
    const record = v.version ? await ctx.version(r.model, v.version) : undefined;
    const state = v.status === 'RUNNING' ? `running: ${v.phase}` : (record?.status ?? v.status);
    const metrics = record?.evaluation?.metrics ?? v.evaluation?.metrics;
    const names = Object.keys(ctx.manifests.get(r.model)?.evaluation.metrics ?? metrics ?? {}).slice(0, 2);
    const p99 = record?.loadTest?.p99Ms ?? v.loadTest?.p99Ms;
    const keyFigures =
      [fmtMetrics(metrics, names), p99 !== undefined ? `p99 ${fmtNumber(p99)} ms` : ''].filter((s) => s && s !== '-').join(', ') || '-';
    let local = ctx.files.find((f) => f.label === `${r.model} ${v.version} quality report`)?.path;
    if (!local && v.version && record?.evaluation?.htmlUri) {
      local = await ctx
        .download(
          record.evaluation.htmlUri,
          `reports/${r.model}/${v.version}/quality-report.html`,
          `${r.model} ${v.version} quality report`,
        )
        .catch(() => undefined);
    }
    const report =
      local ??
      (record?.evaluation?.htmlUri || (v.version ? `s3://${ctx.clients.bucket}/reports/${r.model}/${v.version}/quality-report.html` : '-'));
    rows.push([r.label, v.version ?? '-', String(v.input.trigger ?? r.why), state, keyFigures, report]);
  }
  if (ctx.drift) {
    rows.push([
      'delivery-time (drift check)',
      ctx.drift.run,
      'manual',
      ctx.drift.verdict,
      `${ctx.drift.drifted.length} features drifted (share ${fmtNumber(ctx.drift.driftShare)})${ctx.drift.conceptShort ? `, ${ctx.drift.conceptShort}` : ''}`,
      ctx.drift.localReport ?? '-',
    ]);
  }
  return { text: table(['MODEL', 'VERSION', 'TRIGGER', 'STATE', 'KEY FIGURES', 'REPORT'], rows), rows };
}

export function timingTable(timings: StepTiming[], totalMs: number): string {
  const rows = timings.map((t) => [String(t.n), t.title, secs(t.ms), `${t.maxStallMs} ms`, t.ok ? 'ok' : 'FAILED']);
  rows.push([
    '',
    'total',
    secs(totalMs),
    `${Math.max(0, ...timings.map((t) => t.maxStallMs))} ms`,
    timings.every((t) => t.ok) ? 'ok' : 'FAILED',
  ]);
  // The stall column: the local cloud shares this process, so its load tests measure these too.
  return table(['STEP', 'WHAT', 'TIME', 'LONGEST STALL', 'RESULT'], rows);
}
