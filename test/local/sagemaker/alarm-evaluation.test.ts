import { describe, expect, it } from 'vitest';
import { alarmDefinition, type AlarmEvaluation, type TreatMissingData } from '../../../lib/config';
import {
  evaluateAlarm,
  evaluationRangeLength,
  type AlarmState,
  type Datapoint,
} from '../../../lib/local/services/sagemaker/alarm-evaluation';

/** `X` breaching, `0` within the threshold, `-` missing, oldest first (the guide's notation). */
const points = (s: string): Datapoint[] => s.split(' ').map((c) => (c === '-' ? undefined : c === 'X' ? 10 : 0));
const alarm = (n: number, m: number, treatMissingData: TreatMissingData): AlarmEvaluation =>
  alarmDefinition('5xx-rate', 5, { evaluationPeriods: n, datapointsToAlarm: m, treatMissingData });

describe('Function: evaluateAlarm', () => {
  // Amazon CloudWatch User Guide, "Configuring how CloudWatch alarms treat missing data": the
  // table for Evaluation Periods 3, Datapoints to Alarm 3, an evaluation range of 5 points.
  // "Retain current state" is checked from both OK and ALARM.
  it.each([
    ['0 - X - X', 'OK', 'OK', 'OK', 'OK'],
    ['- - - - 0', 'OK', 'OK', 'OK', 'OK'],
    ['- - - - -', 'INSUFFICIENT_DATA', 'current', 'ALARM', 'OK'],
    ['0 X X - X', 'ALARM', 'ALARM', 'ALARM', 'ALARM'],
    ['- - X - -', 'ALARM', 'current', 'ALARM', 'OK'],
  ])("follows the guide's table for 3 out of 3 on %s", (data, missing, ignore, breaching, notBreaching) => {
    // Prepare
    const range = points(data);
    const expected: Record<TreatMissingData, string> = { missing, ignore, breaching, notBreaching };

    // Act + Assess
    expect(range).toHaveLength(evaluationRangeLength(3));
    for (const treatment of Object.keys(expected) as TreatMissingData[]) {
      for (const previous of ['OK', 'ALARM'] as AlarmState[]) {
        const want = expected[treatment] === 'current' ? previous : expected[treatment];
        expect(evaluateAlarm(range, alarm(3, 3, treatment), previous).state, `${treatment} from ${previous}`).toBe(want);
      }
    }
  });

  it('alarms on M breaching points out of the last N, consecutive or not ("Alarm evaluation")', () => {
    // Act + Assess: 2 out of 3
    expect(evaluateAlarm(points('0 0 X 0 X'), alarm(3, 2, 'notBreaching'), 'OK').state).toBe('ALARM');
    expect(evaluateAlarm(points('X X 0 0 X'), alarm(3, 2, 'notBreaching'), 'OK').state).toBe('OK');
    // the most recent N real points decide when there are N of them, older ones do not
    expect(evaluateAlarm(points('X X 0 - 0'), alarm(2, 1, 'breaching'), 'ALARM').state).toBe('OK');
  });

  it('fills as few missing points as needed, with the treatment, and keeps every real one', () => {
    // Act + Assess: one real breaching point of 3 needed, 2 filled
    expect(evaluateAlarm(points('- - - X -'), alarm(3, 2, 'breaching'), 'OK').state).toBe('ALARM');
    expect(evaluateAlarm(points('- - - X -'), alarm(3, 2, 'notBreaching'), 'ALARM').state).toBe('OK');
    // one out of one: a breaching minute followed by minutes without traffic stays in ALARM
    expect(evaluateAlarm(points('X - -'), alarm(1, 1, 'notBreaching'), 'OK').state).toBe('ALARM');
  });

  it("compares with the operator of the alarm, and says why in CloudWatch's words", () => {
    // Prepare
    const atLeast = { ...alarm(1, 1, 'notBreaching'), comparisonOperator: 'GreaterThanOrEqualToThreshold' as const };
    const below = { ...alarm(1, 1, 'notBreaching'), comparisonOperator: 'LessThanThreshold' as const };

    // Act
    const verdict = evaluateAlarm([undefined, 5, undefined], atLeast, 'OK');

    // Assess
    expect(verdict).toEqual({
      state: 'ALARM',
      reason:
        'Threshold Crossed: 1 out of the last 1 datapoints [5] was greater than or equal to the threshold (5) (minimum 1 datapoint for OK -> ALARM transition).',
    });
    expect(evaluateAlarm([5], { ...atLeast, comparisonOperator: 'GreaterThanThreshold' }, 'OK').state).toBe('OK');
    expect(evaluateAlarm([4], below, 'OK').state).toBe('ALARM');
  });
});
