/**
 * The quality gate: absolute bounds and no-regression against production, as TFX's
 * GenericChangeThreshold and MLflow's MetricThreshold define them — when both an absolute and a
 * relative tolerance are given, BOTH must hold; an empty tolerance allows no worsening at all.
 */
import { InvalidArgumentError } from './errors';
import type { GateCheck, GateFailure, MetricGate, Validation } from './types';

const fmt = (v: number) => (Number.isInteger(v) ? String(v) : v.toPrecision(6).replace(/\.?0+$/, ''));

/** Allowed worsening against a production value: the smaller of the given tolerances (both must hold); none given -> 0. */
export function gateAllowance(gate: MetricGate, base: number): number {
  const allowances: number[] = [];
  if (gate.tolerance.absolute !== undefined) allowances.push(gate.tolerance.absolute);
  if (gate.tolerance.relative !== undefined) allowances.push(gate.tolerance.relative * Math.abs(base));
  return allowances.length ? Math.min(...allowances) : 0;
}

/**
 * Run the manifest's metric gates on the candidate's metrics.
 * @param gates the manifest's `evaluation.metrics`
 * @param candidate the candidate's metrics (EvaluationResult.metrics)
 * @param production production's metrics; absent for the first version, which skips the comparison and says so in `notes`
 * @returns the `validation.json` document
 */
export function runGate(
  gates: Readonly<Record<string, MetricGate>>,
  candidate: Readonly<Record<string, number>>,
  production?: Readonly<Record<string, number>>,
): Validation {
  const names = Object.keys(gates);
  if (names.length === 0) throw new InvalidArgumentError('no metric gates: the manifest must name at least one evaluation metric');
  const checks: GateCheck[] = [];
  const notes: string[] = [];
  if (!production) notes.push('no production version: the no-regression comparison was skipped (first version)');
  for (const metric of names) {
    const gate = gates[metric]!;
    const higher = gate.direction === 'higher';
    const raw = candidate[metric];
    const value = typeof raw === 'number' && Number.isFinite(raw) ? raw : null;
    if (value === null) {
      checks.push({
        metric,
        kind: 'present',
        ok: false,
        value: null,
        bound: gate.bound ?? null,
        baseline: production?.[metric] ?? null,
        message:
          raw === undefined ? `${metric} is missing from the candidate's metrics` : `${metric} is not a finite number (${String(raw)})`,
      });
      continue;
    }
    checks.push({
      metric,
      kind: 'present',
      ok: true,
      value,
      bound: null,
      baseline: null,
      message: `${metric} = ${fmt(value)} is present and finite`,
    });
    if (gate.bound !== undefined) {
      const ok = higher ? value >= gate.bound : value <= gate.bound;
      checks.push({
        metric,
        kind: 'bound',
        ok,
        value,
        bound: gate.bound,
        baseline: null,
        message: `${metric} = ${fmt(value)} ${ok ? 'meets' : 'violates'} the bound ${higher ? '>=' : '<='} ${fmt(gate.bound)}`,
      });
    }
    if (!production) continue;
    const base = production[metric];
    if (typeof base !== 'number' || !Number.isFinite(base)) {
      notes.push(`production has no finite ${metric}: the no-regression check of ${metric} was skipped`);
      continue;
    }
    const allowed = gateAllowance(gate, base);
    const limit = higher ? base - allowed : base + allowed;
    const ok = higher ? value >= limit : value <= limit;
    const delta = value - base;
    checks.push({
      metric,
      kind: 'no-regression',
      ok,
      value,
      bound: limit,
      baseline: base,
      message: `${metric} = ${fmt(value)} vs production ${fmt(base)} (${delta >= 0 ? '+' : ''}${fmt(delta)}); ${ok ? 'within' : 'exceeds'} the allowed worsening of ${fmt(allowed)} (limit ${higher ? '>=' : '<='} ${fmt(limit)})`,
    });
  }
  const failures: GateFailure[] = checks
    .filter((c) => !c.ok)
    .map(({ metric, value, bound, baseline, message }) => ({ metric, value, bound, baseline, message }));
  return { validation_ok: failures.length === 0, comparedWithProduction: production !== undefined, failures, checks, notes };
}
