import { randomUUID } from 'node:crypto';
import { AwsServiceError, unknownOperation, type JsonService } from '../../core/service';
import { executionArn as makeExecutionArn, stateMachineArn as makeStateMachineArn } from '../../constants';
import type { LocalLambda } from '../lambda';
import { parseDefinition, prepareDefinition } from './definition';
import { toAwsEvent, type HistoryEvent } from './history';
import { Journal, type ExecutionRecord } from './journal';
import { paginate } from './pagination';
import type { SageMakerCall } from './sagemaker-sync';
import { ExecutionRunner, ROLE_ARN, SHUTDOWN_CAUSE, SHUTDOWN_ERROR, str, type Execution, type Json, type Machine } from './runner';
import { TaskTokens } from './tokens';

/**
 * Step Functions (`AWSStepFunctions.*`) on aws-local-stepfunctions: the API a client sees
 * (executions, history, task tokens, stop, redrive) over the engine, with every execution
 * journaled to the data dir.
 */

export interface StepFunctionsOptions {
  dataDir: string;
  lambda: LocalLambda;
  /** 1 = Wait states and Retry intervals at real time; 0.01 = a hundred times faster. @default 1 */
  timeScale?: number;
  /** State machines that exist from the start (rendered definitions). */
  stateMachines?: Array<{ name: string; definition: string }>;
  /** SageMaker's API for the createTrainingJob.sync integration (runner.ts). @default none */
  sagemaker?: SageMakerCall;
}

// eslint-disable-next-line no-control-regex -- AWS's name rule refuses control characters
const NAME_RULE = /^[^\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]{1,80}$/;
const RESTART_CAUSE = 'local cloud restarted while the execution was running';
const seconds = (ms: number | undefined): number | undefined => (ms === undefined ? undefined : ms / 1000);

export class StepFunctionsService implements JsonService {
  readonly targetPrefix = 'AWSStepFunctions';
  readonly tokens = new TaskTokens();
  private readonly journal: Journal;
  private readonly machines = new Map<string, Machine>();
  private readonly executions = new Map<string, Execution>();
  private readonly timeScale: number;
  private closed = false;
  private readonly runner: ExecutionRunner;

  constructor(opts: StepFunctionsOptions) {
    this.timeScale = opts.timeScale ?? 1;
    if (!(this.timeScale > 0)) throw new Error(`timeScale: must be a positive number, got ${opts.timeScale}`);
    this.journal = new Journal(opts.dataDir);
    this.runner = new ExecutionRunner({
      journal: this.journal,
      tokens: this.tokens,
      lambda: opts.lambda,
      timeScale: this.timeScale,
      sagemaker: opts.sagemaker,
    });
    for (const sm of opts.stateMachines ?? []) this.addMachine(sm.name, sm.definition, Date.now());
    for (const sm of this.journal.loadStateMachines()) {
      if (!this.machines.has(sm.arn)) this.addMachine(sm.name, sm.definition, sm.creationDate);
    }
    this.recover();
  }

  /** Executions that were running when the previous process died end as FAILED, in record and history. */
  private recover(): void {
    for (const record of this.journal.loadRecords()) {
      const exec: Execution = { record, params: new Map(), results: new Map(), saving: Promise.resolve() };
      this.executions.set(record.executionArn, exec);
      if (record.status !== 'RUNNING') continue;
      const history = this.journal.loadHistory(record);
      const now = Date.now();
      const event: HistoryEvent = {
        id: (history.at(-1)?.id ?? 0) + 1,
        previousEventId: history.at(-1)?.id ?? 0,
        timestamp: now,
        type: 'ExecutionFailed',
        executionFailedEventDetails: { error: 'States.Runtime', cause: RESTART_CAUSE },
      };
      this.journal.appendHistorySync(record, event);
      Object.assign(record, { status: 'FAILED', stopDate: now, error: 'States.Runtime', cause: RESTART_CAUSE });
      this.journal.saveRecord(record);
    }
  }

  private addMachine(name: string, definition: string, creationDate: number): Machine {
    const parsed = JSON.parse(definition) as Json;
    const machine: Machine = {
      name,
      arn: makeStateMachineArn(name),
      definition,
      creationDate,
      prepared: prepareDefinition(parsed, this.timeScale),
      engines: new Map(),
    };
    this.machines.set(machine.arn, machine);
    return machine;
  }

  async handle(operation: string, input: Json): Promise<unknown> {
    switch (operation) {
      case 'ListStateMachines':
        return this.listStateMachines(input);
      case 'DescribeStateMachine':
        return this.describeStateMachine(input);
      case 'CreateStateMachine':
        return this.createStateMachine(input);
      case 'StartExecution':
        return this.startExecution(input);
      case 'DescribeExecution':
        return this.describeExecution(input);
      case 'DescribeStateMachineForExecution': {
        const m = this.machine(this.execution(input.executionArn).record.stateMachineArn);
        return { stateMachineArn: m.arn, name: m.name, definition: m.definition, roleArn: ROLE_ARN, updateDate: seconds(m.creationDate) };
      }
      case 'ListExecutions':
        return this.listExecutions(input);
      case 'GetExecutionHistory':
        return this.getExecutionHistory(input);
      case 'StopExecution':
        return this.stopExecution(input);
      case 'RedriveExecution':
        return this.redriveExecution(input);
      case 'SendTaskSuccess': {
        const output = str(input.output, 'output');
        let parsed: unknown;
        try {
          parsed = JSON.parse(output);
        } catch {
          throw new AwsServiceError('InvalidOutput', 'output: not valid JSON');
        }
        this.tokens.succeed(input.taskToken, parsed);
        return {};
      }
      case 'SendTaskFailure':
        this.tokens.fail(input.taskToken, str(input.error, 'error', false), str(input.cause, 'cause', false));
        return {};
      case 'SendTaskHeartbeat':
        this.tokens.heartbeat(input.taskToken);
        return {};
      default:
        throw unknownOperation('Step Functions', operation);
    }
  }

  private machine(arn: unknown): Machine {
    const a = str(arn, 'stateMachineArn');
    if (!a.startsWith('arn:aws:states:')) throw new AwsServiceError('InvalidArn', `Invalid Arn: '${a}'`);
    const m = this.machines.get(a);
    if (!m) throw new AwsServiceError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${a}'`);
    return m;
  }

  private execution(arn: unknown): Execution {
    const a = str(arn, 'executionArn');
    if (!a.startsWith('arn:aws:states:')) throw new AwsServiceError('InvalidArn', `Invalid Arn: '${a}'`);
    const e = this.executions.get(a);
    if (!e) throw new AwsServiceError('ExecutionDoesNotExist', `Execution Does Not Exist: '${a}'`);
    return e;
  }

  private listStateMachines(input: Json): unknown {
    const all = [...this.machines.values()].sort((a, b) => a.name.localeCompare(b.name));
    const { page, nextToken } = paginate(all, input.maxResults, input.nextToken);
    return {
      stateMachines: page.map((m) => ({ stateMachineArn: m.arn, name: m.name, type: 'STANDARD', creationDate: seconds(m.creationDate) })),
      nextToken,
    };
  }

  private describeStateMachine(input: Json): unknown {
    const m = this.machine(input.stateMachineArn);
    return {
      stateMachineArn: m.arn,
      name: m.name,
      status: 'ACTIVE',
      definition: m.definition,
      roleArn: ROLE_ARN,
      type: 'STANDARD',
      creationDate: seconds(m.creationDate),
      loggingConfiguration: { level: 'OFF', includeExecutionData: false },
    };
  }

  private createStateMachine(input: Json): unknown {
    const name = str(input.name, 'name');
    if (!NAME_RULE.test(name)) throw new AwsServiceError('InvalidName', `Invalid Name: '${name}'`);
    const definition = str(input.definition, 'definition');
    parseDefinition(definition);
    const existing = this.machines.get(makeStateMachineArn(name));
    if (existing) {
      if (existing.definition !== definition)
        throw new AwsServiceError('StateMachineAlreadyExists', `State Machine Already Exists: '${existing.arn}'`);
      return { stateMachineArn: existing.arn, creationDate: seconds(existing.creationDate) };
    }
    const m = this.addMachine(name, definition, Date.now());
    this.journal.saveStateMachine({
      name,
      arn: m.arn,
      definition,
      roleArn: str(input.roleArn, 'roleArn', false) || ROLE_ARN,
      creationDate: m.creationDate,
    });
    return { stateMachineArn: m.arn, creationDate: seconds(m.creationDate) };
  }

  private startExecution(input: Json): unknown {
    if (this.closed) throw new AwsServiceError('ServiceUnavailable', 'the local cloud is shutting down', 503);
    const machine = this.machine(input.stateMachineArn);
    const name = input.name === undefined || input.name === null ? randomUUID() : str(input.name, 'name');
    if (!NAME_RULE.test(name)) throw new AwsServiceError('InvalidName', `Invalid Name: '${name}'`);
    const inputText = input.input === undefined || input.input === null ? '{}' : str(input.input, 'input');
    let parsedInput: unknown;
    try {
      parsedInput = JSON.parse(inputText);
    } catch (err) {
      throw new AwsServiceError('InvalidExecutionInput', `Invalid State Machine Execution Input: '${(err as Error).message}'`);
    }
    const arn = makeExecutionArn(machine.name, name);
    const existing = this.executions.get(arn);
    if (existing) {
      // Step Functions: the same name and input while still running is idempotent; anything else is refused.
      if (existing.record.status === 'RUNNING' && existing.record.input === inputText) {
        return { executionArn: arn, startDate: seconds(existing.record.startDate) };
      }
      throw new AwsServiceError('ExecutionAlreadyExists', `Execution Already Exists: '${arn}'`);
    }
    const record: ExecutionRecord = {
      executionArn: arn,
      stateMachineArn: machine.arn,
      stateMachineName: machine.name,
      name,
      status: 'RUNNING',
      startDate: Date.now(),
      input: inputText,
      redriveCount: 0,
    };
    const exec: Execution = { record, history: [], params: new Map(), results: new Map(), saving: Promise.resolve() };
    this.executions.set(arn, exec);
    // No separate start record: the history's ExecutionStarted line carries it, and a restart
    // rebuilds the execution from it (Journal.loadRecords).
    this.runner.openRecorder(exec, 0);
    exec.recorder!.add('ExecutionStarted', {
      executionStartedEventDetails: { input: inputText, inputDetails: { truncated: false }, roleArn: ROLE_ARN },
    });
    this.runner.launch(exec, machine, machine.prepared.engine.StartAt as string, parsedInput);
    return { executionArn: arn, startDate: seconds(record.startDate) };
  }

  private describeExecution(input: Json): unknown {
    const { record: r } = this.execution(input.executionArn);
    const redrivable = r.status === 'FAILED' || r.status === 'ABORTED' || r.status === 'TIMED_OUT';
    return {
      executionArn: r.executionArn,
      stateMachineArn: r.stateMachineArn,
      name: r.name,
      status: r.status,
      startDate: seconds(r.startDate),
      stopDate: seconds(r.stopDate),
      input: r.input,
      inputDetails: { included: true },
      output: r.output,
      outputDetails: r.output === undefined ? undefined : { included: true },
      error: r.error,
      cause: r.cause,
      redriveCount: r.redriveCount,
      redriveDate: seconds(r.redriveDate),
      redriveStatus: redrivable ? 'REDRIVABLE' : 'NOT_REDRIVABLE',
    };
  }

  private listExecutions(input: Json): unknown {
    const machine = this.machine(input.stateMachineArn);
    const filter = input.statusFilter === undefined || input.statusFilter === null ? undefined : str(input.statusFilter, 'statusFilter');
    const all = [...this.executions.values()]
      .map((e) => e.record)
      .filter((r) => r.stateMachineArn === machine.arn && (!filter || r.status === filter))
      // Newest first, as Step Functions lists them; the name breaks ties so pages are stable.
      .sort((a, b) => b.startDate - a.startDate || a.name.localeCompare(b.name));
    const { page, nextToken } = paginate(all, input.maxResults, input.nextToken);
    return {
      executions: page.map((r) => ({
        executionArn: r.executionArn,
        stateMachineArn: r.stateMachineArn,
        name: r.name,
        status: r.status,
        startDate: seconds(r.startDate),
        stopDate: seconds(r.stopDate),
        redriveCount: r.redriveCount,
        redriveDate: seconds(r.redriveDate),
      })),
      nextToken,
    };
  }

  /** The full history of an execution as Step Functions returns it, in order (loaded from the journal if it ended before this start). */
  history(executionArn: string): HistoryEvent[] {
    const exec = this.execution(executionArn);
    exec.history ??= this.journal.loadHistoryText(exec.record);
    const aws = (exec.awsHistory ??= []);
    // Ids run from 1 without gaps (a redrive continues them), so event `id` sits at index id - 1.
    const outputOf = (id: number): string | undefined => {
      const e = aws[id - 1]?.id === id ? aws[id - 1] : aws.find((x) => x.id === id);
      return (e?.stateExitedEventDetails as { output?: string } | undefined)?.output;
    };
    for (let i = aws.length; i < exec.history.length; i++) aws.push(toAwsEvent(JSON.parse(exec.history[i]!) as HistoryEvent, outputOf));
    return aws;
  }

  private getExecutionHistory(input: Json): unknown {
    let events = this.history(str(input.executionArn, 'executionArn'));
    if (input.reverseOrder === true) events = [...events].reverse();
    const { page, nextToken } = paginate(events, input.maxResults, input.nextToken);
    const includeData = input.includeExecutionData !== false;
    return {
      events: page.map((e) => {
        const { timestamp, ...rest } = e;
        const out: Json = { ...rest, timestamp: timestamp / 1000 };
        if (!includeData) {
          for (const [k, v] of Object.entries(out)) {
            if (k.endsWith('EventDetails') && v && typeof v === 'object') {
              const { input: _i, output: _o, parameters: _p, ...kept } = v as Json;
              out[k] = kept;
            }
          }
        }
        return out;
      }),
      nextToken,
    };
  }

  private stopExecution(input: Json): unknown {
    const exec = this.execution(input.executionArn);
    if (exec.record.status !== 'RUNNING' || !exec.run) {
      return { stopDate: seconds(exec.record.stopDate ?? Date.now()) };
    }
    exec.stop = { error: str(input.error, 'error', false), cause: str(input.cause, 'cause', false) };
    this.tokens.expire(exec.record.executionArn, undefined, 'stopped');
    this.runner.cancelWaits(exec);
    exec.run.abort();
    return { stopDate: seconds(Date.now()) };
  }

  /**
   * Restart a failed, aborted or timed-out execution from the top-level state it was in when it
   * ended, with that state's input (Step Functions redrives from the unsuccessful state). An
   * execution that ended in a Fail state has nothing to rerun.
   */
  private redriveExecution(input: Json): unknown {
    const exec = this.execution(input.executionArn);
    const rec = exec.record;
    if (!['FAILED', 'ABORTED', 'TIMED_OUT'].includes(rec.status)) {
      throw new AwsServiceError(
        'ExecutionNotRedrivable',
        `Execution is ${rec.status}; only FAILED, ABORTED or TIMED_OUT executions can be redriven`,
      );
    }
    const machine = this.machine(rec.stateMachineArn);
    const history = this.history(rec.executionArn);
    const entered = [...history]
      .reverse()
      .map((e) => e.stateEnteredEventDetails as { name: string; input: string } | undefined)
      .find((d) => d && machine.prepared.topLevel.has(d.name));
    if (!entered) throw new AwsServiceError('ExecutionNotRedrivable', 'The execution never entered a state; start a new execution instead');
    if (machine.prepared.topLevel.get(entered.name) === 'Fail') {
      throw new AwsServiceError(
        'ExecutionNotRedrivable',
        `The execution ended in the Fail state "${entered.name}"; there is no failed task to rerun`,
      );
    }
    const now = Date.now();
    Object.assign(rec, { status: 'RUNNING', redriveCount: rec.redriveCount + 1, redriveDate: now });
    delete rec.stopDate;
    delete rec.error;
    delete rec.cause;
    delete rec.output;
    exec.stop = undefined;
    this.runner.persist(exec);
    this.runner.openRecorder(exec, history.at(-1)?.id ?? 0);
    exec.recorder!.add('ExecutionRedriven', { executionRedrivenEventDetails: { redriveCount: rec.redriveCount } }, now);
    this.runner.launch(exec, machine, entered.name, JSON.parse(entered.input));
    return { redriveDate: seconds(now) };
  }

  // ---- in-process API for the local cloud, CLI status and tests ----

  /** Resolves with the record once the execution has ended (immediately if it already has). */
  async waitForExecution(executionArn: string): Promise<ExecutionRecord> {
    const exec = this.execution(executionArn);
    // `done` settles after the final record is journaled, not when the status flips.
    return exec.done ?? exec.record;
  }

  /** The top-level state a running execution is in. */
  currentState(executionArn: string): string | undefined {
    return this.executions.get(executionArn)?.currentState;
  }

  records(): ExecutionRecord[] {
    return [...this.executions.values()].map((e) => e.record);
  }

  /** End every running execution (FAILED, as after a crash, so it can be redriven) and flush the journals. */
  async close(): Promise<void> {
    this.closed = true;
    const running = [...this.executions.values()].filter((e) => e.run);
    for (const e of running) {
      e.stop = { error: SHUTDOWN_ERROR, cause: SHUTDOWN_CAUSE };
      this.tokens.expire(e.record.executionArn, undefined, 'stopped');
      e.run!.abort();
    }
    await Promise.all(running.map((e) => e.done));
    await Promise.all([...this.executions.values()].map((e) => e.saving));
    await this.journal.close();
  }
}
