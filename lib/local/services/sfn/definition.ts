import { validateAsl } from '../../../asl';
import { AwsServiceError } from '../../core/service';

/**
 * Turns a validated ASL definition into the copy the local engine (aws-local-stepfunctions)
 * runs, working around where the engine and Step Functions disagree:
 *
 * - A Task without TimeoutSeconds times out after 60 s in the engine, but never on Step
 *   Functions (the Lambda's own timeout bounds it). We give such tasks the longest timer
 *   Node.js can arm (~24.8 days); LocalLambda enforces the function timeout.
 * - The engine evaluates `TimeoutSecondsPath` against the *Parameters output*, Step Functions
 *   against the state input. We evaluate the path as a hidden Parameters field (Parameters
 *   see the state input) and point TimeoutSecondsPath at it; the task override strips it.
 * - `$$.Task.Token` is a per-execution constant in the engine's context; a sentinel stands in
 *   for it and the task override swaps in a fresh token per waiting task.
 * - With a time scale (`mlship up --fast`), Wait states become tasks whose override sleeps
 *   the scaled time (SecondsPath is only known at run time), and Retry intervals are scaled.
 */

/** Node's timers overflow above 2^31-1 ms and then fire immediately. */
export const MAX_TIMER_SECONDS = 2_147_483;
export const HIDDEN_TIMEOUT_KEY = '__mlshipTimeoutSeconds';
export const WAIT_RESOURCE = 'arn:aws:states:::mlship:scaledWait';

export type TaskKind = 'lambda-invoke' | 'lambda-invoke-wait' | 'lambda-direct' | 'scaled-wait' | 'sagemaker-training-sync';

/** The optimized SageMaker integration the release's training stage uses (runner.ts runs it as Step Functions does). */
export const SAGEMAKER_TRAINING_SYNC = 'arn:aws:states:::sagemaker:createTrainingJob.sync';

export interface TaskMeta {
  kind: TaskKind;
  /** The state's type in the original definition (Task, or Wait for a scaled wait). */
  originalType: 'Task' | 'Wait';
  resource: string;
}

export interface PreparedDefinition {
  /** The definition the engine runs. */
  engine: Record<string, unknown>;
  /** Every Task (and scaled Wait) state by name, nested Map/Parallel states included. */
  tasks: Map<string, TaskMeta>;
  /** Top-level state names and types, for current-state tracking and redrive. */
  topLevel: Map<string, string>;
  retryIntervalOverrides: Record<string, number[]>;
}

type Json = Record<string, unknown>;

function classify(resource: string, stateName: string): TaskKind {
  if (resource === 'arn:aws:states:::lambda:invoke') return 'lambda-invoke';
  if (resource === 'arn:aws:states:::lambda:invoke.waitForTaskToken') return 'lambda-invoke-wait';
  if (/^arn:aws:lambda:[^:]+:\d{12}:function:[^:]+(:[^:]+)?$/.test(resource)) return 'lambda-direct';
  if (resource === SAGEMAKER_TRAINING_SYNC) return 'sagemaker-training-sync';
  throw new AwsServiceError(
    'InvalidDefinition',
    `State "${stateName}": resource ${resource} is not supported by the local cloud (use arn:aws:states:::lambda:invoke[.waitForTaskToken], a Lambda function ARN or ${SAGEMAKER_TRAINING_SYNC})`,
  );
}

function prepareStates(states: Json, timeScale: number, out: PreparedDefinition): Json {
  const result: Json = {};
  for (const [name, raw] of Object.entries(states)) {
    const state = { ...(raw as Json) };
    if (out.tasks.has(name))
      throw new AwsServiceError('InvalidDefinition', `State name "${name}" is used twice; the local cloud needs unique state names`);
    if (state.Type === 'Task') {
      const resource = String(state.Resource);
      out.tasks.set(name, { kind: classify(resource, name), originalType: 'Task', resource });
      if (typeof state.TimeoutSecondsPath === 'string') {
        if (state.Parameters && typeof state.Parameters === 'object' && !Array.isArray(state.Parameters)) {
          state.Parameters = { ...(state.Parameters as Json), [`${HIDDEN_TIMEOUT_KEY}.$`]: state.TimeoutSecondsPath };
          state.TimeoutSecondsPath = `$.${HIDDEN_TIMEOUT_KEY}`;
        }
      } else if (state.TimeoutSeconds === undefined) {
        state.TimeoutSeconds = MAX_TIMER_SECONDS;
      }
      delete state.HeartbeatSeconds;
      delete state.HeartbeatSecondsPath;
    } else if (state.Type === 'Wait' && timeScale !== 1) {
      const params: Json = {};
      if (state.Seconds !== undefined) params.seconds = state.Seconds;
      if (state.SecondsPath !== undefined) params['seconds.$'] = state.SecondsPath;
      if (state.Timestamp !== undefined) params.timestamp = state.Timestamp;
      if (state.TimestampPath !== undefined) params['timestamp.$'] = state.TimestampPath;
      for (const k of ['Seconds', 'SecondsPath', 'Timestamp', 'TimestampPath']) delete state[k];
      Object.assign(state, {
        Type: 'Task',
        Resource: WAIT_RESOURCE,
        Parameters: params,
        ResultPath: null,
        TimeoutSeconds: MAX_TIMER_SECONDS,
      });
      out.tasks.set(name, { kind: 'scaled-wait', originalType: 'Wait', resource: WAIT_RESOURCE });
    } else if (state.Type === 'Map') {
      for (const key of ['Iterator', 'ItemProcessor'] as const) {
        const sub = state[key] as Json | undefined;
        if (sub) state[key] = { ...sub, States: prepareStates(sub.States as Json, timeScale, out) };
      }
    } else if (state.Type === 'Parallel') {
      state.Branches = (state.Branches as Json[]).map((b) => ({ ...b, States: prepareStates(b.States as Json, timeScale, out) }));
    }
    if (timeScale !== 1 && Array.isArray(state.Retry)) {
      out.retryIntervalOverrides[name] = (state.Retry as Json[]).map((r) =>
        Math.round(((r.IntervalSeconds as number | undefined) ?? 1) * 1000 * timeScale),
      );
    }
    result[name] = state;
  }
  return result;
}

/**
 * Prepare a definition for the engine.
 * @param timeScale 1 runs Wait states and Retry intervals at real time; 0.01 a hundred times faster
 * @throws AwsServiceError InvalidDefinition for a Task resource the local cloud cannot run
 */
export function prepareDefinition(definition: Json, timeScale: number): PreparedDefinition {
  const out: PreparedDefinition = { engine: {}, tasks: new Map(), topLevel: new Map(), retryIntervalOverrides: {} };
  for (const [name, s] of Object.entries(definition.States as Json)) out.topLevel.set(name, String((s as Json).Type));
  out.engine = { ...definition, States: prepareStates(definition.States as Json, timeScale, out) };
  return out;
}

/** Parse and validate a definition given to CreateStateMachine; InvalidDefinition names the problem. */
export function parseDefinition(text: string): Json {
  let definition: unknown;
  try {
    definition = JSON.parse(text);
  } catch (err) {
    throw new AwsServiceError('InvalidDefinition', `Invalid State Machine Definition: not valid JSON: ${(err as Error).message}`);
  }
  const result = validateAsl(definition);
  if (!result.isValid) throw new AwsServiceError('InvalidDefinition', `Invalid State Machine Definition: ${result.errorsText('; ')}`);
  return definition as Json;
}
