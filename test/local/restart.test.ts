import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { clientConfig, eventually, startTestCloud, type TestCloud } from './helpers';

const dataDir = mkdtempSync(join(tmpdir(), 'mlship-crash-'));
const repoRoot = mkdtempSync(join(tmpdir(), 'mlship-crash-repo-'));
let restarted: TestCloud | undefined;

afterAll(async () => {
  await restarted?.close();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(repoRoot, { recursive: true, force: true });
});

const lambdaTask = (fn: string) => ({
  StartAt: 'Run',
  States: {
    Run: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Parameters: { FunctionName: fn, 'Payload.$': '$' }, End: true },
  },
});

describe('Class: LocalCloud', () => {
  describe('Method: start (after kill -9)', () => {
    it('keeps finished executions and objects, and ends running executions FAILED with a restart cause', async () => {
      // Prepare: a cloud in a child process with one finished and one running execution
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'crash-cloud.ts'), dataDir, repoRoot],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      const { endpoint } = await new Promise<{ endpoint: string }>((resolve, reject) => {
        createInterface({ input: child.stdout! }).once('line', (l) => resolve(JSON.parse(l)));
        child.once('exit', (code) => reject(new Error(`crash-cloud exited early with ${code}`)));
      });
      const sfn = new SFNClient(clientConfig(endpoint));
      const s3 = new S3Client({ ...clientConfig(endpoint), forcePathStyle: true });
      const quick = await sfn.send(
        new CreateStateMachineCommand({
          name: 'quick',
          definition: JSON.stringify(lambdaTask('echo')),
          roleArn: 'arn:aws:iam::000000000000:role/x',
        }),
      );
      const stuck = await sfn.send(
        new CreateStateMachineCommand({
          name: 'stuck',
          definition: JSON.stringify(lambdaTask('hang')),
          roleArn: 'arn:aws:iam::000000000000:role/x',
        }),
      );
      const done = await sfn.send(new StartExecutionCommand({ stateMachineArn: quick.stateMachineArn, name: 'done', input: '{"n":1}' }));
      await eventually(async () =>
        (await sfn.send(new DescribeExecutionCommand({ executionArn: done.executionArn }))).status === 'SUCCEEDED' ? true : undefined,
      );
      const running = await sfn.send(new StartExecutionCommand({ stateMachineArn: stuck.stateMachineArn, name: 'running', input: '{}' }));
      await eventually(async () => {
        const h = await sfn.send(new GetExecutionHistoryCommand({ executionArn: running.executionArn }));
        return h.events?.some((e) => e.type === 'TaskStarted') ? true : undefined;
      });
      await s3.send(new PutObjectCommand({ Bucket: 'mlship-artifacts', Key: 'registry/m/production.json', Body: '{"version":"v1"}' }));
      sfn.destroy();
      s3.destroy();

      // Act: kill -9, then start again on the same data dir
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
      restarted = await startTestCloud({ dataDir, repoRoot });

      // Assess
      const list = await restarted.sfn.send(new ListExecutionsCommand({ stateMachineArn: quick.stateMachineArn }));
      expect(list.executions?.map((e) => [e.name, e.status])).toEqual([['done', 'SUCCEEDED']]);
      const finished = await restarted.sfn.send(new DescribeExecutionCommand({ executionArn: done.executionArn }));
      expect(JSON.parse(finished.output!).Payload).toEqual({ echoed: { n: 1 } });
      const cut = await restarted.sfn.send(new DescribeExecutionCommand({ executionArn: running.executionArn }));
      expect(cut).toMatchObject({ status: 'FAILED', error: 'States.Runtime' });
      expect(cut.cause).toContain('local cloud restarted');
      const history = await restarted.sfn.send(new GetExecutionHistoryCommand({ executionArn: running.executionArn, reverseOrder: true }));
      expect(history.events?.[0]?.type).toBe('ExecutionFailed');
      expect(history.events?.map((e) => e.type)).toContain('TaskStarted');
      const object = await restarted.s3.send(new GetObjectCommand({ Bucket: 'mlship-artifacts', Key: 'registry/m/production.json' }));
      expect(await object.Body!.transformToString()).toBe('{"version":"v1"}');
    });
  });
});

describe('Class: Journal', () => {
  describe('Method: loadRecords', () => {
    it('folds the session log into per-execution files: histories by event id, final records over older ones; then empties it', async () => {
      // Prepare: a power cut after the fsynced log line but before the record file was replaced,
      // with a fold cut short before (event 1 already in the history file) and a torn last line
      const { Journal } = await import('../../lib/local/services/sfn/journal');
      const { mkdirSync, readFileSync, writeFileSync } = await import('node:fs');
      const dir = mkdtempSync(join(tmpdir(), 'mlship-journal-'));
      const journal = new Journal(dir);
      const base = {
        executionArn: 'arn:aws:states:us-east-1:000000000000:execution:sm:e1',
        stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:sm',
        stateMachineName: 'sm',
        name: 'e1',
        startDate: 1,
        input: '{}',
        redriveCount: 0,
      };
      journal.saveRecord({ ...base, status: 'RUNNING' });
      const event = (id: number, type: string) => ({ id, previousEventId: id - 1, timestamp: id, type });
      mkdirSync(join(dir, 'sfn', 'executions', 'sm'), { recursive: true });
      writeFileSync(join(dir, 'sfn', 'executions', 'sm', 'e1.jsonl'), `${JSON.stringify(event(1, 'ExecutionStarted'))}\n`);
      const lines = [
        { history: 'sm/e1', event: event(1, 'ExecutionStarted') },
        { history: 'sm/e1', event: event(2, 'PassStateEntered') },
        { history: 'sm/e1', event: event(3, 'ExecutionSucceeded') },
        { completed: { ...base, status: 'SUCCEEDED', stopDate: 2, output: '{"ok":true}' } },
      ];
      writeFileSync(join(dir, 'sfn', 'journal.jsonl'), `${lines.map((l) => JSON.stringify(l)).join('\n')}\n{"history":"sm/e1","ev`);

      // Act
      const records = new Journal(dir).loadRecords();

      // Assess
      expect(records).toEqual([expect.objectContaining({ status: 'SUCCEEDED', output: '{"ok":true}' })]);
      expect(new Journal(dir).loadRecords()[0]!.status).toBe('SUCCEEDED');
      expect(journal.loadHistory(records[0]!).map((e) => e.id)).toEqual([1, 2, 3]);
      expect(readFileSync(join(dir, 'sfn', 'journal.jsonl'), 'utf8')).toBe('');
      rmSync(dir, { recursive: true, force: true });
    });

    it('folds the final-records log of earlier versions (completed.jsonl) too, then removes it', async () => {
      // Prepare
      const { Journal } = await import('../../lib/local/services/sfn/journal');
      const { existsSync, writeFileSync } = await import('node:fs');
      const dir = mkdtempSync(join(tmpdir(), 'mlship-journal-'));
      const journal = new Journal(dir);
      const base = {
        executionArn: 'arn:aws:states:us-east-1:000000000000:execution:sm:e1',
        stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:sm',
        stateMachineName: 'sm',
        name: 'e1',
        startDate: 1,
        input: '{}',
        redriveCount: 0,
      };
      journal.saveRecord({ ...base, status: 'RUNNING' });
      writeFileSync(join(dir, 'sfn', 'completed.jsonl'), `${JSON.stringify({ ...base, status: 'FAILED', stopDate: 2, error: 'E' })}\n`);

      // Act
      const records = new Journal(dir).loadRecords();

      // Assess
      expect(records).toEqual([expect.objectContaining({ status: 'FAILED', error: 'E' })]);
      expect(existsSync(join(dir, 'sfn', 'completed.jsonl'))).toBe(false);
      rmSync(dir, { recursive: true, force: true });
    });

    it('rebuilds an execution that has a history but no record as RUNNING, from its ExecutionStarted event', async () => {
      // Prepare: a process killed while the execution ran (no start record is written), mid-append
      const { Journal } = await import('../../lib/local/services/sfn/journal');
      const { mkdirSync, writeFileSync } = await import('node:fs');
      const dir = mkdtempSync(join(tmpdir(), 'mlship-journal-'));
      mkdirSync(join(dir, 'sfn', 'executions', 'sm'), { recursive: true });
      const started = {
        id: 1,
        previousEventId: 0,
        timestamp: 1234,
        type: 'ExecutionStarted',
        executionStartedEventDetails: { input: '{"n":2}' },
      };
      writeFileSync(join(dir, 'sfn', 'executions', 'sm', 'e2.jsonl'), `${JSON.stringify(started)}\n{"id":2,"tor`);
      const journal = new Journal(dir);

      // Act
      const [record] = journal.loadRecords();
      journal.appendHistorySync(record!, { id: 2, previousEventId: 1, timestamp: 2000, type: 'ExecutionFailed' });

      // Assess
      expect(record).toEqual({
        executionArn: 'arn:aws:states:us-east-1:000000000000:execution:sm:e2',
        stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:sm',
        stateMachineName: 'sm',
        name: 'e2',
        status: 'RUNNING',
        startDate: 1234,
        input: '{"n":2}',
        redriveCount: 0,
      });
      expect(journal.loadHistory(record!).map((e) => e.type)).toEqual(['ExecutionStarted', 'ExecutionFailed']);
      rmSync(dir, { recursive: true, force: true });
    });
  });
});
