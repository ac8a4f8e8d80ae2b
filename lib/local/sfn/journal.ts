import { appendFileSync, createWriteStream, mkdirSync, readFileSync, readdirSync, statSync, truncateSync, type WriteStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { executionArn as makeExecutionArn, stateMachineArn as makeStateMachineArn } from '../constants';
import { readJsonIfExists, readJsonLines, writeFileAtomic, writeJsonAtomic, writeJsonAtomicAsync } from '../fsutil';

const writeJsonLinesEmpty = (path: string): void => writeFileAtomic(path, '');
import type { HistoryEvent } from './history';

/**
 * The Step Functions journal in the data dir:
 *
 *   sfn/state-machines/<name>.json                    state machines created with CreateStateMachine
 *   sfn/executions/<state machine>/<execution>.json   the execution record, replaced atomically
 *   sfn/executions/<state machine>/<execution>.jsonl  its history, append-only
 *   sfn/completed.jsonl                               final records of this session, append-only
 *
 * Writes per execution are kept few, since they are most of what the local cloud adds to the
 * engine's own cost (bench/orchestration): the history stream (its first line,
 * ExecutionStarted, carries everything a start record would), and one line appended to
 * `sfn/completed.jsonl` when it ends. That line is in the kernel's page cache before the end
 * becomes visible, so a `kill -9` never loses a finished execution; it is fsynced once per
 * batch of executions that end together (group commit) against power loss. At the next start
 * the log is folded into the per-execution record files and emptied, and an execution with a
 * history but no record is one that was running: it is rebuilt from its ExecutionStarted
 * event. A redrive replaces the record file atomically (RUNNING, redriveCount + 1), since the
 * earlier final record would otherwise describe it. History lines are appended as they happen
 * and a torn last line is skipped on load.
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

/** When a logged line is written (survives `kill -9`) and when it is fsynced (survives power loss). */
export interface Logged {
  written: Promise<void>;
  durable: Promise<void>;
}

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
  reject(err: unknown): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Callers may only await one of the two; the other must not become an unhandled rejection.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

/** Appends lines to one file and fsyncs once per batch of appends that arrive together. */
class GroupCommitLog {
  private handle?: Promise<FileHandle>;
  private pending: Array<{ line: string; written: Deferred; durable: Deferred }> = [];
  private flushing = false;

  constructor(private readonly path: string) {}

  append(line: string): Logged {
    const entry = { line, written: deferred(), durable: deferred() };
    this.pending.push(entry);
    if (!this.flushing) void this.flush();
    return { written: entry.written.promise, durable: entry.durable.promise };
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    while (this.pending.length) {
      const batch = this.pending.splice(0);
      let stage: 'written' | 'durable' = 'written';
      try {
        this.handle ??= open(this.path, 'a');
        const fh = await this.handle;
        await fh.appendFile(batch.map((b) => b.line).join(''));
        batch.forEach((b) => b.written.resolve());
        stage = 'durable';
        await fh.datasync();
        batch.forEach((b) => b.durable.resolve());
      } catch (err) {
        batch.forEach((b) => {
          if (stage === 'written') b.written.reject(err);
          b.durable.reject(err);
        });
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
  /** State machine directories known to exist: a mkdir per start is a blocking syscall. */
  private readonly madeDirs = new Set<string>();

  constructor(dataDir: string) {
    this.executionsDir = join(dataDir, 'sfn', 'executions');
    this.machinesDir = join(dataDir, 'sfn', 'state-machines');
    this.completedPath = join(dataDir, 'sfn', 'completed.jsonl');
    mkdirSync(this.executionsDir, { recursive: true });
    mkdirSync(this.machinesDir, { recursive: true });
    this.completed = new GroupCommitLog(this.completedPath);
  }

  /**
   * Journal a final record: `written` once it is appended (a `kill -9` cannot lose it),
   * `durable` once the group-committed fsync has covered it (power loss cannot either).
   */
  logCompleted(record: ExecutionRecord): Logged {
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
    if (!this.madeDirs.has(record.stateMachineName)) {
      mkdirSync(join(this.executionsDir, record.stateMachineName), { recursive: true });
      this.madeDirs.add(record.stateMachineName);
    }
    return createWriteStream(this.historyPath(record.stateMachineName, record.name), { flags: 'a' });
  }

  /**
   * Append one event to a history at recovery. A torn last line (the process died mid-append)
   * is cut first: followed by a whole line it would no longer be the skippable last line.
   */
  appendHistorySync(record: ExecutionRecord, event: HistoryEvent): void {
    const path = this.historyPath(record.stateMachineName, record.name);
    let text = '';
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (text && !text.endsWith('\n')) truncateSync(path, Buffer.byteLength(text.slice(0, text.lastIndexOf('\n') + 1)));
    mkdirSync(join(this.executionsDir, record.stateMachineName), { recursive: true });
    appendFileSync(path, `${JSON.stringify(event)}\n`);
  }

  loadHistory(record: ExecutionRecord): HistoryEvent[] {
    return readJsonLines<HistoryEvent>(this.historyPath(record.stateMachineName, record.name));
  }

  /**
   * Every execution record. Final records of the log win over an older file (a redrive's
   * RUNNING record, or a record folded before the execution was redriven); the log is then
   * folded into the files and emptied. A history without a record is an execution that was
   * running when the process died: it comes back RUNNING, rebuilt from its first event.
   */
  loadRecords(): ExecutionRecord[] {
    const byArn = new Map<string, ExecutionRecord>();
    const histories: Array<{ sm: string; name: string }> = [];
    for (const sm of readdirSync(this.executionsDir)) {
      for (const file of readdirSync(join(this.executionsDir, sm))) {
        if (file.endsWith('.jsonl')) histories.push({ sm, name: file.slice(0, -'.jsonl'.length) });
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
    for (const { sm, name } of histories) {
      const arn = makeExecutionArn(sm, name);
      if (!byArn.has(arn)) byArn.set(arn, this.startedRecord(sm, name));
    }
    return [...byArn.values()];
  }

  /** The RUNNING record of an execution that has a history but no record, from its ExecutionStarted event. */
  private startedRecord(sm: string, name: string): ExecutionRecord {
    const path = this.historyPath(sm, name);
    const started = readJsonLines<HistoryEvent>(path).find((e) => e.type === 'ExecutionStarted');
    const details = started?.executionStartedEventDetails as { input?: string } | undefined;
    return {
      executionArn: makeExecutionArn(sm, name),
      stateMachineArn: makeStateMachineArn(sm),
      stateMachineName: sm,
      name,
      status: 'RUNNING',
      // A process killed before the first line reached the file leaves it empty.
      startDate: started?.timestamp ?? statSync(path).mtimeMs,
      input: details?.input ?? '{}',
      redriveCount: 0,
    };
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
