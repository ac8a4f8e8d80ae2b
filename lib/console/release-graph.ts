/**
 * A release's state graph: the states of the ASL definition (DescribeStateMachine) with the
 * status, timings, input and output of each, derived from GetExecutionHistory. Pure: no I/O,
 * so the same code serves the local cloud and AWS and is tested with plain fixtures.
 */
import type { HistoryEvent } from '@aws-sdk/client-sfn';

export type StateStatus = 'not-reached' | 'running' | 'waiting' | 'succeeded' | 'caught' | 'failed';

export interface StateVisit {
  enteredAt?: Date;
  exitedAt?: Date;
  input?: string;
  output?: string;
  /** The error of a failure inside the visit (caught or not). */
  error?: { error?: string; cause?: string };
}

export interface GraphState {
  name: string;
  type: string;
  comment?: string;
  /** On the path from StartAt to success; other states are branches (failures, records). */
  onMainPath: boolean;
  status: StateStatus;
  visits: StateVisit[];
  /** The state the execution is in (running) or ended in. */
  current: boolean;
  /** Total time spent in the state over all visits, in milliseconds, when known. */
  durationMs?: number;
  /** A build or task log found in the state's output (URL or s3:// URI). */
  logLink?: string;
}

export interface ReleaseGraph {
  states: GraphState[];
  executionStatus: string;
  currentState?: string;
}

interface AslState {
  Type?: string;
  Comment?: string;
  Next?: string;
  Default?: string;
  End?: boolean;
  Choices?: { Next?: string }[];
  Catch?: { Next?: string }[];
  Resource?: string;
}
interface AslDefinition {
  StartAt?: string;
  States?: Record<string, AslState>;
}

/** The definition could not be parsed; names what was wrong. */
export class DefinitionParseError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DefinitionParseError';
  }
}

export function parseDefinition(definition: string): AslDefinition {
  try {
    const parsed = JSON.parse(definition) as AslDefinition;
    if (!parsed.States || typeof parsed.States !== 'object') throw new Error('no "States" object');
    return parsed;
  } catch (err) {
    throw new DefinitionParseError(`state machine definition is not valid ASL JSON: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * The happy path: a depth-first walk from StartAt that follows Next and the Choice rules in
 * order (never Catch) to the first Succeed state, not revisiting states (polling loops).
 */
export function mainPath(def: AslDefinition): string[] {
  const states = def.States ?? {};
  const seen = new Set<string>();
  const walk = (name: string | undefined): string[] | undefined => {
    if (!name || seen.has(name) || !states[name]) return undefined;
    seen.add(name);
    const s = states[name]!;
    if (s.Type === 'Succeed' || (s.End && s.Type !== 'Fail')) return [name];
    if (s.Type === 'Fail') return undefined;
    const nexts = s.Type === 'Choice' ? [...(s.Choices ?? []).map((c) => c.Next), s.Default] : [s.Next];
    for (const n of nexts) {
      const rest = walk(n);
      if (rest) return [name, ...rest];
    }
    return undefined;
  };
  return walk(def.StartAt) ?? [];
}

const FAILURE_EVENTS = /^(Task|LambdaFunction|Activity|Execution|MapRun)?(Failed|TimedOut|StartFailed|ScheduleFailed|SubmitFailed)$/;

/** Build the graph from a definition (JSON string) and an execution's history events in order. */
export function buildReleaseGraph(definition: string, events: readonly HistoryEvent[], executionStatus: string): ReleaseGraph {
  const def = parseDefinition(definition);
  const main = mainPath(def);
  const visits = new Map<string, StateVisit[]>();
  const open: string[] = [];

  for (const ev of events) {
    const type = ev.type ?? '';
    if (type.endsWith('StateEntered') && ev.stateEnteredEventDetails?.name) {
      const name = ev.stateEnteredEventDetails.name;
      const list = visits.get(name) ?? [];
      list.push({ enteredAt: ev.timestamp, input: ev.stateEnteredEventDetails.input });
      visits.set(name, list);
      open.push(name);
    } else if (type.endsWith('StateExited') && ev.stateExitedEventDetails?.name) {
      const name = ev.stateExitedEventDetails.name;
      const last = visits.get(name)?.at(-1);
      if (last) {
        last.exitedAt = ev.timestamp;
        last.output = ev.stateExitedEventDetails.output;
      }
      const i = open.lastIndexOf(name);
      if (i >= 0) open.splice(i, 1);
    } else if (FAILURE_EVENTS.test(type) && !type.startsWith('Execution')) {
      const name = open.at(-1);
      const last = name ? visits.get(name)?.at(-1) : undefined;
      const details = failureDetails(ev);
      if (last) last.error = details;
    }
  }

  const running = executionStatus === 'RUNNING';
  const lastEntered = [...events].reverse().find((e) => (e.type ?? '').endsWith('StateEntered'))?.stateEnteredEventDetails?.name;
  const currentState = running ? (open.at(-1) ?? lastEntered) : lastEntered;
  const ordered = [...main, ...Object.keys(def.States ?? {}).filter((n) => !main.includes(n))];

  const states = ordered.map((name): GraphState => {
    const asl = def.States![name]!;
    const v = visits.get(name) ?? [];
    const last = v.at(-1);
    let status: StateStatus = 'not-reached';
    if (last) {
      if (!last.exitedAt) {
        if (running) status = asl.Resource?.endsWith('.waitForTaskToken') ? 'waiting' : 'running';
        else status = 'failed';
      } else status = last.error ? 'caught' : 'succeeded';
      if (asl.Type === 'Fail') status = 'failed';
    }
    const durations = v.filter((x) => x.enteredAt && x.exitedAt).map((x) => x.exitedAt!.getTime() - x.enteredAt!.getTime());
    if (last && !last.exitedAt && last.enteredAt && running) durations.push(Date.now() - last.enteredAt.getTime());
    return {
      name,
      type: asl.Type ?? 'Unknown',
      comment: asl.Comment,
      onMainPath: main.includes(name),
      status,
      visits: v,
      current: name === currentState,
      durationMs: durations.length ? durations.reduce((a, b) => a + b, 0) : undefined,
      logLink: findLogLink(v),
    };
  });
  return { states, executionStatus, currentState };
}

function failureDetails(ev: HistoryEvent): { error?: string; cause?: string } {
  const d =
    ev.taskFailedEventDetails ??
    ev.lambdaFunctionFailedEventDetails ??
    ev.taskTimedOutEventDetails ??
    ev.activityFailedEventDetails ??
    ev.taskStartFailedEventDetails ??
    ev.taskSubmitFailedEventDetails;
  return { error: d?.error, cause: d?.cause };
}

const LOG_KEY = /(log(s|url|link|uri|group|stream)?|deeplink)$/i;

/**
 * A log link the state itself produced (latest visit first): a URL or s3:// URI under a key
 * like `logLink` that is in the visit's output but not in its input. Outputs carry the whole
 * state forward, so without the input check every later state would show the build log.
 */
function findLogLink(visits: StateVisit[]): string | undefined {
  for (const v of [...visits].reverse()) {
    const before = new Set(links(v.input));
    const hit = links(v.output).find((l) => !before.has(l));
    if (hit) return hit;
  }
  return undefined;
}

function links(text: string | undefined): string[] {
  if (!text) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return [];
  }
  const out: string[] = [];
  const walk = (value: unknown, depth: number): void => {
    if (depth > 6 || !value || typeof value !== 'object') return;
    for (const [k, v] of Object.entries(value)) {
      if (typeof v === 'string' && LOG_KEY.test(k) && /^(https?|s3|file):\/\//.test(v)) out.push(v);
      else walk(v, depth + 1);
    }
  };
  walk(parsed, 0);
  return out;
}

/**
 * The graph from the history alone, for callers that may read the history but not the
 * definition (states:DescribeStateMachine is not in every approver policy): the states the
 * execution entered, in order of first entry.
 */
export function graphFromHistory(events: readonly HistoryEvent[], executionStatus: string): ReleaseGraph {
  const names: string[] = [];
  const types = new Map<string, string>();
  const callbacks = new Set<string>();
  let last: string | undefined;
  for (const ev of events) {
    // A callback task (waitForTaskToken) shows in its TaskScheduled event's resource.
    if (ev.type === 'TaskScheduled' && last && /waitForTaskToken$/.test(ev.taskScheduledEventDetails?.resource ?? '')) callbacks.add(last);
    const name = ev.stateEnteredEventDetails?.name;
    if (!name || !(ev.type ?? '').endsWith('StateEntered')) continue;
    last = name;
    if (types.has(name)) continue;
    names.push(name);
    types.set(name, (ev.type ?? '').replace(/StateEntered$/, '') || 'Unknown');
  }
  const states: Record<string, AslState> = {};
  names.forEach((n, i) => {
    states[n] = {
      Type: types.get(n),
      ...(callbacks.has(n) ? { Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken' } : {}),
      ...(i < names.length - 1 ? { Next: names[i + 1] } : { End: true }),
    };
  });
  const graph = buildReleaseGraph(JSON.stringify({ StartAt: names[0], States: states }), events, executionStatus);
  for (const st of graph.states) st.onMainPath = true;
  return graph;
}
