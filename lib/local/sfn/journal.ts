import { createWriteStream, mkdirSync, readdirSync, type WriteStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { readJsonIfExists, readJsonLines, writeFileAtomic, writeJsonAtomic, writeJsonAtomicAsync } from '../fsutil';

const writeJsonLinesEmpty = (path: string): void => writeFileAtomic(path, '');
import type { HistoryEvent } from './history';

/**
 * The Step Functions journal in the data dir:
 *
 *   sfn/state-machines/<name>.json                    state machines created with CreateStateMachine
 *   sfn/executions/<state machine>/<execution>.json   the execution record, replaced atomically
 *   sfn/executions/<state machine>/<execution>.jsonl  its history, append-only
 *
 * The record is replaced atomically (temp + rename) when an execution starts, ends or is
 * redriven, so a `kill -9` never loses a finished execution; history lines are appended as
 * they happen and a torn last line is skipped on load. Against power loss, a final record is
 * also appended to `sfn/completed.jsonl`, which is fsynced once per batch of executions that
 * end together (group commit: one fsync instead of one per execution), and applied over the
 * per-execution files at the next start.
 */

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE';

export interface ExecutionRecord {
  executionArn: string;
  stateMachineArn: string;
  stateMachineName: string;
  name: string;
  status: ExecutionStatus;
  /** Epoch milliseconds. */
  startDate: number;
  stopDate?: number;
  input: string;
  output?: string;
  error?: string;
  cause?: string;
  redriveCount: number;
  redriveDate?: number;
}

export interface StoredStateMachine {
  name: string;
  arn: string;
  definition: string;
  roleArn: string;
  creationDate: number;
}

/** Appends lines to one file and fsyncs once per batch of appends that arrive together. */
class GroupCommitLog {
  private handle?: Promise<FileHandle>;
  private pending: Array<{ line: string; resolve(): void; reject(err: unknown): void }> = [];
  private flushing = false;

  constructor(private readonly path: string) {}

  append(line: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ line, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    while (this.pending.length) {
      const batch = this.pending.splice(0);
      try {
        this.handle ??= open(this.path, 'a');
        const fh = await this.handle;
        await fh.appendFile(batch.map((b) => b.line).join(''));
        await fh.datasync();
        batch.forEach((b) => b.resolve());
      } catch (err) {
        batch.forEach((b) => b.reject(err));
      }
    }
    this.flushing = false;
  }

  async close(): Promise<void> {
    while (this.flushing || this.pending.length) await new Promise((r) => setTimeout(r, 5));
    const fh = this.handle;
    this.handle = undefined;
    await (await fh)?.close();
  }
}

export class Journal {
  private readonly executionsDir: string;
  private readonly machinesDir: string;
  private readonly completedPath: string;
  private readonly completed: GroupCommitLog;

  constructor(dataDir: string) {
    this.executionsDir = join(dataDir, 'sfn', 'executions');
    this.machinesDir = join(dataDir, 'sfn', 'state-machines');
    this.completedPath = join(dataDir, 'sfn', 'completed.jsonl');
    mkdirSync(this.executionsDir, { recursive: true });
    mkdirSync(this.machinesDir, { recursive: true });
    this.completed = new GroupCommitLog(this.completedPath);
  }

  /** Make a final record durable against power loss (group-committed fsync). */
  logCompleted(record: ExecutionRecord): Promise<void> {
    return this.completed.append(`${JSON.stringify(record)}\n`);
  }

  async close(): Promise<void> {
    await this.completed.close();
  }

  private recordPath(sm: string, name: string): string {
    return join(this.executionsDir, sm, `${name}.json`);
  }

  private historyPath(sm: string, name: string): string {
    return join(this.executionsDir, sm, `${name}.jsonl`);
  }

  saveRecord(record: ExecutionRecord): void {
    writeJsonAtomic(this.recordPath(record.stateMachineName, record.name), record);
  }

  /** Write a snapshot of the record without blocking the event loop. */
  saveRecordAsync(record: ExecutionRecord): Promise<void> {
    return writeJsonAtomicAsync(this.recordPath(record.stateMachineName, record.name), record);
  }

  /** An append stream for an execution's history. */
  openHistory(record: ExecutionRecord): WriteStream {
    mkdirSync(join(this.executionsDir, record.stateMachineName), { recursive: true });
    return createWriteStream(this.historyPath(record.stateMachineName, record.name), { flags: 'a' });
  }

  loadHistory(record: ExecutionRecord): HistoryEvent[] {
    return readJsonLines<HistoryEvent>(this.historyPath(record.stateMachineName, record.name));
  }

  /**
   * Every execution record. Final records of the group-commit log win over an older file (a
   * power cut between the two writes); the log is then folded into the files and emptied.
   */
  loadRecords(): ExecutionRecord[] {
    const byArn = new Map<string, ExecutionRecord>();
    for (const sm of readdirSync(this.executionsDir)) {
      for (const file of readdirSync(join(this.executionsDir, sm))) {
        if (!file.endsWith('.json')) continue;
        const rec = readJsonIfExists<ExecutionRecord>(join(this.executionsDir, sm, file));
        if (rec) byArn.set(rec.executionArn, rec);
      }
    }
    for (const logged of readJsonLines<ExecutionRecord>(this.completedPath)) {
      const file = byArn.get(logged.executionArn);
      const newer = !file || logged.redriveCount > file.redriveCount || (logged.redriveCount === file.redriveCount && file.status === 'RUNNING');
      if (newer) {
        byArn.set(logged.executionArn, logged);
        this.saveRecord(logged);
      }
    }
    writeJsonLinesEmpty(this.completedPath);
    return [...byArn.values()];
  }

  saveStateMachine(sm: StoredStateMachine): void {
    writeJsonAtomic(join(this.machinesDir, `${sm.name}.json`), sm);
  }

  loadStateMachines(): StoredStateMachine[] {
    return readdirSync(this.machinesDir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => readJsonIfExists<StoredStateMachine>(join(this.machinesDir, f))!)
      .filter(Boolean);
  }
}
