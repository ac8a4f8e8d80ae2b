import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeJsonAtomic } from '../../core/fsutil';
import { epochSeconds } from '../../core/service';

export type BuildStatus = 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED' | 'FAULT' | 'STOPPED' | 'TIMED_OUT';
export type PhaseType =
  | 'SUBMITTED'
  | 'QUEUED'
  | 'PROVISIONING'
  | 'DOWNLOAD_SOURCE'
  | 'INSTALL'
  | 'PRE_BUILD'
  | 'BUILD'
  | 'POST_BUILD'
  | 'UPLOAD_ARTIFACTS'
  | 'FINALIZING'
  | 'COMPLETED';

export interface BuildPhase {
  phaseType: PhaseType;
  phaseStatus?: BuildStatus;
  startTime: number;
  endTime?: number;
  durationInSeconds?: number;
  contexts?: { statusCode: string; message: string }[];
}

/** A build in CodeBuild's `Build` shape (timestamps in epoch seconds, as the JSON protocol sends them). */
export interface BuildRecord {
  id: string;
  arn: string;
  buildNumber: number;
  projectName: string;
  buildStatus: BuildStatus;
  currentPhase: PhaseType;
  buildComplete: boolean;
  startTime: number;
  endTime?: number;
  sourceVersion?: string;
  resolvedSourceVersion?: string;
  initiator: string;
  source: { type: 'S3'; location: string; buildspec: string };
  environment: {
    type: 'LINUX_CONTAINER';
    image: string;
    computeType: string;
    environmentVariables: { name: string; value: string; type: 'PLAINTEXT' }[];
  };
  timeoutInMinutes: number;
  phases: BuildPhase[];
  logs: { groupName: string; streamName: string; deepLink: string };
  artifacts?: { location: string; sha256sum?: string; md5sum?: string };
  exportedEnvironmentVariables?: { name: string; value: string }[];
}

/**
 * Builds journaled one JSON per build, `<root>/<project>/<uuid>.json`, so BatchGetBuilds
 * answers after a restart. Kept in memory too: a laptop has hundreds of builds, not millions.
 */
export class BuildJournal {
  private readonly builds = new Map<string, BuildRecord>();

  constructor(private readonly root: string) {
    mkdirSync(root, { recursive: true });
    for (const project of readdirSync(root, { withFileTypes: true })) {
      if (!project.isDirectory()) continue;
      for (const file of readdirSync(join(root, project.name)).filter((f) => f.endsWith('.json'))) {
        const rec = JSON.parse(readFileSync(join(root, project.name, file), 'utf8')) as BuildRecord;
        this.builds.set(rec.id, rec);
      }
    }
  }

  get(id: string): BuildRecord | undefined {
    return this.builds.get(id);
  }

  all(): BuildRecord[] {
    return [...this.builds.values()];
  }

  nextBuildNumber(project: string): number {
    return this.forProject(project).reduce((n, b) => Math.max(n, b.buildNumber), 0) + 1;
  }

  forProject(project: string): BuildRecord[] {
    return this.all().filter((b) => b.projectName === project);
  }

  save(rec: BuildRecord): void {
    this.builds.set(rec.id, rec);
    const dir = join(this.root, rec.projectName);
    if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
    writeJsonAtomic(join(dir, `${rec.id.split(':').at(-1)}.json`), rec);
  }
}

/** Open a phase on the record (closing the current one if still open). */
export function enterPhase(rec: BuildRecord, phaseType: PhaseType): BuildPhase {
  const now = epochSeconds();
  const phase: BuildPhase = { phaseType, startTime: now };
  rec.phases.push(phase);
  rec.currentPhase = phaseType;
  return phase;
}

/** Close a phase with its status and optional context message. */
export function closePhase(phase: BuildPhase, status: BuildStatus, context?: { statusCode: string; message: string }): void {
  phase.endTime = epochSeconds();
  phase.durationInSeconds = Math.max(0, Math.round(phase.endTime - phase.startTime));
  phase.phaseStatus = status;
  if (context) phase.contexts = [context];
  else phase.contexts = [{ statusCode: '', message: '' }];
}
