import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  InvalidArn,
  InvalidToken,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  RedriveExecutionCommand,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  StateMachineDoesNotExist,
  StopExecutionCommand,
  TaskDoesNotExist,
  TaskTimedOut,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import { clientConfig, eventually, startTestCloud, type TestCloud } from './helpers';

/** Tokens handed to the `approve` function, in order; the test answers them. */
const tokens: string[] = [];
let flaky = 0;

const functions = {
  echo: async (event: unknown) => ({ echoed: event }),
  boom: async () => {
    const err = new Error('the model file is missing');
    err.name = 'BuildFailedError';
    throw err;
  },
  flaky: async () => {
    flaky += 1;
    if (flaky % 2 === 1) {
      const err = new Error('try again');
      err.name = 'TransientError';
      throw err;
    }
    return { ok: true };
  },
  approve: async (event: unknown) => {
    tokens.push((event as { token: string }).token);
    return { stored: true };
  },
  slow: async () => new Promise((resolve) => setTimeout(() => resolve({ done: true }), 60_000).unref()),
};

const task = (fn: string, next: Record<string, unknown> = { End: true }, extra: Record<string, unknown> = {}) => ({
  Type: 'Task',
  Resource: 'arn:aws:states:::lambda:invoke',
  Parameters: { FunctionName: fn, 'Payload.$': '$' },
  ResultSelector: { 'value.$': '$.Payload' },
  ...extra,
  ...next,
});

const DEFINITIONS = {
  simple: {
    StartAt: 'Echo',
    States: {
      Echo: task('echo', { Next: 'IsOk' }, { ResultPath: '$.echo' }),
      IsOk: { Type: 'Choice', Choices: [{ Variable: '$.ok', BooleanEquals: true, Next: 'Done' }], Default: 'Broken' },
      Done: { Type: 'Succeed' },
      Broken: { Type: 'Fail', Error: 'NotOk', Cause: 'ok was false' },
    },
  },
  approval: {
    StartAt: 'Ask',
    States: {
      Ask: {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
        Parameters: { FunctionName: 'approve', Payload: { 'token.$': '$$.Task.Token', 'execution.$': '$$.Execution.Name' } },
        TimeoutSecondsPath: '$.timeout',
        ResultPath: '$.decision',
        Catch: [
          { ErrorEquals: ['States.Timeout'], ResultPath: '$.error', Next: 'TimedOut' },
          { ErrorEquals: ['ApprovalRejectedError'], ResultPath: '$.error', Next: 'Rejected' },
        ],
        Next: 'AskAgain',
      },
      AskAgain: {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
        Parameters: { FunctionName: 'approve', Payload: { 'token.$': '$$.Task.Token' } },
        ResultPath: '$.second',
        End: true,
      },
      TimedOut: { Type: 'Fail', Error: 'ApprovalTimedOut' },
      Rejected: { Type: 'Fail', Error: 'ApprovalRejected' },
    },
  },
  failing: {
    StartAt: 'Prepare',
    States: { Prepare: task('echo', { Next: 'Build' }, { ResultPath: '$.prepared' }), Build: task('boom', { End: true }) },
  },
  retrying: {
    StartAt: 'Flaky',
    States: { Flaky: task('flaky', { End: true }, { Retry: [{ ErrorEquals: ['TransientError'], IntervalSeconds: 1, MaxAttempts: 2 }] }) },
  },
  slow: { StartAt: 'Slow', States: { Slow: task('slow') } },
};

let t: TestCloud;
/** Signed as the cloud's own tasks sign: only they may answer task tokens (lib/local/core/access.ts). */
let tasks: SFNClient;
const arns: Record<string, string> = {};

async function start(machine: keyof typeof DEFINITIONS, input: unknown, name?: string): Promise<string> {
  const out = await t.sfn.send(new StartExecutionCommand({ stateMachineArn: arns[machine], input: JSON.stringify(input), name }));
  return out.executionArn!;
}

const types = (events: HistoryEvent[] | undefined) => (events ?? []).map((e) => e.type);

beforeAll(async () => {
  // Prepare: a cloud with small test state machines (timeScale only affects Wait/Retry pauses).
  t = await startTestCloud({ functions, timeScale: 0.01 });
  tasks = new SFNClient({
    ...clientConfig(t.cloud.endpoint),
    credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID!, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY! },
  });
  for (const [name, def] of Object.entries(DEFINITIONS)) {
    const out = await t.sfn.send(
      new CreateStateMachineCommand({ name, definition: JSON.stringify(def), roleArn: 'arn:aws:iam::000000000000:role/test' }),
    );
    arns[name] = out.stateMachineArn!;
  }
});

afterAll(async () => {
  tasks?.destroy();
  await t?.close();
});

describe('Class: StepFunctionsService', () => {
  describe('Method: ListStateMachines / DescribeStateMachine', () => {
    it('lists the release and drift workflows next to created machines, paginated', async () => {
      // Act
      const first = await t.sfn.send(new ListStateMachinesCommand({ maxResults: 3 }));
      const second = await t.sfn.send(new ListStateMachinesCommand({ maxResults: 3, nextToken: first.nextToken }));
      const all = [...first.stateMachines!, ...second.stateMachines!].map((s) => s.name);

      // Assess
      expect(first.stateMachines).toHaveLength(3);
      expect(all).toEqual(expect.arrayContaining(['mlship-release', 'mlship-drift-check', 'simple', 'approval', 'failing']));
      const release = await t.sfn.send(
        new DescribeStateMachineCommand({ stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:mlship-release' }),
      );
      expect(JSON.parse(release.definition!).StartAt).toBe('PrepareRelease');
      expect(release.definition).toContain('arn:aws:lambda:us-east-1:000000000000:function:mlship-PrepareRelease');
    });

    it('raises StateMachineDoesNotExist and InvalidArn as the SDK exception classes', async () => {
      await expect(
        t.sfn.send(new DescribeStateMachineCommand({ stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:nope' })),
      ).rejects.toBeInstanceOf(StateMachineDoesNotExist);
      await expect(t.sfn.send(new DescribeStateMachineCommand({ stateMachineArn: 'not-an-arn' }))).rejects.toBeInstanceOf(InvalidArn);
    });
  });

  describe('Method: StartExecution', () => {
    it('runs Lambda tasks with the lambda:invoke result shape and records AWS history event names', async () => {
      // Act
      const arn = await start('simple', { ok: true }, 'simple-ok');
      await t.cloud.stepFunctions.waitForExecution(arn);
      const described = await t.sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
      const history = await t.sfn.send(new GetExecutionHistoryCommand({ executionArn: arn }));

      // Assess
      expect(described.status).toBe('SUCCEEDED');
      expect(JSON.parse(described.output!).echo).toEqual({ value: { echoed: { ok: true } } });
      expect(types(history.events)).toEqual([
        'ExecutionStarted',
        'TaskStateEntered',
        'TaskScheduled',
        'TaskStarted',
        'TaskSucceeded',
        'TaskStateExited',
        'ChoiceStateEntered',
        'ChoiceStateExited',
        'SucceedStateEntered',
        'SucceedStateExited',
        'ExecutionSucceeded',
      ]);
      const scheduled = history.events!.find((e) => e.type === 'TaskScheduled')!;
      expect(scheduled.taskScheduledEventDetails).toMatchObject({ resourceType: 'lambda', resource: 'invoke' });
      expect(JSON.parse(scheduled.taskScheduledEventDetails!.parameters!)).toEqual({ FunctionName: 'echo', Payload: { ok: true } });
      const succeeded = history.events!.find((e) => e.type === 'TaskSucceeded')!;
      expect(JSON.parse(succeeded.taskSucceededEventDetails!.output!)).toMatchObject({
        StatusCode: 200,
        Payload: { echoed: { ok: true } },
      });
      expect(history.events!.map((e) => e.id)).toEqual(history.events!.map((_, i) => i + 1));
      // Each state's input is the previous state's output, as text (recorded once, see SameAs).
      const exited = history.events!.find((e) => e.type === 'TaskStateExited')!.stateExitedEventDetails!.output!;
      expect(JSON.parse(exited).echo).toEqual({ value: { echoed: { ok: true } } });
      expect(history.events!.find((e) => e.type === 'ChoiceStateEntered')!.stateEnteredEventDetails!.input).toBe(exited);
    });

    it('ends in the Fail state with its error and cause', async () => {
      const arn = await start('simple', { ok: false });
      const rec = await t.cloud.stepFunctions.waitForExecution(arn);
      expect(rec).toMatchObject({ status: 'FAILED', error: 'NotOk', cause: 'ok was false' });
    });

    it('is idempotent for the same name and input while running, and refuses a reused name otherwise', async () => {
      // Prepare
      const arn = await start('slow', {}, 'slow-once');

      // Act
      const again = await start('slow', {}, 'slow-once');

      // Assess
      expect(again).toBe(arn);
      await expect(start('slow', { other: true }, 'slow-once')).rejects.toBeInstanceOf(ExecutionAlreadyExists);
      await t.sfn.send(new StopExecutionCommand({ executionArn: arn }));
      await t.cloud.stepFunctions.waitForExecution(arn);
      await expect(start('slow', {}, 'slow-once')).rejects.toBeInstanceOf(ExecutionAlreadyExists);
    });

    it('refuses input that is not JSON', async () => {
      await expect(t.sfn.send(new StartExecutionCommand({ stateMachineArn: arns.simple, input: '{nope' }))).rejects.toMatchObject({
        name: 'InvalidExecutionInput',
      });
    });
  });

  describe('Method: ListExecutions', () => {
    it('pages with maxResults and nextToken, newest first, and filters by status', async () => {
      // Prepare
      const started: string[] = [];
      for (let i = 0; i < 5; i++) {
        started.push(await start('simple', { ok: true }, `page-${i}`));
        await t.cloud.stepFunctions.waitForExecution(started.at(-1)!);
      }

      // Act
      const seen: string[] = [];
      let nextToken: string | undefined;
      let pages = 0;
      do {
        const page = await t.sfn.send(new ListExecutionsCommand({ stateMachineArn: arns.simple, maxResults: 2, nextToken }));
        expect(page.executions!.length).toBeLessThanOrEqual(2);
        seen.push(...page.executions!.map((e) => e.name!));
        nextToken = page.nextToken;
        pages += 1;
      } while (nextToken);
      const failed = await t.sfn.send(new ListExecutionsCommand({ stateMachineArn: arns.simple, statusFilter: 'FAILED' }));

      // Assess
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen).toEqual(expect.arrayContaining(['page-0', 'page-1', 'page-2', 'page-3', 'page-4']));
      expect(pages).toBeGreaterThanOrEqual(3);
      expect(seen.indexOf('page-4')).toBeLessThan(seen.indexOf('page-0'));
      expect(failed.executions!.every((e) => e.status === 'FAILED')).toBe(true);
      expect(failed.executions!.length).toBeGreaterThan(0);
      await expect(t.sfn.send(new ListExecutionsCommand({ stateMachineArn: arns.simple, nextToken: 'garbage!' }))).rejects.toBeInstanceOf(
        InvalidToken,
      );
    });
  });

  describe('Method: SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat', () => {
    it('issues a fresh token per waiting task and refuses a used one', async () => {
      // Prepare
      tokens.length = 0;
      const arn = await start('approval', { timeout: 600 });
      const first = await eventually(() => tokens[0]);

      // Act
      await expect(t.sfn.send(new SendTaskSuccessCommand({ taskToken: first, output: '{}' }))).rejects.toMatchObject({
        name: 'AccessDeniedException',
      });
      await tasks.send(new SendTaskHeartbeatCommand({ taskToken: first }));
      await tasks.send(new SendTaskSuccessCommand({ taskToken: first, output: JSON.stringify({ approved: true }) }));
      const second = await eventually(() => tokens[1]);
      await tasks.send(new SendTaskSuccessCommand({ taskToken: second, output: '{"again":true}' }));
      const rec = await t.cloud.stepFunctions.waitForExecution(arn);

      // Assess
      expect(second).not.toBe(first);
      expect(rec.status).toBe('SUCCEEDED');
      expect(JSON.parse(rec.output!)).toMatchObject({ decision: { approved: true }, second: { again: true } });
      await expect(tasks.send(new SendTaskSuccessCommand({ taskToken: first, output: '{}' }))).rejects.toBeInstanceOf(TaskDoesNotExist);
      await expect(tasks.send(new SendTaskSuccessCommand({ taskToken: 'made-up', output: '{}' }))).rejects.toBeInstanceOf(InvalidToken);
      const history = await t.sfn.send(new GetExecutionHistoryCommand({ executionArn: arn }));
      expect(history.events!.find((e) => e.type === 'TaskScheduled')!.taskScheduledEventDetails!.resource).toBe('invoke.waitForTaskToken');
    });

    it('routes SendTaskFailure to the Catch that names its error', async () => {
      tokens.length = 0;
      const arn = await start('approval', { timeout: 600 });
      const token = await eventually(() => tokens[0]);
      await tasks.send(new SendTaskFailureCommand({ taskToken: token, error: 'ApprovalRejectedError', cause: 'metrics look off' }));
      const rec = await t.cloud.stepFunctions.waitForExecution(arn);
      expect(rec).toMatchObject({ status: 'FAILED', error: 'ApprovalRejected' });
      const history = await t.sfn.send(new GetExecutionHistoryCommand({ executionArn: arn }));
      expect(history.events!.find((e) => e.type === 'TaskFailed')!.taskFailedEventDetails).toMatchObject({
        error: 'ApprovalRejectedError',
        cause: 'metrics look off',
      });
    });

    it('times out with States.Timeout from TimeoutSecondsPath (read from the state input) and then answers TaskTimedOut', async () => {
      tokens.length = 0;
      const arn = await start('approval', { timeout: 1 });
      const token = await eventually(() => tokens[0]);
      const rec = await t.cloud.stepFunctions.waitForExecution(arn);
      expect(rec).toMatchObject({ status: 'FAILED', error: 'ApprovalTimedOut' });
      await expect(tasks.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' }))).rejects.toBeInstanceOf(TaskTimedOut);
      const history = await t.sfn.send(new GetExecutionHistoryCommand({ executionArn: arn }));
      expect(types(history.events)).toContain('TaskTimedOut');
    });
  });

  describe('Method: StopExecution', () => {
    it('aborts a running execution with the given error and cause', async () => {
      tokens.length = 0;
      const arn = await start('approval', { timeout: 600 });
      const token = await eventually(() => tokens[0]);
      await t.sfn.send(new StopExecutionCommand({ executionArn: arn, error: 'Cancelled', cause: 'by the test' }));
      const rec = await t.cloud.stepFunctions.waitForExecution(arn);
      expect(rec).toMatchObject({ status: 'ABORTED', error: 'Cancelled', cause: 'by the test' });
      expect(types((await t.sfn.send(new GetExecutionHistoryCommand({ executionArn: arn, reverseOrder: true }))).events)[0]).toBe(
        'ExecutionAborted',
      );
      await expect(tasks.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' }))).rejects.toBeInstanceOf(TaskDoesNotExist);
    });

    it('raises ExecutionDoesNotExist for an unknown execution', async () => {
      await expect(
        t.sfn.send(new StopExecutionCommand({ executionArn: 'arn:aws:states:us-east-1:000000000000:execution:simple:nope' })),
      ).rejects.toBeInstanceOf(ExecutionDoesNotExist);
    });
  });

  describe('Method: Retry', () => {
    it('retries a named error and records a second TaskScheduled', async () => {
      flaky = 0;
      const arn = await start('retrying', {});
      const rec = await t.cloud.stepFunctions.waitForExecution(arn);
      const history = await t.sfn.send(new GetExecutionHistoryCommand({ executionArn: arn }));
      expect(rec.status).toBe('SUCCEEDED');
      expect(types(history.events).filter((x) => x === 'TaskScheduled')).toHaveLength(2);
      expect(types(history.events)).toContain('TaskFailed');
    });
  });

  describe('Method: RedriveExecution', () => {
    it('restarts a failed execution from its failed state with that state input', async () => {
      // Prepare: Build fails with the handler's error name
      const arn = await start('failing', { model: 'm' });
      const failed = await t.cloud.stepFunctions.waitForExecution(arn);
      expect(failed).toMatchObject({ status: 'FAILED', error: 'BuildFailedError' });
      expect(JSON.parse(failed.cause!)).toEqual({ errorMessage: 'the model file is missing', errorType: 'BuildFailedError' });

      // Act
      await t.sfn.send(new RedriveExecutionCommand({ executionArn: arn }));
      const again = await t.cloud.stepFunctions.waitForExecution(arn);
      const history = await t.sfn.send(new GetExecutionHistoryCommand({ executionArn: arn }));
      const described = await t.sfn.send(new DescribeExecutionCommand({ executionArn: arn }));

      // Assess: Prepare ran once, Build twice
      expect(again.status).toBe('FAILED');
      expect(described.redriveCount).toBe(1);
      const entered = history.events!.filter((e) => e.type === 'TaskStateEntered').map((e) => e.stateEnteredEventDetails!.name);
      expect(entered).toEqual(['Prepare', 'Build', 'Build']);
      expect(types(history.events)).toContain('ExecutionRedriven');
      const buildInputs = history.events!.filter((e) => e.type === 'TaskStateEntered' && e.stateEnteredEventDetails!.name === 'Build');
      expect(JSON.parse(buildInputs[1]!.stateEnteredEventDetails!.input!)).toEqual(
        JSON.parse(buildInputs[0]!.stateEnteredEventDetails!.input!),
      );
    });

    it('refuses a succeeded execution and one that ended in a Fail state', async () => {
      const ok = await start('simple', { ok: true });
      await t.cloud.stepFunctions.waitForExecution(ok);
      await expect(t.sfn.send(new RedriveExecutionCommand({ executionArn: ok }))).rejects.toMatchObject({ name: 'ExecutionNotRedrivable' });
      const failed = await start('simple', { ok: false });
      await t.cloud.stepFunctions.waitForExecution(failed);
      await expect(t.sfn.send(new RedriveExecutionCommand({ executionArn: failed }))).rejects.toMatchObject({
        name: 'ExecutionNotRedrivable',
      });
    });
  });
});
