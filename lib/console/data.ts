/**
 * Everything the console shows, read through the AWS SDK: S3 for approvals, registry,
 * reports and monitoring; Step Functions for executions and their history. Works with the
 * approver's read-only credentials on AWS and with the local cloud alike.
 */
import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  type DescribeExecutionCommandOutput,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import { listPublicApprovals, readPublicApproval, type ApprovalStatus, type PublicApproval } from './approvals';
import { buildReleaseGraph, graphFromHistory, type ReleaseGraph } from './release-graph';
import { redactTokens, TokenGuard } from './redact';
import { keyOfUri, S3Store } from './s3-store';
import type { Target } from './target';
import type { QualityReport } from '../../lambdas/ml/types';
import type { AbSectionInput } from './pages/ab';

export type Json = Record<string, unknown>;

export interface ReleaseSummary {
  executionArn: string;
  name: string;
  status: string;
  startDate?: Date;
  stopDate?: Date;
  model?: string;
  trigger?: string;
  version?: string;
  /** The error an ended release stopped with (e.g. ReleaseSuperseded). */
  error?: string;
  /** Why a release that did not succeed ended: its Fail state's Cause. */
  cause?: string;
}

export interface ModelSummary {
  name: string;
  production?: Json;
  lastRelease?: ReleaseSummary;
  drift?: { run: string; report: Json | undefined };
  pending: number;
}

export interface ReleaseView {
  execution: ReleaseSummary & { input?: unknown; output?: unknown; error?: string; cause?: string };
  graph?: ReleaseGraph;
  graphError?: string;
  approval?: PublicApproval;
  /** What the model lease says about this release: "waiting for …", "superseded by …" (lambdas/shared/lease.ts). */
  lease?: string;
  /** The reports the version's gates wrote (keys in the artifact bucket), passed or failed. */
  reports?: ReportKeys;
}

/** Where a version's gate reports are; a gate that did not run has none. */
export interface ReportKeys {
  html?: string;
  validation?: string;
  loadTest?: string;
}

export interface Reports {
  validation?: Json;
  quality?: Json;
  loadTest?: Json;
  htmlKey?: string;
  /** The shadow stage's comparison with production (reports/<model>/<version>/shadow.json), when the stage ran. */
  shadow?: Json;
  /** The A/B test after the approval: its plan (a preview before it starts), its state, its result (lib/console/pages/ab.ts). */
  ab?: AbSectionInput;
}

/** How long the models page shows a model's production record and drift run before reading them again (see ConsoleData.models). */
export const DETAILS_MAX_AGE_MS = 30_000;
/** Models a background refresh reads at once: 4 of the S3 client's 50 sockets, so the pages' own reads never queue behind it. */
const REFRESH_CONCURRENCY = 4;

export class ConsoleData {
  readonly store: S3Store;
  readonly guard: TokenGuard;
  // Finished executions never change: their description is cached.
  private readonly described = new Map<string, DescribeExecutionCommandOutput>();
  // The registry version of a finished execution that has no output to read it from (null: none).
  private readonly versionOf = new Map<string, string | null>();

  constructor(
    readonly target: Target,
    guard = new TokenGuard(),
  ) {
    this.store = new S3Store(target.s3, target.bucket);
    this.guard = guard;
  }

  get deps() {
    return { s3: this.target.s3, sfn: this.target.sfn, bucket: this.target.bucket, decider: this.target.decider };
  }

  approvals(status?: ApprovalStatus): Promise<PublicApproval[]> {
    return listPublicApprovals(this.deps, status);
  }

  approval(id: string): Promise<PublicApproval | undefined> {
    return readPublicApproval(this.deps, id);
  }

  /**
   * Model names from the registry, approvals and reports. A prefix the caller may not list
   * (an approver policy without registry/ read) is skipped and named in `notes`.
   */
  async modelNames(notes: string[] = []): Promise<string[]> {
    const prefixes = ['registry/', 'approvals/', 'reports/'];
    const results = await Promise.allSettled(prefixes.map((p) => this.store.children(p)));
    const names = new Set<string>();
    results.forEach((r, i) => {
      // reports/weekly/ holds the weekly reports (lib/console/weekly.ts), not a model's.
      if (r.status === 'fulfilled') r.value.filter((n) => !(prefixes[i] === 'reports/' && n === 'weekly')).forEach((n) => names.add(n));
      else notes.push(`cannot list s3://${this.target.bucket}/${prefixes[i]}: ${(r.reason as Error).name}: ${(r.reason as Error).message}`);
    });
    if (results.every((r) => r.status === 'rejected')) throw (results[0] as PromiseRejectedResult).reason;
    return [...names].sort();
  }

  /** Read a document the page can do without: a denied read becomes a note, not an error page. */
  private async optional<T>(read: Promise<T>, what: string, notes: string[]): Promise<T | undefined> {
    try {
      return await read;
    } catch (err) {
      notes.push(`cannot read ${what}: ${(err as Error).name}: ${(err as Error).message}`);
      return undefined;
    }
  }

  /**
   * Each model's production record and latest drift run, for the models page. They take two
   * or three S3 reads a model: with 300 models a page that read them all took seconds (issue
   * 17, bench/local-scale). So they are kept for {@link DETAILS_MAX_AGE_MS} and then refreshed
   * in the background while the page shows the kept ones (stale-while-revalidate, one refresh
   * at a time); a model seen for the first time is read at once. Model names, releases and
   * pending approvals are read on every call; the model page reads its own data fresh.
   */
  private readonly details = new Map<string, { production?: Json; drift?: ModelSummary['drift']; notes: string[]; at: number }>();
  private refreshing: Promise<void> | undefined;

  /** Read the details of `names`, `concurrency` models at a time (a background refresh must leave the S3 client's sockets to the pages). */
  private async readDetails(names: readonly string[], concurrency = names.length): Promise<void> {
    const queue = [...names];
    const worker = async () => {
      for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
        const notes: string[] = [];
        const [production, drift] = await Promise.all([
          this.optional(this.store.json<Json>(`registry/${name}/production.json`), `registry/${name}/production.json`, notes),
          this.optional(this.latestDrift(name), `monitoring/${name}/`, notes),
        ]);
        this.details.set(name, { production, drift, notes, at: Date.now() });
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, names.length)) }, worker));
  }

  async models(notes: string[] = []): Promise<ModelSummary[]> {
    // Step Functions or part of the bucket may be out of the approver's permissions: the
    // models page still shows what it can, and says what it could not read.
    const [names, releases, pending] = await Promise.all([
      this.modelNames(notes),
      this.optional(this.releases(), 'the release executions', notes),
      this.approvals('pending'),
    ]);
    const unseen = names.filter((n) => !this.details.has(n));
    if (unseen.length) await this.readDetails(unseen);
    const stale = names.filter((n) => Date.now() - this.details.get(n)!.at > DETAILS_MAX_AGE_MS);
    if (stale.length && !this.refreshing)
      this.refreshing = this.readDetails(stale, REFRESH_CONCURRENCY).finally(() => {
        this.refreshing = undefined;
      });
    const out = names.map((name) => {
      const d = this.details.get(name)!;
      return {
        name,
        production: d.production,
        lastRelease: releases?.find((r) => r.model === name),
        drift: d.drift,
        pending: pending.filter((p) => p.model === name).length,
      };
    });
    // One note per kind of denial, not one per model.
    const unique = new Set<string>();
    for (const n of names.flatMap((name) => this.details.get(name)!.notes)) {
      const kind = n
        .replace(/registry\/[^/]+\//, 'registry/')
        .replace(/monitoring\/[^/]+\//, 'monitoring/')
        .split(':')[0]!;
      if (!unique.has(kind)) {
        unique.add(kind);
        notes.push(n);
      }
    }
    return out;
  }

  async versions(model: string): Promise<Json[]> {
    const keys = (await this.store.keys(`registry/${model}/versions/`)).filter((k) => k.key.endsWith('.json'));
    const records = await Promise.all(keys.map(async (k): Promise<Json> => (await this.store.json<Json>(k.key)) ?? {}));
    return records.sort((a, b) => String(b.createdAt ?? b.version ?? '').localeCompare(String(a.createdAt ?? a.version ?? '')));
  }

  /** The registry's deployment history (one object per event: deployments, promotions, rollbacks), newest first. */
  async deploymentHistory(model: string): Promise<Json[]> {
    const keys = (await this.store.keys(`registry/${model}/deployments/`)).filter((k) => k.key.endsWith('.json'));
    const entries = await Promise.all(keys.map(async (k): Promise<Json> => (await this.store.json<Json>(k.key)) ?? {}));
    return entries.sort((a, b) => String(b.at ?? '').localeCompare(String(a.at ?? '')));
  }

  async production(model: string): Promise<Json | undefined> {
    return this.store.json<Json>(`registry/${model}/production.json`);
  }

  /** The model's pull-request checks (lib/check records, `checks/<model>/<checkId>.json`), newest first. */
  async checks(model: string, max = 20): Promise<Json[]> {
    const keys = (await this.store.keys(`checks/${model}/`)).filter((k) => /^checks\/[^/]+\/[^/]+\.json$/.test(k.key));
    const newest = keys.sort((a, b) => b.key.localeCompare(a.key)).slice(0, max);
    return Promise.all(newest.map(async (k): Promise<Json> => (await this.store.json<Json>(k.key)) ?? {}));
  }

  async driftRuns(model: string): Promise<string[]> {
    return (await this.store.children(`monitoring/${model}/`)).sort().reverse();
  }

  async latestDrift(model: string): Promise<ModelSummary['drift']> {
    const [run] = await this.driftRuns(model);
    if (!run) return undefined;
    return { run, report: await this.store.json<Json>(`monitoring/${model}/${run}/drift-report.json`) };
  }

  async driftRun(model: string, run: string): Promise<{ report?: Json; violations?: Json; hasHtml: boolean; keys: string[] }> {
    const keys = (await this.store.keys(`monitoring/${model}/${run}/`)).map((k) => k.key);
    return {
      report: await this.store.json<Json>(`monitoring/${model}/${run}/drift-report.json`),
      violations: await this.store.json<Json>(`monitoring/${model}/${run}/constraint_violations.json`),
      hasHtml: keys.includes(`monitoring/${model}/${run}/drift-report.html`),
      keys,
    };
  }

  /** The reports of a version, following the approval's links when given. */
  async reports(model: string, version: string, links: Partial<PublicApproval['reportLinks']> = {}): Promise<Reports> {
    const base = `reports/${model}/${version}/`;
    const key = (uri: string | undefined, file: string) => keyOfUri(uri, this.target.bucket) ?? base + file;
    const htmlKey = key(links.html, 'quality-report.html');
    const [validation, quality, loadTest, html, shadow] = await Promise.all([
      this.store.json<Json>(key(links.validation, 'validation.json')),
      this.store.json<Json>(key(links.json, 'quality-report.json')),
      this.store.json<Json>(key(links.loadTest, 'load-test.json')),
      this.store.keys(htmlKey),
      this.store.json<Json>(base + 'shadow.json'),
    ]);
    return {
      validation,
      quality,
      loadTest,
      htmlKey: html.some((k) => k.key === htmlKey) ? htmlKey : undefined,
      shadow,
      ab: await this.abTest(model, version, quality),
    };
  }

  /**
   * The A/B section's input, from reports/ alone (the approver's policy reads no registry/): the
   * plan EvaluateModel wrote into the quality report, which StartAbTest runs, and ab.json's result.
   */
  private async abTest(model: string, version: string, quality: Json | undefined): Promise<AbSectionInput> {
    const ab = (quality as { ab?: QualityReport['ab'] } | undefined)?.ab;
    if (!ab) return {};
    const result = await this.store.json<NonNullable<AbSectionInput['result']>>(`reports/${model}/${version}/ab.json`);
    return {
      plan: ab.plan ?? ab.reason ?? undefined,
      trafficPercent: ab.trafficPercent,
      maxDuration: ab.maxDuration,
      onTimeout: ab.onTimeout,
      result,
    };
  }

  /**
   * The gate reports a version has: a failed gate's report matters most, since it says why
   * the release stopped, and a failed release has no approval request linking to it.
   */
  async reportKeys(model: string, version: string): Promise<ReportKeys> {
    const base = `reports/${model}/${version}/`;
    const present = new Set((await this.store.keys(base)).map((k) => k.key));
    const has = (file: string) => (present.has(base + file) ? base + file : undefined);
    return { html: has('quality-report.html'), validation: has('validation.json'), loadTest: has('load-test.json') };
  }

  /** Recent release executions, newest first, with the model read from each input. */
  async releases(max = 50): Promise<ReleaseSummary[]> {
    const arn = await this.target.releaseStateMachineArn();
    if (!arn) return [];
    const page = await this.target.sfn.send(new ListExecutionsCommand({ stateMachineArn: arn, maxResults: max }));
    const items = page.executions ?? [];
    return Promise.all(
      items.map(async (e) => {
        const d = await this.describe(e.executionArn!);
        const input = parseJson(d.input) as Json | undefined;
        const out = parseJson(d.output) as Json | undefined;
        const prep = (out?.PrepareReleaseResult ?? undefined) as Json | undefined;
        return {
          executionArn: e.executionArn!,
          name: e.name ?? '',
          status: d.status ?? e.status ?? 'UNKNOWN',
          startDate: e.startDate,
          stopDate: d.stopDate ?? e.stopDate,
          model: typeof input?.model === 'string' ? input.model : undefined,
          trigger: typeof input?.trigger === 'string' ? input.trigger : undefined,
          version: typeof prep?.version === 'string' ? prep.version : undefined,
          error: d.error,
          cause: d.cause || undefined,
        };
      }),
    ).then(async (list) => {
      // A release that did not succeed has no output to read its version from: the registry
      // record of each version names the execution that made it. A finished execution's
      // answer is kept (it cannot change), and the models are read at once: with hundreds of
      // models, one listing after another made every models page wait (issue 17).
      for (const r of list)
        if (!r.version && this.versionOf.has(r.executionArn)) r.version = this.versionOf.get(r.executionArn) ?? undefined;
      const unknown = list.filter((r) => !r.version && r.model && !this.versionOf.has(r.executionArn));
      const byArn = new Map<string, string>();
      await Promise.all(
        [...new Set(unknown.map((r) => r.model!))].map(async (m) => {
          for (const v of await this.versions(m).catch(() => [])) {
            const arn = (v.execution as Json | undefined)?.arn;
            if (typeof arn === 'string' && typeof v.version === 'string') byArn.set(arn, v.version);
          }
        }),
      );
      for (const r of unknown) {
        r.version = byArn.get(r.executionArn);
        if (r.status !== 'RUNNING') this.versionOf.set(r.executionArn, r.version ?? null);
      }
      return list.sort((a, b) => (b.startDate?.getTime() ?? 0) - (a.startDate?.getTime() ?? 0));
    });
  }

  private async describe(executionArn: string): Promise<DescribeExecutionCommandOutput> {
    const cached = this.described.get(executionArn);
    if (cached) return cached;
    const d = await this.target.sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (d.status && d.status !== 'RUNNING') this.described.set(executionArn, d);
    return d;
  }

  /** A short fingerprint of what a page shows, for the polling script: changes when the release moves. */
  async watch(executionArn?: string, approvalId?: string): Promise<string> {
    const parts: string[] = [];
    if (executionArn) {
      const d = await this.describe(executionArn);
      parts.push(d.status ?? '');
      if (d.status === 'RUNNING') {
        const h = await this.target.sfn.send(new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 1 }));
        parts.push(String(h.events?.[0]?.id ?? ''));
      }
    }
    if (approvalId) parts.push((await this.approval(approvalId))?.status ?? 'missing');
    return parts.join('|');
  }

  async release(executionArn: string): Promise<ReleaseView> {
    const d = await this.describe(executionArn);
    const approvalId = await this.approvalIdFor(d);
    const approval = approvalId ? await this.approval(approvalId).catch(() => undefined) : undefined;
    const input = parseJson(d.input) as Json | undefined;
    const execution: ReleaseView['execution'] = {
      executionArn,
      name: d.name ?? executionArn.split(':').at(-1)!,
      status: d.status ?? 'UNKNOWN',
      startDate: d.startDate,
      stopDate: d.stopDate,
      model: typeof input?.model === 'string' ? input.model : undefined,
      trigger: typeof input?.trigger === 'string' ? input.trigger : undefined,
      input: redactTokens(input, this.guard.known),
      output: redactTokens(parseJson(d.output), this.guard.known),
      error: d.error,
      cause: d.cause,
    };
    try {
      const events = await this.history(executionArn);
      let graph: ReleaseGraph;
      let graphNote: string | undefined;
      try {
        const sm = await this.target.sfn.send(new DescribeStateMachineCommand({ stateMachineArn: d.stateMachineArn! }));
        graph = buildReleaseGraph(sm.definition ?? '{}', events, execution.status);
      } catch (err) {
        graph = graphFromHistory(events, execution.status);
        graphNote = `Only the states this release entered are shown: the state machine definition is unavailable (${(err as Error).name}: ${(err as Error).message}).`;
      }
      for (const s of graph.states)
        for (const v of s.visits) {
          v.input = v.input === undefined ? undefined : (redactTokens(v.input, this.guard.known) as string);
          v.output = v.output === undefined ? undefined : (redactTokens(v.output, this.guard.known) as string);
          if (v.error?.cause) v.error.cause = redactTokens(v.error.cause, this.guard.known) as string;
        }
      const version = graph.states.flatMap((s) => s.visits).map((v) => parseJson(v.output) as Json | undefined);
      const prep = version.find((o) => o && typeof (o.PrepareReleaseResult as Json | undefined)?.version === 'string');
      if (prep) execution.version = String((prep.PrepareReleaseResult as Json).version);
      const reports =
        execution.model && execution.version ? await this.reportKeys(execution.model, execution.version).catch(() => undefined) : undefined;
      return { execution, graph, approval, graphError: graphNote, reports, lease: leaseNote(execution, graph) };
    } catch (err) {
      return { execution, approval, graphError: (err as Error).message };
    }
  }

  private async history(executionArn: string): Promise<HistoryEvent[]> {
    const events: HistoryEvent[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.target.sfn.send(new GetExecutionHistoryCommand({ executionArn, nextToken, maxResults: 1000 }));
      events.push(...(page.events ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    return events;
  }

  private async approvalIdFor(d: DescribeExecutionCommandOutput): Promise<string | undefined> {
    const input = parseJson(d.input) as Json | undefined;
    if (typeof input?.model !== 'string' || !d.name) return undefined;
    return `${input.model}/${d.name}`;
  }
}

/**
 * The model lease's word on a release, when it matters to a reader: while it waits for
 * another release, and when another release took its place.
 */
function leaseNote(execution: ReleaseView['execution'], graph: ReleaseGraph): string | undefined {
  if (execution.error === 'ReleaseSuperseded' && execution.status === 'ABORTED') return execution.cause;
  const waiting = execution.status === 'RUNNING' && (graph.currentState === 'WaitForLease' || graph.currentState === 'AcquireLease');
  if (!waiting && execution.error !== 'ReleaseSuperseded') return undefined;
  for (const [state, key] of [
    ['ClaimProduction', 'ClaimProductionResult'],
    ['AcquireLease', 'AcquireLeaseResult'],
  ] as const) {
    const last = graph.states.find((s) => s.name === state)?.visits.findLast((v) => v.output !== undefined);
    const result = (parseJson(last?.output) as Json | undefined)?.[key] as { status?: string; detail?: string } | undefined;
    if (result?.detail && (result.status === 'superseded' || result.status === 'waiting')) return result.detail;
  }
  return undefined;
}

export function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
