import {
  alarmDefinition,
  BLUE_GREEN_LIMITS,
  blueGreenProblems,
  rollbackAlarmSpecs,
  type AlarmDefinition,
  type CapacitySize,
  type DiscoveredModel,
} from '../../../config';
import type { AlarmWatcher, WatchedAlarm } from './alarm-watch';
import { validation } from './errors';
import type { Fleet } from './fleet';

/**
 * Blue/green traffic shifting with auto-rollback, as UpdateEndpoint's DeploymentConfig
 * describes it. A rollback alarm is evaluated as CloudWatch evaluates it (alarm-watch.ts),
 * from its definition in `lib/config/rollback-alarms.ts`.
 */

/** An alarm of the local registry: what it watches and its threshold, the rest as the rollback alarms' timing. */
export type LocalAlarm = Pick<AlarmDefinition, 'metric' | 'threshold'> & Partial<AlarmDefinition>;

/** Definitions of the manifest's defaults, for an alarm only known by its name's suffix. */
const SUFFIX_DEFAULTS: [string, AlarmDefinition][] = [
  ['-5xx', alarmDefinition('5xx-rate', 0.01)],
  ['-p99-latency', alarmDefinition('p99-latency', 1000 * 1000)],
];

/** Looks an alarm name up: the registry, then the manifests; undefined when unknown. */
export type AlarmResolver = (alarmName: string) => AlarmDefinition | undefined;

/** A registry entry with the rollback timing filled in. */
export const completeAlarm = (a: LocalAlarm): AlarmDefinition => alarmDefinition(a.metric, a.threshold, a);

/**
 * The rollback alarms the manifests define (`rollbackAlarmSpecs`, the definitions CDK creates
 * on AWS), by name.
 */
export function manifestAlarms(models: readonly DiscoveredModel[], prefix: string): Map<string, AlarmDefinition> {
  const out = new Map<string, AlarmDefinition>();
  for (const { manifest } of models) {
    for (const { name, description: _description, ...definition } of rollbackAlarmSpecs(manifest, prefix)) out.set(name, definition);
  }
  return out;
}

export interface DeploymentPlan {
  type: 'ALL_AT_ONCE' | 'CANARY' | 'LINEAR';
  /** The new fleet's share of traffic (percent) after each step; the last is 100. */
  steps: number[];
  waitMs: number;
  terminationWaitMs: number;
  maxExecutionMs?: number;
  alarms: WatchedAlarm[];
}

type Dict = Record<string, unknown>;
const num = (v: unknown, field: string, min = 0): number | undefined => {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min) throw validation(`${field} must be a number >= ${min}`);
  return v;
};

/** AWS's wording for a member outside its model range (e.g. `trafficRoutingConfiguration.waitIntervalInSeconds`). */
const inRange = (v: number | undefined, member: string, min: number, max: number): void => {
  if (v === undefined) return;
  if (v < min)
    throw validation(
      `1 validation error detected: Value '${v}' at '${member}' failed to satisfy constraint: Member must have value greater than or equal to ${min}`,
    );
  if (v > max)
    throw validation(
      `1 validation error detected: Value '${v}' at '${member}' failed to satisfy constraint: Member must have value less than or equal to ${max}`,
    );
};

/**
 * Validate DeploymentConfig and turn it into steps and scaled waits. SageMaker's blue/green
 * rules (`lib/config/blue-green.ts`, the same the manifest is checked against) refuse what
 * UpdateEndpoint refuses, with its ValidationException.
 * @param greenInstances the new variant's instance count
 */
export function planDeployment(dc: Dict | undefined, greenInstances: number, timeScale: number, resolve: AlarmResolver): DeploymentPlan {
  const bg = (dc?.BlueGreenUpdatePolicy ?? {}) as Dict;
  const routing = (bg.TrafficRoutingConfiguration ?? { Type: 'ALL_AT_ONCE', WaitIntervalInSeconds: 0 }) as Dict;
  const f = 'DeploymentConfig.BlueGreenUpdatePolicy.TrafficRoutingConfiguration';
  const type = routing.Type;
  let steps: number[];
  if (type === 'ALL_AT_ONCE') steps = [100];
  else if (type === 'CANARY' || type === 'LINEAR') {
    const sizeField = type === 'CANARY' ? 'CanarySize' : 'LinearStepSize';
    const size = routing[sizeField] as Dict | undefined;
    if (!size) throw validation(`${f}.${sizeField} is required for Type ${type}`);
    const value = num(size.Value, `${f}.${sizeField}.Value`, 1)!;
    let pct: number;
    if (size.Type === 'CAPACITY_PERCENT') pct = value;
    else if (size.Type === 'INSTANCE_COUNT') pct = (value / Math.max(1, greenInstances)) * 100;
    else throw validation(`${f}.${sizeField}.Type must be one of "CAPACITY_PERCENT", "INSTANCE_COUNT"`);
    pct = Math.min(100, pct);
    if (type === 'CANARY') steps = pct >= 100 ? [100] : [pct, 100];
    else {
      steps = [];
      for (let s = pct; s < 100; s += pct) steps.push(Math.round(s * 100) / 100);
      steps.push(100);
    }
  } else throw validation(`${f}.Type must be one of "ALL_AT_ONCE", "CANARY", "LINEAR"`);
  const wait = num(routing.WaitIntervalInSeconds, `${f}.WaitIntervalInSeconds`) ?? 0;
  const termination = num(bg.TerminationWaitInSeconds, 'DeploymentConfig.BlueGreenUpdatePolicy.TerminationWaitInSeconds') ?? 0;
  const max = num(bg.MaximumExecutionTimeoutInSeconds, 'DeploymentConfig.BlueGreenUpdatePolicy.MaximumExecutionTimeoutInSeconds', 1);
  const member = 'deploymentConfig.blueGreenUpdatePolicy';
  inRange(wait, `${member}.trafficRoutingConfiguration.waitIntervalInSeconds`, 0, BLUE_GREEN_LIMITS.maxWaitSeconds);
  inRange(termination, `${member}.terminationWaitInSeconds`, 0, BLUE_GREEN_LIMITS.maxWaitSeconds);
  inRange(
    max,
    `${member}.maximumExecutionTimeoutInSeconds`,
    BLUE_GREEN_LIMITS.minExecutionTimeoutSeconds,
    BLUE_GREEN_LIMITS.maxExecutionTimeoutSeconds,
  );
  if (type !== 'ALL_AT_ONCE') {
    const sizeField = type === 'CANARY' ? 'CanarySize' : 'LinearStepSize';
    const size = routing[sizeField] as Dict;
    const problem = blueGreenProblems(
      type,
      { type: size.Type as CapacitySize['type'], value: size.Value as number },
      greenInstances,
      wait,
    ).find((p) => p.subject !== 'wait');
    if (problem) throw validation(`${f}.${sizeField}: ${problem.message}`);
  }
  const rawAlarms = ((dc?.AutoRollbackConfiguration as Dict | undefined)?.Alarms ?? []) as { AlarmName?: string }[];
  if (!Array.isArray(rawAlarms)) throw validation('DeploymentConfig.AutoRollbackConfiguration.Alarms must be a list of {AlarmName}');
  const alarms: DeploymentPlan['alarms'] = [];
  for (const [i, a] of rawAlarms.entries()) {
    if (typeof a?.AlarmName !== 'string' || !a.AlarmName)
      throw validation(`DeploymentConfig.AutoRollbackConfiguration.Alarms[${i}].AlarmName is required`);
    const definition = resolve(a.AlarmName) ?? SUFFIX_DEFAULTS.find(([suffix]) => a.AlarmName!.endsWith(suffix))?.[1];
    // An alarm the local cloud cannot evaluate would make a rollback silently impossible.
    if (!definition) {
      throw validation(
        `DeploymentConfig.AutoRollbackConfiguration.Alarms[${i}]: alarm "${a.AlarmName}" is unknown to the local cloud; register it (alarms / models options) or name it <prefix>-5xx or <prefix>-p99-latency`,
      );
    }
    alarms.push({ name: a.AlarmName, definition });
  }
  return {
    type,
    steps,
    waitMs: wait * 1000 * timeScale,
    terminationWaitMs: termination * 1000 * timeScale,
    maxExecutionMs: max === undefined ? undefined : max * 1000 * timeScale,
    alarms,
  };
}

/** A server of the new fleet that died while baking (even between requests). */
export function crashedServer(green: Fleet): string | undefined {
  for (const v of green.variants) {
    if (v.server.state === 'down' || v.server.state === 'starting') {
      const tail = v.server.stderrTail();
      return `model server of variant ${v.name} exited while baking (${v.server.describeExit()})${tail ? `; last stderr: ${tail}` : ''}`;
    }
  }
  return undefined;
}

export interface ShiftHooks {
  /** Route `pct` percent of traffic to the new fleet. */
  setGreenShare(pct: number): void;
  /** The deployment was abandoned (endpoint deleted, cloud closing). */
  cancelled(): boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Shift traffic step by step, baking after each step while the alarms are evaluated (as
 * CloudWatch would have by then) and the new servers watched.
 * Resolves with a rollback reason, or undefined when the new fleet took all traffic.
 */
export async function shiftTraffic(
  plan: DeploymentPlan,
  green: Fleet,
  hooks: ShiftHooks,
  alarms: AlarmWatcher,
): Promise<string | undefined> {
  const started = Date.now();
  const tick = Math.max(20, Math.min(200, plan.waitMs / 5));
  for (const pct of plan.steps) {
    hooks.setGreenShare(pct);
    const bakeEnd = Date.now() + plan.waitMs;
    for (;;) {
      if (hooks.cancelled()) return 'deployment cancelled';
      // An evaluation due before the bake ended counts even if this loop wakes up late.
      const reason = crashedServer(green) ?? alarms.advance(Math.min(Date.now(), bakeEnd));
      if (reason) return reason;
      if (plan.maxExecutionMs !== undefined && Date.now() - started > plan.maxExecutionMs) {
        return 'the deployment exceeded MaximumExecutionTimeoutInSeconds';
      }
      const left = bakeEnd - Date.now();
      if (left <= 0) break;
      await sleep(Math.min(tick, left));
    }
  }
  return undefined;
}
