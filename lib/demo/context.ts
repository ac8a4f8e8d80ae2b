import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ProductionPointer, VersionRecord } from '../../lambdas/shared/registry';
import type { ModelManifest } from '../config';
import { DemoClients, keyOf } from './clients';
import type { Narrator } from './output';
import { ReleaseWatcher, type ReleaseView } from './releases';
import type { DemoRepo } from './repo';
import { DemoCheckError, waitFor } from './steps';

/** Everything the steps share: clients, the watcher, where files go, and what happened so far. */
export class DemoContext {
  readonly watcher: ReleaseWatcher;
  repo?: DemoRepo;
  manifests = new Map<string, ModelManifest>();
  /** Production version per model before the first push (null: none), to show "unchanged". */
  productionBefore = new Map<string, string | null>();
  /** Release executions the demo started or caused, in order, with why. */
  releases: { executionArn: string; model: string; why: string; label: string }[] = [];
  /** Files the demo downloaded for people to open, by label. */
  files: { label: string; path: string }[] = [];
  drift?: {
    run: string;
    verdict: string;
    driftShare: number;
    drifted: string[];
    concept: string;
    conceptShort: string;
    localReport?: string;
    retrainingArn?: string;
  };
  /** Live traffic for the retraining release's shadow stage (scenario-shadow.ts), from the drift step to the second push. */
  shadowFeed?: { stop(): Promise<{ sent: number; ok: number; errors: string[] }> };

  constructor(
    readonly clients: DemoClients,
    readonly out: Narrator,
    readonly dataDir: string,
    readonly opts: {
      consoleUrl?: string;
      gitDir: string;
      timeScale?: number;
      reused?: boolean;
      signal?: AbortSignal;
      flushCapture?: () => Promise<void>;
    },
  ) {
    this.watcher = new ReleaseWatcher(clients.sfn, out, (model) => {
      const m = this.manifests.get(model);
      return m ? Object.keys(m.evaluation.metrics) : undefined;
    });
  }

  get signal(): AbortSignal | undefined {
    return this.opts.signal;
  }

  /** Follow a release; `label` names it in the narration. @default the model */
  follow(executionArn: string, model: string, why: string, label = model): void {
    this.releases.push({ executionArn, model, why, label });
    this.watcher.follow(executionArn, label);
  }

  releasesOf(why: string): { executionArn: string; model: string; why: string; label: string }[] {
    return this.releases.filter((r) => r.why === why);
  }

  /**
   * Poll the followed releases until `done` holds for every one of `arns`. A release that
   * ends before that fails the step at once, naming where it stopped.
   */
  async waitReleases(
    arns: string[],
    what: string,
    expected: string,
    done: (v: ReleaseView) => boolean,
    timeoutMs: number,
    also?: () => Promise<void>,
    intervalMs = 1000,
  ): Promise<ReleaseView[]> {
    return waitFor({
      what,
      expected,
      timeoutMs,
      intervalMs,
      signal: this.signal,
      probe: async () => {
        await this.watcher.poll();
        await also?.();
        const views = arns.map((a) => this.watcher.view(a));
        const found = views
          .map(
            (v) =>
              `${v.label} ${v.status === 'RUNNING' ? `in ${v.phase}` : `${v.status}${v.error ? ` ${v.error}` : ''} (last phase ${v.phases.at(-2) ?? v.phase})`}`,
          )
          .join('; ');
        const ended = views.find((v) => v.status !== 'RUNNING' && !done(v));
        if (ended) throw new DemoCheckError(what, expected, found);
        return { value: views.every(done) ? views : undefined, found };
      },
    });
  }

  async production(model: string): Promise<ProductionPointer | undefined> {
    return this.clients.getJson<ProductionPointer>(`registry/${model}/production.json`);
  }

  async version(model: string, version: string): Promise<VersionRecord | undefined> {
    return this.clients.getJson<VersionRecord>(`registry/${model}/versions/${version}.json`);
  }

  /** Copy an s3:// object of the artifact bucket to `<dataDir>/demo/<relPath>`; returns the local path. */
  async download(uri: string, relPath: string, label: string): Promise<string> {
    const text = await this.clients.getText(keyOf(uri));
    if (text === undefined) throw new DemoCheckError(`download ${label}`, `${uri} to exist`, 'no such object');
    const path = join(this.dataDir, 'demo', relPath);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    this.files.push({ label, path });
    return path;
  }
}
