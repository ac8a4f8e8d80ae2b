import { appendFileSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, truncateSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { executionArn as makeExecutionArn, stateMachineArn as makeStateMachineArn } from '../../constants';
import { readJsonIfExists, readJsonLines, writeFileAtomic, writeJsonAtomic, writeJsonAtomicAsync } from '../../core/fsutil';
import type { HistoryEvent } from './history';

/**
 * The Step Functions journal in the data dir:
 *
 *   sfn/state-machines/<name>.json                    state machines created with CreateStateMachine
 *   sfn/executions/<state machine>/<execution>.json   the execution record, replaced atomically
 *   sfn/executions/<state machine>/<execution>.jsonl  its history, one event per line
 *   sfn/journal.jsonl                                 this session's log, append-only
 *
 * While the local cloud runs, everything an execution writes goes to one log: each history
 * event as it happens, and the final record when it ends. The lines of all executions that
 * arrive in one turn of the event loop are one append, because per-execution files (an open,
 * a write per step and a close each) were most of what the local cloud added to the engine's
 * own cost (bench/orchestration). A line is in the kernel's page cache before the event or
 * the end it records becomes visible, so a `kill -9` loses neither; the log is fsynced once
 * per batch that carries final records (group commit), against power loss.
 *
 * At the next start the log is folded into the per-execution files and emptied: histories
 * are appended (events already there, from a fold that was cut short, are skipped by id) and
 * final records replace older record files. An execution with a history but no record is
 * one that was running when the process died: it is rebuilt from its ExecutionStarted event.
 * A redrive replaces the record file atomically (RUNNING, redriveCount + 1), since the
 * earlier final record would otherwise describe it. A torn last line is skipped on load.
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

/** One line of the session log. */
type LogLine = { history: string; event: HistoryEvent } | { completed: ExecutionRecord };

/**
 * Appends lines to one file: every line queued in one turn of the event loop is one write, and
 * the lines that ask for durability are fsynced together once written (group commit). Writes
 * do not wait for an fsync in progress.
 */
class SessionLog {
  private handle?: Promise<FileHandle>;
  private pending: Array<{ line: string; entry?: { written: Deferred; durable: Deferred } }> = [];
  private unsynced: Deferred[] = [];
  private scheduled = false;
  private writing = false;
  private syncing = false;
  private reported = false;

  constructor(private readonly path: string) {}

  /** Queue a line; a write error is reported on stderr. */
  append(line: string): void {
    this.pending.push({ line });
    this.schedule();
  }

  /** Queue a line and learn when it is written and when it is durable. */
  appendDurable(line: string): Logged {
    const entry = { written: deferred(), durable: deferred() };
    this.pending.push({ line, entry });
    this.schedule();
    return { written: entry.written.promise, durable: entry.durable.promise };
  }

  private schedule(): void {
    if (this.scheduled || this.writing) return;
    this.scheduled = true;
    setImmediate(() => void this.write());
  }

  private async write(): Promise<void> {
    this.scheduled = false;
    this.writing = true;
    while (this.pending.length) {
      const batch = this.pending.splice(0);
      try {
        this.handle ??= open(this.path, 'a');
        await (await this.handle).appendFile(batch.map((b) => b.line).join(''));
        for (const { entry } of batch) {
          if (!entry) continue;
          entry.written.resolve();
          this.unsynced.push(entry.durable);
        }
        if (this.unsynced.length && !this.syncing) void this.sync();
      } catch (err) {
        let waited = false;
        for (const { entry } of batch) {
          if (!entry) continue;
          waited = true;
          entry.written.reject(err);
          entry.durable.reject(err);
        }
        if (!waited && !this.reported) {
          this.reported = true;
          process.stderr.write(`mlship step functions: cannot append to ${this.path}: ${(err as Error).message}\n`);
        }
      }
    }
    this.writing = false;
  }

  private async sync(): Promise<void> {
    this.syncing = true;
    while (this.unsynced.length) {
      const batch = this.unsynced.splice(0);
      try {
        await (await this.handle!).datasync();
        batch.forEach((d) => d.resolve());
      } catch (err) {
        batch.forEach((d) => d.reject(err));
      }
    }
    this.syncing = false;
  }

  async close(): Promise<void> {
    while (this.scheduled || this.writing || this.syncing || this.pending.length) await new Promise((r) => setTimeout(r, 5));
    const fh = this.handle;
    this.handle = undefined;
    await (await fh)?.close();
  }
}

export class Journal {
  private readonly executionsDir: string;
  private readonly machinesDir: string;
  private readonly logPath: string;
  /** The log of earlier versions, final records only; folded like the session log. */
  private readonly legacyCompletedPath: string;
  private readonly log: SessionLog;

  constructor(dataDir: string) {
    this.executionsDir = join(dataDir, 'sfn', 'executions');
    this.machinesDir = join(dataDir, 'sfn', 'state-machines');
    this.logPath = join(dataDir, 'sfn', 'journal.jsonl');
    this.legacyCompletedPath = join(dataDir, 'sfn', 'completed.jsonl');
    mkdirSync(this.executionsDir, { recursive: true });
    mkdirSync(this.machinesDir, { recursive: true });
    this.log = new SessionLog(this.logPath);
  }

  /** What appends an execution's history events, as JSON text, to the session log (LogLines). */
  historyAppender(record: ExecutionRecord): (eventJson: string) => void {
    const prefix = `{"history":${JSON.stringify(`${record.stateMachineName}/${record.name}`)},"event":`;
    return (eventJson) => this.log.append(`${prefix}${eventJson}}\n`);
  }

  /**
   * Journal a final record, after every history event appended before it: `written` once it
   * is appended (a `kill -9` cannot lose it), `durable` once the group-committed fsync has
   * covered it (power loss cannot either).
   */
  logCompleted(record: ExecutionRecord): Logged {
    return this.log.appendDurable(`${JSON.stringify({ completed: record } satisfies LogLine)}\n`);
  }

  async close(): Promise<void> {
    await this.log.close();
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

  /** Append one event to a history at recovery. */
  appendHistorySync(record: ExecutionRecord, event: HistoryEvent): void {
    this.appendEventsSync(record.stateMachineName, record.name, [event]);
  }

  /**
   * Append events to an execution's history file, skipping those it already has (by id). A
   * torn last line (the process died mid-append) is cut first: followed by a whole line it
   * would no longer be the skippable last line.
   */
  private appendEventsSync(sm: string, name: string, events: HistoryEvent[]): void {
    const path = this.historyPath(sm, name);
    let text = '';
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const whole = text.slice(0, text.lastIndexOf('\n') + 1);
    if (whole.length < text.length) truncateSync(path, Buffer.byteLength(whole));
    const last = whole.trimEnd().split('\n').at(-1);
    const lastId = last ? (JSON.parse(last) as HistoryEvent).id : 0;
    const fresh = events.filter((e) => e.id > lastId);
    if (!fresh.length) return;
    mkdirSync(join(this.executionsDir, sm), { recursive: true });
    appendFileSync(path, fresh.map((e) => `${JSON.stringify(e)}\n`).join(''));
  }

  loadHistory(record: ExecutionRecord): HistoryEvent[] {
    return readJsonLines<HistoryEvent>(this.historyPath(record.stateMachineName, record.name));
  }

  /** The history file's events as JSON text, a torn last line left out. */
  loadHistoryText(record: ExecutionRecord): string[] {
    return this.loadHistory(record).map((e) => JSON.stringify(e));
  }

  /**
   * Fold the previous session's log into the per-execution files, then empty it. Safe to cut
   * short and run again: history events are appended by id, and a final record only replaces
   * an older record file.
   */
  private fold(): void {
    const lines: LogLine[] = [
      ...readJsonLines<ExecutionRecord>(this.legacyCompletedPath).map((completed) => ({ completed })),
      ...readJsonLines<LogLine>(this.logPath),
    ];
    const histories = new Map<string, HistoryEvent[]>();
    for (const line of lines) {
      if (!('history' in line)) continue;
      let events = histories.get(line.history);
      if (!events) histories.set(line.history, (events = []));
      events.push(line.event);
    }
    for (const [key, events] of histories) {
      const slash = key.indexOf('/');
      this.appendEventsSync(key.slice(0, slash), key.slice(slash + 1), events);
    }
    for (const line of lines) {
      if (!('completed' in line)) continue;
      const logged = line.completed;
      const file = readJsonIfExists<ExecutionRecord>(this.recordPath(logged.stateMachineName, logged.name));
      const newer =
        !file || logged.redriveCount > file.redriveCount || (logged.redriveCount === file.redriveCount && file.status === 'RUNNING');
      if (newer) this.saveRecord(logged);
    }
    writeFileAtomic(this.logPath, '');
    rmSync(this.legacyCompletedPath, { force: true });
  }

  /**
   * Every execution record, after folding the previous session's log. A history without a
   * record is an execution that was running when the process died: it comes back RUNNING,
   * rebuilt from its first event.
   */
  loadRecords(): ExecutionRecord[] {
    this.fold();
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
