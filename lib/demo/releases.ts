import { DescribeExecutionCommand, GetExecutionHistoryCommand, type HistoryEvent, type SFNClient } from '@aws-sdk/client-sfn';
import { fmtMetrics, fmtNumber, secs, type Narrator } from './output';

/**
 * Follows release executions through the Step Functions API (DescribeExecution +
 * GetExecutionHistory against the cloud's endpoint) and narrates each phase change as it
 * happens. Polling loops of the workflow (Wait -> Check -> Choice) are one phase, so a build
 * that is polled twenty times is one line.
 */

/** The phase a state of release.asl.json belongs to. */
const PHASES: Record<string, string> = {
  PrepareRelease: 'prepare',
  // Takes a stopped release's shadow off production before this one builds.
  ClearLeftoverExperiment: 'prepare',
  BuildImage: 'build',
  WaitForBuild: 'build',
  CheckBuild: 'build',
  IsBuildDone: 'build',
  DeployStaging: 'deploy staging',
  WaitForStaging: 'deploy staging',
  CheckStaging: 'deploy staging',
  IsStagingReady: 'deploy staging',
  EvaluateModel: 'evaluate',
  QualityGate: 'evaluate',
  LoadTest: 'load test',
  LoadTestGate: 'load test',
  // The candidate as a shadow of production on live traffic (experiment.shadow); skipped without it.
  StartShadowTest: 'shadow test',
  IsShadowTestRunning: 'shadow test',
  WaitForShadowTraffic: 'shadow test',
  CheckShadowTest: 'shadow test',
  IsShadowTestDone: 'shadow test',
  RequestApproval: 'awaiting approval',
  // After the approval, the candidate on a share of production's traffic (experiment.ab); skipped without it.
  StartAbTest: 'a/b test',
  IsAbTestRunning: 'a/b test',
  WaitForAbTraffic: 'a/b test',
  CheckAbTest: 'a/b test',
  IsAbTestDone: 'a/b test',
  DeployProduction: 'deploy production',
  WaitForProduction: 'deploy production',
  CheckProduction: 'deploy production',
  IsProductionReady: 'deploy production',
  PromoteVersion: 'promote',
  // Pruning is part of promoting, and of recording a rollback: no phase of its own to narrate.
  PruneVersions: 'promote',
  PruneRolledBackVersion: 'record outcome',
  NotifySuccess: 'notify',
  DeleteStagingEndpoint: 'delete staging',
  RouteEnding: 'delete staging',
  // Taking a leftover shadow variant off production is part of the same cleanup.
  ReachedShadowStage: 'delete staging',
  RemoveShadowVariant: 'delete staging',
  ReachedAbStage: 'delete staging',
  RemoveAbVariant: 'delete staging',
};

/** Mark<Ending> states (which end a release is on its way to) belong to the staging cleanup they lead to. */
export const phaseOf = (state: string): string =>
  PHASES[state] ?? (state.startsWith('Record') ? 'record outcome' : state.startsWith('Mark') ? 'delete staging' : state);

export interface ReleaseView {
  executionArn: string;
  label: string;
  status: string;
  phase: string;
  /** The release's version once PrepareRelease has run. */
  version?: string;
  /** Parsed outputs of the tasks the demo talks about. */
  evaluation?: { validationOk: boolean; metrics: Record<string, number>; failures: string[]; reportUri: string };
  loadTest?: { ok: boolean; p99Ms: number; errorRate: number; achievedRps: number; reportUri: string };
  error?: string;
  cause?: string;
  input: Record<string, unknown>;
  /** Phases seen, in order. */
  phases: string[];
}

const parse = (s: string | undefined): Record<string, unknown> => {
  try {
    return s ? (JSON.parse(s) as Record<string, unknown>) : {};
  } catch {
    return {};
  }
};

export class ReleaseWatcher {
  private readonly views = new Map<string, ReleaseView & { seen: number; startedAt: number }>();

  constructor(
    private readonly sfn: SFNClient,
    private readonly out: Narrator,
    private readonly metricsOf?: (model: string) => string[] | undefined,
  ) {}

  /** Follow an execution from now on; `label` names it in the narration (e.g. the model). */
  follow(executionArn: string, label: string): void {
    if (this.views.has(executionArn)) return;
    this.views.set(executionArn, {
      executionArn,
      label,
      status: 'RUNNING',
      phase: 'starting',
      input: {},
      phases: [],
      seen: 0,
      startedAt: Date.now(),
    });
  }

  view(executionArn: string): ReleaseView {
    const v = this.views.get(executionArn);
    if (!v) throw new Error(`not following ${executionArn}`);
    return v;
  }

  /** The metrics the model's manifest gates on: the ones worth a line. */
  private gateMetrics(v: ReleaseView): string[] | undefined {
    return this.metricsOf?.(String(v.input.model ?? ''));
  }

  /** Read new history of every followed execution that is still running and narrate it. */
  async poll(): Promise<void> {
    for (const v of this.views.values()) {
      if (v.status !== 'RUNNING') continue;
      await this.pollOne(v);
    }
  }

  private async pollOne(v: ReleaseView & { seen: number; startedAt: number }): Promise<void> {
    const d = await this.sfn.send(new DescribeExecutionCommand({ executionArn: v.executionArn }));
    if (d.startDate) v.startedAt = d.startDate.getTime();
    v.input = parse(d.input);
    // Newest first, only until the last event already seen: the narration runs in the same
    // process as the local cloud, so re-reading a long history every poll would cost it CPU.
    const fresh: HistoryEvent[] = [];
    let nextToken: string | undefined;
    page: do {
      const out = await this.sfn.send(
        new GetExecutionHistoryCommand({ executionArn: v.executionArn, reverseOrder: true, maxResults: 100, nextToken }),
      );
      for (const e of out.events ?? []) {
        if ((e.id ?? 0) <= v.seen) break page;
        fresh.push(e);
      }
      nextToken = out.nextToken;
    } while (nextToken);
    fresh.sort((a, b) => (a.id ?? 0) - (b.id ?? 0));
    for (const e of fresh) {
      this.onEvent(v, e);
      v.seen = Math.max(v.seen, e.id ?? 0);
    }
    if (d.status && d.status !== 'RUNNING' && v.status === 'RUNNING') {
      v.status = d.status;
      v.error = d.error;
      v.cause = d.cause;
      const why = d.error ? ` (${d.error}${d.cause ? `: ${d.cause.slice(0, 200)}` : ''})` : '';
      this.out.say(`  ${v.label}: execution ${d.status}${why} after ${secs((d.stopDate?.getTime() ?? Date.now()) - v.startedAt)}`);
    }
  }

  private onEvent(v: ReleaseView & { startedAt: number }, e: HistoryEvent): void {
    const since = () => secs((e.timestamp?.getTime() ?? Date.now()) - v.startedAt);
    const entered = e.stateEnteredEventDetails;
    if (entered?.name && e.type?.endsWith('StateEntered')) {
      const phase = phaseOf(entered.name);
      if (phase !== v.phase) {
        v.phase = phase;
        v.phases.push(phase);
        this.out.say(`  ${v.label}: ${phase} (+${since()})`);
      }
      return;
    }
    const exited = e.stateExitedEventDetails;
    if (!exited?.name || !e.type?.endsWith('StateExited')) return;
    const output = parse(exited.output);
    if (exited.name === 'PrepareRelease') {
      const r = output.PrepareReleaseResult as { version?: string } | undefined;
      if (r?.version) {
        v.version = r.version;
        this.out.say(
          `  ${v.label}: version ${r.version} (commit ${String(v.input.commitId ?? '').slice(0, 12)}, trigger ${String(v.input.trigger ?? '?')})`,
        );
      }
    } else if (exited.name === 'EvaluateModel') {
      const r = output.EvaluateModelResult as ReleaseView['evaluation'];
      if (r) {
        v.evaluation = r;
        this.out.say(
          `  ${v.label}: evaluated on the holdout through staging: ${fmtMetrics(r.metrics, this.gateMetrics(v))}; gate ${r.validationOk ? 'passed' : `FAILED (${r.failures.join('; ')})`}`,
        );
      }
    } else if (exited.name === 'LoadTest') {
      const r = output.LoadTestResult as ReleaseView['loadTest'];
      if (r) {
        v.loadTest = r;
        this.out.say(
          `  ${v.label}: load test ${fmtNumber(r.achievedRps)} rps, p99 ${fmtNumber(r.p99Ms)} ms, errors ${fmtNumber(r.errorRate * 100)} %: ${r.ok ? 'passed' : 'FAILED'}`,
        );
      }
    } else if (exited.name === 'DeployProduction') {
      const r = output.DeployProductionResult as { endpointName?: string; action?: string } | undefined;
      if (r) this.out.say(`  ${v.label}: production endpoint ${r.endpointName} ${r.action ?? ''}`.trimEnd());
    }
  }
}
