import type { TaskMeta } from './definition';

/**
 * Maps the engine's event log (StateEntered, StateExited, StateFailed, ...) to Step Functions'
 * execution history (TaskStateEntered, TaskScheduled, TaskSucceeded, ...) so that
 * `GetExecutionHistory`, `aws stepfunctions get-execution-history` and the console read
 * what they would read on AWS.
 */

/** One history event as Step Functions returns it (timestamps in epoch milliseconds here). */
export interface HistoryEvent {
  id: number;
  previousEventId: number;
  timestamp: number;
  type: string;
  [details: string]: unknown;
}

/** The subset of aws-local-stepfunctions' EventLog the mapper reads. */
export interface EngineEvent {
  type: string;
  timestamp: number;
  state?: { name: string; type: string; input?: unknown; output?: unknown };
  Error?: string;
  Cause?: unknown;
  index?: number;
  parentState?: { name: string; type: string };
}

const STATE_DETAIL_TYPES: Record<string, string> = {
  Task: 'Task',
  Choice: 'Choice',
  Wait: 'Wait',
  Pass: 'Pass',
  Succeed: 'Succeed',
  Fail: 'Fail',
  Map: 'Map',
  Parallel: 'Parallel',
};

/**
 * A JSON-text field of an event (an input, output or parameters) as recorded: the value
 * itself, turned into text when the history is read (toAwsEvent). Serializing it as text at
 * each step and then again inside the journal line was the largest cost of recording.
 */
export interface JsonText {
  $json: unknown;
}
/**
 * A state's input recorded as "the output of event `$sameAs`": the engine hands a state's
 * output object on as the next state's input, unchanged, so it is serialized once.
 */
export interface SameAs {
  $sameAs: number;
}
const json = (v: unknown): JsonText => ({ $json: v ?? null });
const isRecorded = (v: unknown): v is JsonText | SameAs => typeof v === 'object' && v !== null && ('$json' in v || '$sameAs' in v);

/**
 * The event as Step Functions returns it: every recorded JSON-text field as text.
 * @param outputOf the output text of an earlier event of the same execution, by id
 */
export function toAwsEvent(e: HistoryEvent, outputOf: (id: number) => string | undefined): HistoryEvent {
  let out: HistoryEvent | undefined;
  for (const [key, details] of Object.entries(e)) {
    if (!key.endsWith('EventDetails') || typeof details !== 'object' || details === null) continue;
    let converted: Record<string, unknown> | undefined;
    for (const [field, v] of Object.entries(details)) {
      if (!isRecorded(v)) continue;
      converted ??= { ...details };
      converted[field] = '$json' in v ? JSON.stringify(v.$json) : (outputOf(v.$sameAs) ?? 'null');
    }
    if (converted) (out ??= { ...e })[key] = converted;
  }
  return out ?? e;
}
const causeText = (c: unknown): string => (typeof c === 'string' ? c : c === undefined ? '' : JSON.stringify(c));

/** Per-execution recorder: numbers events and keeps the previous-event chain. */
export class HistoryRecorder {
  private lastId: number;
  /** The output object of the last StateExited event and that event's id (see SameAs). */
  lastOutput?: { value: unknown; id: number };
  /** Task states whose last attempt failed: their StateExited (after a Catch) is no TaskSucceeded. */
  readonly failed = new Set<string>();

  constructor(
    private readonly sink: (event: HistoryEvent) => void,
    lastId = 0,
  ) {
    this.lastId = lastId;
  }

  get lastEventId(): number {
    return this.lastId;
  }

  add(type: string, details: Record<string, unknown> = {}, timestamp = Date.now()): void {
    const event: HistoryEvent = { id: this.lastId + 1, previousEventId: this.lastId, timestamp, type, ...details };
    this.lastId = event.id;
    this.sink(event);
  }
}

function taskResource(meta: TaskMeta): { resourceType: string; resource: string } {
  if (meta.kind === 'lambda-invoke-wait') return { resourceType: 'lambda', resource: 'invoke.waitForTaskToken' };
  if (meta.kind === 'sagemaker-training-sync') return { resourceType: 'sagemaker', resource: 'createTrainingJob.sync' };
  return { resourceType: 'lambda', resource: 'invoke' };
}

/**
 * Record the Step Functions events for one engine event.
 * @param tasks the prepared definition's task states (kind per state name)
 * @param params the Parameters each task state was last invoked with
 * @param results the raw result each task state last returned
 */
export function recordEngineEvent(
  rec: HistoryRecorder,
  e: EngineEvent,
  tasks: Map<string, TaskMeta>,
  params: Map<string, unknown>,
  results: Map<string, unknown>,
): void {
  const name = e.state?.name ?? '';
  const meta = tasks.get(name);
  const type = meta?.originalType ?? STATE_DETAIL_TYPES[e.state?.type ?? ''] ?? e.state?.type ?? '';
  const ts = e.timestamp;
  const c: EventContext = { rec, e, name, meta, type, ts, params, results };
  switch (e.type) {
    case 'StateEntered':
      recordStateEntered(c);
      recordScheduled(c);
      break;
    case 'StateRetried':
      rec.failed.delete(name);
      recordScheduled(c);
      break;
    case 'StateExited':
      recordStateExited(c);
      break;
    case 'StateFailed':
      recordStateFailed(c);
      break;
    case 'MapIterationStarted':
    case 'MapIterationSucceeded':
    case 'MapIterationFailed':
      rec.add(
        e.type,
        { [`${e.type[0]!.toLowerCase()}${e.type.slice(1)}EventDetails`]: { name: e.parentState?.name, index: e.index } },
        c.ts,
      );
      break;
    default:
      // ExecutionStarted/Succeeded/Failed come from the service (it knows stop and redrive);
      // ParallelBranch* have no Step Functions counterpart.
      break;
  }
}

/** One engine event with what recordEngineEvent's steps read about its state. */
interface EventContext {
  rec: HistoryRecorder;
  e: EngineEvent;
  /** The state's name ('' for an event of no state). */
  name: string;
  /** The state's task kind, if it is a task state. */
  meta: TaskMeta | undefined;
  /** The state type as Step Functions names it (the prefix of `<type>StateEntered`). */
  type: string;
  ts: number;
  params: Map<string, unknown>;
  results: Map<string, unknown>;
}

/** `<type>StateEntered`, its input recorded as the previous state's output when it is that object. */
function recordStateEntered({ rec, e, name, type, ts }: EventContext): void {
  const input = e.state?.input;
  const same = rec.lastOutput && typeof input === 'object' && input !== null && input === rec.lastOutput.value;
  rec.add(
    `${type}StateEntered`,
    {
      stateEnteredEventDetails: {
        name,
        input: same ? { $sameAs: rec.lastOutput!.id } : json(input),
        inputDetails: { truncated: false },
      },
    },
    ts,
  );
}

/** A task state's Scheduled and Started events (Lambda's own pair for a direct Lambda ARN). */
function recordScheduled({ rec, e, name, meta, ts, params }: EventContext): void {
  if (!meta || meta.kind === 'scaled-wait') return;
  const p = params.get(name) ?? e.state?.input;
  if (meta.kind === 'lambda-direct') {
    rec.add('LambdaFunctionScheduled', { lambdaFunctionScheduledEventDetails: { resource: meta.resource, input: json(p) } }, ts);
    rec.add('LambdaFunctionStarted', {}, ts);
    return;
  }
  rec.add('TaskScheduled', { taskScheduledEventDetails: { ...taskResource(meta), region: 'us-east-1', parameters: json(p) } }, ts);
  rec.add('TaskStarted', { taskStartedEventDetails: taskResource(meta) }, ts);
}

/** A task's success (unless its last attempt failed and a Catch moved on), then `<type>StateExited`. */
function recordStateExited({ rec, e, name, meta, type, ts, results }: EventContext): void {
  if (meta && meta.kind !== 'scaled-wait' && !rec.failed.delete(name)) {
    const output = json(results.get(name) ?? null);
    if (meta.kind === 'lambda-direct') rec.add('LambdaFunctionSucceeded', { lambdaFunctionSucceededEventDetails: { output } }, ts);
    else rec.add('TaskSucceeded', { taskSucceededEventDetails: { ...taskResource(meta), output } }, ts);
  }
  rec.add(
    `${type}StateExited`,
    { stateExitedEventDetails: { name, output: json(e.state?.output), outputDetails: { truncated: false } } },
    ts,
  );
  rec.lastOutput = { value: e.state?.output, id: rec.lastEventId };
}

/** A task state's failure or timeout, remembered so its StateExited is no success. */
function recordStateFailed({ rec, e, name, meta, ts }: EventContext): void {
  if (!meta || meta.kind === 'scaled-wait') return;
  rec.failed.add(name);
  const error = e.Error ?? 'States.TaskFailed';
  const cause = causeText(e.Cause);
  if (meta.kind === 'lambda-direct') {
    rec.add(
      error === 'States.Timeout' ? 'LambdaFunctionTimedOut' : 'LambdaFunctionFailed',
      { lambdaFunctionFailedEventDetails: { error, cause } },
      ts,
    );
  } else if (error === 'States.Timeout') {
    rec.add('TaskTimedOut', { taskTimedOutEventDetails: { ...taskResource(meta), error, cause } }, ts);
  } else {
    rec.add('TaskFailed', { taskFailedEventDetails: { ...taskResource(meta), error, cause } }, ts);
  }
}
