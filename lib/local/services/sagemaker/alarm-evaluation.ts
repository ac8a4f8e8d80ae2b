import type { AlarmEvaluation, ComparisonOperator } from '../../../config';

/**
 * CloudWatch's rule for the state of a metric alarm, from its data points, written by hand
 * because no library implements it. Sources (Amazon CloudWatch User Guide):
 *
 * - "Alarm evaluation": Evaluation Periods (N) is the number of the most recent periods, or
 *   data points, to evaluate; Datapoints to Alarm (M) is the number of them that must be
 *   breaching for ALARM; they need not be consecutive.
 * - "Configuring how CloudWatch alarms treat missing data": CloudWatch retrieves more data
 *   points than N, the *evaluation range* (5 for the guide's 3-out-of-3 example). Then:
 *   1. at least N real data points in the range: the most recent N real ones decide, and the
 *      missing-data treatment is not used;
 *   2. fewer than N: the missing ones are filled per TreatMissingData, as few as possible
 *      (every real point in the range counts): `breaching` fills breaching, `notBreaching`
 *      fills not breaching, `ignore` keeps the current state when the real points do not
 *      decide, and `missing` goes to INSUFFICIENT_DATA when every point in the range is
 *      missing;
 *   3. "avoiding premature transitions": with `missing`, an alarm goes to ALARM when the
 *      oldest breaching point among the last N periods is at least M periods old and every
 *      more recent one is breaching or missing.
 *   The guide's table (N = M = 3, range 5; `-` missing, `X` breaching, `0` not breaching):
 *
 *     points      missing            ignore          breaching  notBreaching
 *     0 - X - X   OK                 OK              OK         OK
 *     - - - - 0   OK                 OK              OK         OK
 *     - - - - -   INSUFFICIENT_DATA  current state   ALARM      OK
 *     0 X X - X   ALARM              ALARM           ALARM      ALARM
 *     - - X - -   ALARM              current state   ALARM      OK
 *
 * The guide gives no formula for the range; {@link evaluationRangeLength} takes the example's
 * N + 2. Under case 1 a breaching minute keeps an alarm in ALARM while the next minutes are
 * missing (no traffic), as on AWS.
 */

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
/** One period's value; undefined when the period has no data point. */
export type Datapoint = number | undefined;

/** Data points CloudWatch retrieves for an alarm of N evaluation periods (the guide's example: 5 for 3). */
export const evaluationRangeLength = (evaluationPeriods: number): number => evaluationPeriods + 2;

const COMPARE: Record<ComparisonOperator, { test: (v: number, t: number) => boolean; words: string }> = {
  GreaterThanThreshold: { test: (v, t) => v > t, words: 'greater than' },
  GreaterThanOrEqualToThreshold: { test: (v, t) => v >= t, words: 'greater than or equal to' },
  LessThanThreshold: { test: (v, t) => v < t, words: 'less than' },
  LessThanOrEqualToThreshold: { test: (v, t) => v <= t, words: 'less than or equal to' },
};

export const breaches = (value: number, alarm: Pick<AlarmEvaluation, 'comparisonOperator' | 'threshold'>): boolean =>
  COMPARE[alarm.comparisonOperator].test(value, alarm.threshold);

export interface AlarmVerdict {
  state: AlarmState;
  /** In CloudWatch's StateReason words. */
  reason: string;
}

const fmt = (v: number) => String(Number(v.toPrecision(4)));

/**
 * The alarm's state after an evaluation.
 * @param range the evaluation range, oldest first, most recent last
 * @param previous the state before this evaluation (kept by `ignore`, and by `missing` when undecided)
 */
export function evaluateAlarm(range: readonly Datapoint[], alarm: AlarmEvaluation, previous: AlarmState): AlarmVerdict {
  const n = alarm.evaluationPeriods;
  const m = alarm.datapointsToAlarm;
  const words = COMPARE[alarm.comparisonOperator].words;
  const real = range.filter((v): v is number => v !== undefined);
  const crossed = (state: AlarmState, points: number[], breaching: number, filled = 0): AlarmVerdict => ({
    state,
    reason: `Threshold ${state === 'ALARM' ? 'Crossed' : 'not crossed'}: ${breaching} out of the last ${n} datapoints [${points.map(fmt).join(', ')}${filled ? `${points.length ? ', ' : ''}${filled} missing, treated as ${alarm.treatMissingData}` : ''}] ${breaching === 1 ? 'was' : 'were'} ${words} the threshold (${fmt(alarm.threshold)}) (minimum ${m} datapoint${m === 1 ? '' : 's'} for OK -> ALARM transition).`,
  });

  // Case 1: enough real data points; the missing-data treatment plays no part.
  if (real.length >= n) {
    const last = real.slice(-n);
    const b = last.filter((v) => breaches(v, alarm)).length;
    return crossed(b >= m ? 'ALARM' : 'OK', last, b);
  }

  // Case 2: fill the missing ones, as few as possible.
  const filled = n - real.length;
  const b = real.filter((v) => breaches(v, alarm)).length;
  switch (alarm.treatMissingData) {
    case 'breaching':
      return crossed(b + filled >= m ? 'ALARM' : 'OK', real, b + filled, filled);
    case 'notBreaching':
      return crossed(b >= m ? 'ALARM' : 'OK', real, b, filled);
    default: {
      if (real.length === 0) {
        return alarm.treatMissingData === 'missing'
          ? { state: 'INSUFFICIENT_DATA', reason: `Insufficient Data: ${range.length} datapoints were unknown.` }
          : { state: previous, reason: `Missing data ignored: the alarm stays ${previous}.` };
      }
      if (b >= m) return crossed('ALARM', real, b, filled);
      if (b + filled < m) return crossed('OK', real, b, filled);
      // Undecided: the missing points could go either way.
      if (alarm.treatMissingData === 'missing' && prematureAlarm(range.slice(-n), alarm)) return crossed('ALARM', real, b, filled);
      return {
        state: previous,
        reason: `Undecided on ${real.length} of ${n} datapoints with the rest missing: the alarm stays ${previous}.`,
      };
    }
  }
}

/** Case 3: the oldest breaching point of the last N periods is at least M periods old, and nothing more recent is within the threshold. */
function prematureAlarm(lastN: readonly Datapoint[], alarm: AlarmEvaluation): boolean {
  const oldest = lastN.findIndex((v) => v !== undefined && breaches(v, alarm));
  if (oldest < 0) return false;
  const age = lastN.length - oldest;
  return age >= alarm.datapointsToAlarm && lastN.slice(oldest + 1).every((v) => v === undefined || breaches(v, alarm));
}
