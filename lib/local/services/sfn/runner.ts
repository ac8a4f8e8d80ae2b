import { StateMachine } from 'aws-local-stepfunctions';
import { AwsServiceError } from '../../core/service';
import { LOCAL_ACCOUNT } from '../../constants';
import { LambdaFunctionError, type LocalLambda } from '../lambda';
import { HIDDEN_TIMEOUT_KEY, type PreparedDefinition } from './definition';
import { HistoryRecorder, recordEngineEvent, type EngineEvent, type HistoryEvent } from './history';
import type { ExecutionRecord, Journal } from './journal';
import type { TaskTokens } from './tokens';
import { TrainingJobWait, type SageMakerCall } from './sagemaker-sync';

/**
 * Runs executions on the engine: one run per start (or redrive), the task overrides that
 * invoke the local Lambda, the mapping of engine events to the journaled history, and the
 * end of an execution. The API semantics around it live in service.ts.
 */

export const ROLE_ARN = `arn:aws:iam::${LOCAL_ACCOUNT}:role/mlship-states`;
export const TOKEN_SENTINEL = '__mlship_task_token__';
export const SHUTDOWN_ERROR = 'mlship.Shutdown';
export const SHUTDOWN_CAUSE = 'local cloud shut down while the execution was running';

export type Json = Record<string, unknown>;
type EngineRun = ReturnType<StateMachine['run']>;

export interface Machine {
  name: string;
  arn: string;
  definition: string;
  creationDate: number;
  prepared: PreparedDefinition;
  /** One engine per start state: the definition itself, and redrives that start mid-way. */
  engines: Map<string, StateMachine>;
}

export interface Execution {
  record: ExecutionRecord;
  /**
   * The history, an event per entry as the JSON text the journal holds: flat strings rather
   * than the event objects, which would keep every state's input and output alive. Loaded
   * lazily for executions that ended before this start.
   */
  history?: string[];
  /** The history as Step Functions returns it, parsed and converted as it is read (toAwsEvent). */
  awsHistory?: HistoryEvent[];
  recorder?: HistoryRecorder;
  run?: EngineRun;
  stop?: { error: string; cause: string };
  currentState?: string;
  params: Map<string, unknown>;
  results: Map<string, unknown>;
  done?: Promise<ExecutionRecord>;
  /** Record writes in call order, so an older snapshot never lands after a newer one. */
  saving: Promise<void>;
  /** The service integrations a task waits on (createTrainingJob.sync), by state name: stopped with the execution. */
  waits?: Map<string, TrainingJobWait>;
}

export const str = (v: unknown, field: string, required = true): string => {
  if (v === undefined || v === null) {
    if (required) throw new AwsServiceError('ValidationException', `${field}: required`);
    return '';
  }
  if (typeof v !== 'string') throw new AwsServiceError('ValidationException', `${field}: must be a string`);
  return v;
};

function replaceDeep(value: unknown, from: string, to: string): unknown {
  if (value === from) return to;
  if (Array.isArray(value)) return value.map((v) => replaceDeep(v, from, to));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replaceDeep(v, from, to)]));
  return value;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)).unref());
}

export interface RunnerDeps {
  journal: Journal;
  tokens: TaskTokens;
  lambda: LocalLambda;
  timeScale: number;
  /** SageMaker for the createTrainingJob.sync integration. @default none: such a task fails */
  sagemaker?: SageMakerCall;
}

export class ExecutionRunner {
  constructor(private readonly deps: RunnerDeps) {}

  private engineFor(machine: Machine, startAt: string): StateMachine {
    let engine = machine.engines.get(startAt);
    if (!engine) {
      // Validated once when the definition was registered; the engine copy carries local
      // rewrites (see definition.ts) that asl-validator would flag, so it is not re-validated.
      const def = { ...machine.prepared.engine, StartAt: startAt };
      engine = new StateMachine(def as never, { validationOptions: { noValidate: true } });
      machine.engines.set(startAt, engine);
    }
    return engine;
  }

  persist(exec: Execution): Promise<void> {
    const snapshot = { ...exec.record };
    exec.saving = exec.saving
      .then(() => this.deps.journal.saveRecordAsync(snapshot))
      .catch((err) => {
        process.stderr.write(`mlship step functions: cannot journal ${snapshot.executionArn}: ${(err as Error).message}\n`);
      });
    return exec.saving;
  }

  openRecorder(exec: Execution, lastId: number): void {
    const append = this.deps.journal.historyAppender(exec.record);
    exec.recorder = new HistoryRecorder((event) => {
      const text = JSON.stringify(event);
      exec.history!.push(text);
      append(text);
    }, lastId);
  }

  /** Task overrides for one run: each Task state of the definition invokes the local Lambda. */
  private overridesFor(exec: Execution, machine: Machine): Record<string, (input: unknown) => Promise<unknown>> {
    const handlers: Record<string, (input: unknown) => Promise<unknown>> = {};
    for (const [stateName, meta] of machine.prepared.tasks) {
      handlers[stateName] = async (raw: unknown) => {
        // The Parameters output is a fresh object per invocation; the hidden timeout field
        // (definition.ts) is left out by a copy, since `delete` would slow every later read of it.
        let input = raw as Json;
        if (HIDDEN_TIMEOUT_KEY in input) {
          const { [HIDDEN_TIMEOUT_KEY]: _hidden, ...rest } = input;
          input = rest;
        }
        exec.params.set(stateName, input);
        if (meta.kind === 'scaled-wait') {
          const ms = input.seconds !== undefined ? Number(input.seconds) * 1000 : new Date(String(input.timestamp)).getTime() - Date.now();
          await sleep(ms * this.deps.timeScale);
          return null;
        }
        if (meta.kind === 'sagemaker-training-sync') {
          const result = await this.trainingJob(exec, stateName, input);
          exec.results.set(stateName, result);
          return result as never;
        }
        if (meta.kind === 'lambda-direct') {
          const result = await this.invoke(meta.resource, replaceDeep(input, TOKEN_SENTINEL, ''));
          exec.results.set(stateName, result);
          return result as never;
        }
        const functionName = str(input.FunctionName, `${stateName}: Parameters.FunctionName`);
        if (meta.kind === 'lambda-invoke-wait') {
          const { token, result } = this.deps.tokens.issue(exec.record.executionArn, stateName);
          try {
            await this.invoke(functionName, replaceDeep(input.Payload ?? null, TOKEN_SENTINEL, token));
          } catch (err) {
            this.deps.tokens.discard(token);
            throw err;
          }
          const output = await result;
          exec.results.set(stateName, output);
          return output as never;
        }
        const payload = await this.invoke(functionName, input.Payload ?? null);
        // The shape of the lambda:invoke integration's result.
        const result = { ExecutedVersion: '$LATEST', Payload: payload, SdkHttpMetadata: { httpStatusCode: 200 }, StatusCode: 200 };
        exec.results.set(stateName, result);
        return result as never;
      };
    }
    return handlers;
  }

  /** createTrainingJob.sync (sagemaker-sync.ts); the wait is kept so a stop can stop its job. */
  private async trainingJob(exec: Execution, stateName: string, input: Json): Promise<Json> {
    const call = this.deps.sagemaker;
    if (!call) throw Object.assign(new Error('SageMaker is not available to this Step Functions'), { name: 'States.Runtime' });
    const wait = new TrainingJobWait(call);
    exec.waits ??= new Map();
    exec.waits.set(stateName, wait);
    try {
      return await wait.run(input);
    } finally {
      if (exec.waits.get(stateName) === wait) exec.waits.delete(stateName);
    }
  }

  /** Stop what the execution's tasks wait on: the whole execution, or one state that timed out. */
  cancelWaits(exec: Execution, stateName?: string): void {
    for (const [name, wait] of exec.waits ?? []) {
      if (stateName !== undefined && name !== stateName) continue;
      wait.cancel();
      exec.waits!.delete(name);
    }
  }

  private async invoke(functionName: string, payload: unknown): Promise<unknown> {
    try {
      return await this.deps.lambda.invoke(functionName, payload);
    } catch (err) {
      if (err instanceof LambdaFunctionError) throw err;
      // A failure of the Lambda service itself surfaces as Lambda.<Exception>, as on AWS.
      const type = err instanceof AwsServiceError ? err.type : 'ServiceException';
      const e = new Error((err as Error).message);
      e.name = `Lambda.${type}`;
      throw e;
    }
  }

  launch(exec: Execution, machine: Machine, startAt: string, input: unknown): void {
    const rec = exec.record;
    const run = this.engineFor(machine, startAt).run(input as never, {
      overrides: {
        taskResourceLocalHandlers: this.overridesFor(exec, machine) as never,
        retryIntervalOverrides: machine.prepared.retryIntervalOverrides,
      },
      noThrowOnAbort: true,
      context: {
        Execution: { Id: rec.executionArn, Name: rec.name, RoleArn: ROLE_ARN, RedriveCount: rec.redriveCount },
        StateMachine: { Id: machine.arn, Name: machine.name },
        Task: { Token: TOKEN_SENTINEL },
      },
    });
    exec.run = run;
    const consumed = (async () => {
      for await (const e of run.eventLogs as AsyncGenerator<EngineEvent>) {
        const name = e.state?.name;
        if (e.type === 'StateEntered' && name && machine.prepared.topLevel.has(name) && e.index === undefined) exec.currentState = name;
        if (e.type === 'StateFailed' && name && e.Error === 'States.Timeout') {
          this.deps.tokens.expire(rec.executionArn, name, 'timed-out');
          this.cancelWaits(exec, name);
        }
        recordEngineEvent(exec.recorder!, e, machine.prepared.tasks, exec.params, exec.results);
      }
    })();
    exec.done = Promise.allSettled([run.result, consumed]).then(([result]) => this.finish(exec, result));
  }

  /**
   * Journal the end of an execution, then make it visible. The final record is appended to
   * the session log (after the execution's history) first, so no client can see an ending
   * that a `kill -9` would lose; the power-loss fsync (group-committed with other endings)
   * follows in the background and `close()` waits for it.
   */
  private async finish(exec: Execution, result: PromiseSettledResult<unknown>): Promise<ExecutionRecord> {
    const rec = exec.record;
    const final: ExecutionRecord = { ...rec };
    const add = (type: string, key: string, details: Record<string, unknown>) => exec.recorder!.add(type, { [key]: details });
    if (exec.stop?.error === SHUTDOWN_ERROR) {
      // Same outcome as a crash, recorded right away: FAILED, and redrivable after the next start.
      Object.assign(final, { status: 'FAILED', error: 'States.Runtime', cause: SHUTDOWN_CAUSE });
      add('ExecutionFailed', 'executionFailedEventDetails', { error: final.error, cause: final.cause });
    } else if (exec.stop) {
      Object.assign(final, { status: 'ABORTED', error: exec.stop.error || undefined, cause: exec.stop.cause || undefined });
      add('ExecutionAborted', 'executionAbortedEventDetails', { error: exec.stop.error, cause: exec.stop.cause });
    } else if (result.status === 'fulfilled') {
      Object.assign(final, { status: 'SUCCEEDED', output: JSON.stringify(result.value ?? null) });
      add('ExecutionSucceeded', 'executionSucceededEventDetails', { output: final.output, outputDetails: { truncated: false } });
    } else {
      const err = result.reason as Error & { cause?: Error };
      if (err?.name === 'ExecutionTimeoutError') {
        Object.assign(final, { status: 'TIMED_OUT', error: 'States.Timeout', cause: 'The execution timed out' });
        add('ExecutionTimedOut', 'executionTimedOutEventDetails', { error: final.error, cause: final.cause });
      } else {
        const inner = err?.cause instanceof Error ? err.cause : err;
        Object.assign(final, { status: 'FAILED', error: inner?.name ?? 'States.Runtime', cause: inner?.message ?? String(err) });
        add('ExecutionFailed', 'executionFailedEventDetails', { error: final.error, cause: final.cause });
      }
    }
    final.stopDate = Date.now();
    this.deps.tokens.expire(rec.executionArn, undefined, 'completed');
    this.cancelWaits(exec);
    // A redrive's RUNNING record may still be in flight; the logged final record wins over it
    // at the next start either way, but the order keeps the record file from going backwards.
    await exec.saving;
    const logged = this.deps.journal.logCompleted(final);
    try {
      await logged.written;
    } catch (err) {
      process.stderr.write(`mlship step functions: cannot journal the end of ${final.executionArn}: ${(err as Error).message}\n`);
    }
    Object.assign(rec, final);
    exec.run = undefined;
    exec.currentState = undefined;
    const durable = logged.durable.catch((err) => {
      process.stderr.write(`mlship step functions: cannot fsync the journal of ${final.executionArn}: ${(err as Error).message}\n`);
    });
    exec.saving = exec.saving.then(() => durable);
    return rec;
  }
}
