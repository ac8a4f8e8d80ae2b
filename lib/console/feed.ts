/**
 * The notifications feed and the drift verdict shown on the models page.
 */
import type { ConsoleData, Json } from './data';
import { weeklyReportDates } from './weekly';

export interface FeedItem {
  at: string;
  kind: 'approval' | 'decision' | 'release' | 'drift' | 'report';
  text: string;
  href: string;
}

/**
 * The notifications feed, derived from the records themselves so it reads the same on AWS
 * (where notifications go to SNS, which the console cannot read back) and locally.
 */
export async function buildFeed(data: ConsoleData, limit = 100): Promise<FeedItem[]> {
  const [approvals, releases, models] = await Promise.all([data.approvals(), data.releases().catch(() => []), data.modelNames()]);
  const items: FeedItem[] = [];
  for (const a of approvals) {
    const href = `/approvals/${a.id}`;
    if (a.requestedAt) items.push({ at: a.requestedAt, kind: 'approval', text: `${a.model} ${a.version}: approval requested`, href });
    if (a.decision?.at)
      items.push({
        at: a.decision.at,
        kind: 'decision',
        text: `${a.model} ${a.version}: ${a.status} by ${a.decision.by ?? 'unknown'}${a.decision.comment ? ` — “${a.decision.comment}”` : ''}`,
        href,
      });
  }
  for (const r of releases) {
    const href = `/releases?arn=${encodeURIComponent(r.executionArn)}`;
    if (r.startDate)
      items.push({
        at: r.startDate.toISOString(),
        kind: 'release',
        text: `${r.model ?? '?'}: release ${r.name} started (${r.trigger ?? 'push'})`,
        href,
      });
    // A stopped superseded release carries "superseded by <release>" as its cause.
    const ended =
      r.error === 'ReleaseSuperseded'
        ? r.status === 'ABORTED' && r.cause
          ? r.cause
          : 'superseded'
        : `${r.status.toLowerCase()}${r.cause ? ` — ${r.cause}` : ''}`;
    if (r.stopDate)
      items.push({ at: r.stopDate.toISOString(), kind: 'release', text: `${r.model ?? '?'}: release ${r.name} ${ended}`, href });
  }
  for (const m of models) {
    const d = await data.latestDrift(m).catch(() => undefined);
    if (d) {
      const verdict = driftVerdict(d.report);
      items.push({
        at: String(d.report?.generatedAt ?? d.report?.createdAt ?? d.run),
        kind: 'drift',
        text: `${m}: drift check ${d.run} — ${verdict}`,
        href: `/models/${m}/drift/${d.run}`,
      });
    }
  }
  // The weekly reports, as SNS delivers them on AWS (the stored report is what the page shows).
  for (const date of await weeklyReportDates(data.store).catch(() => [])) {
    items.push({ at: `${date}T23:59:59.999Z`, kind: 'report', text: `weekly report, week ending ${date}`, href: `/weekly/${date}` });
  }
  return items.sort((a, b) => b.at.localeCompare(a.at)).slice(0, limit);
}

/** A one-word drift verdict from a drift report of whatever shape it has. */
export function driftVerdict(report: Json | undefined): string {
  if (!report) return 'no report';
  const r = report as Record<string, unknown>;
  const dataset = (r.datasetDrift ?? r.dataDrift ?? r.drift) as unknown;
  const concept = r.conceptDrift as unknown;
  const flag = (v: unknown): boolean | undefined =>
    typeof v === 'boolean' ? v : v && typeof v === 'object' && 'drifted' in v ? Boolean((v as Json).drifted) : undefined;
  if (r.verdict && typeof r.verdict === 'string') return r.verdict;
  if (r.status && typeof r.status === 'string') return r.status;
  const d = flag(dataset);
  const c = flag(concept);
  if (d === undefined && c === undefined) return typeof r.drifted === 'boolean' ? (r.drifted ? 'drift' : 'no drift') : 'see report';
  if (d || c) return [d ? 'data drift' : '', c ? 'concept drift' : ''].filter(Boolean).join(' + ');
  return 'no drift';
}
