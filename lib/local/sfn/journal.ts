import { createWriteStream, mkdirSync, readdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { readJsonIfExists, readJsonLines, writeJsonAtomic } from '../fsutil';
import type { HistoryEvent } from './history';

/**
 * The Step Functions journal in the data dir:
 *
 *   sfn/state-machines/<name>.json                    state machines created with CreateStateMachine
 *   sfn/executions/<state machine>/<execution>.json   the execution record, replaced atomically
 *   sfn/executions/<state machine>/<execution>.jsonl  its history, append-only
 *
 * The record is rewritten (temp + fsync + rename) when an execution starts, ends or is
 * redriven, so a `kill -9` never loses a finished execution; history lines are appended as
 * they happen and a torn last line is skipped on load.
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

export class Journal {
  private readonly executionsDir: string;
  private readonly machinesDir: string;

  constructor(dataDir: string) {
    this.executionsDir = join(dataDir, 'sfn', 'executions');
    this.machinesDir = join(dataDir, 'sfn', 'state-machines');
    mkdirSync(this.executionsDir, { recursive: true });
    mkdirSync(this.machinesDir, { recursive: true });
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

  /** An append stream for an execution's history. */
  openHistory(record: ExecutionRecord): WriteStream {
    mkdirSync(join(this.executionsDir, record.stateMachineName), { recursive: true });
    return createWriteStream(this.historyPath(record.stateMachineName, record.name), { flags: 'a' });
  }

  loadHistory(record: ExecutionRecord): HistoryEvent[] {
    return readJsonLines<HistoryEvent>(this.historyPath(record.stateMachineName, record.name));
  }

  loadRecords(): ExecutionRecord[] {
    const out: ExecutionRecord[] = [];
    for (const sm of readdirSync(this.executionsDir)) {
      for (const file of readdirSync(join(this.executionsDir, sm))) {
        if (!file.endsWith('.json')) continue;
        const rec = readJsonIfExists<ExecutionRecord>(join(this.executionsDir, sm, file));
        if (rec) out.push(rec);
      }
    }
    return out;
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
