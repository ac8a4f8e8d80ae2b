import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseSchedule, ScheduleExpressionError, Scheduler, type Schedule } from '../../lib/local/services/scheduler/schedule';

const next = (expr: string, after: string, anchor?: string) =>
  parseSchedule(expr, anchor ? new Date(anchor) : undefined)
    .next(new Date(after))
    ?.toISOString();

describe('Function: parseSchedule', () => {
  describe('Method: next (cron)', () => {
    it.each([
      // 2026-11-27 is a Friday.
      [
        'cron(0 12 ? * MON-FRI *)',
        '2026-11-27T12:00:00.000Z',
        '2026-11-30T12:00:00.000Z',
        'weekdays at noon: strictly after a fire time, skips the weekend',
      ],
      ['cron(0 12 * * ? *)', '2026-11-27T11:59:59.500Z', '2026-11-27T12:00:00.000Z', 'daily, half a second before'],
      ['cron(*/15 * * * ? *)', '2026-11-27T12:07:30.000Z', '2026-11-27T12:15:00.000Z', 'every 15 minutes'],
      ['cron(0 10 L * ? *)', '2026-11-27T12:00:00.000Z', '2026-11-30T10:00:00.000Z', 'L: last day of the month'],
      ['cron(0 10 15W * ? *)', '2026-11-27T12:00:00.000Z', '2026-12-15T10:00:00.000Z', 'W: weekday nearest the 15th (a Tuesday)'],
      ['cron(0 10 1W * ? *)', '2026-11-27T12:00:00.000Z', '2026-12-01T10:00:00.000Z', 'W on the 1st, a Tuesday'],
      ['cron(0 10 ? * 6#3 *)', '2026-11-27T12:00:00.000Z', '2026-12-18T10:00:00.000Z', '#: third Friday (1 = Sunday)'],
      ['cron(0 6 ? * MON *)', '2026-11-27T12:00:00.000Z', '2026-11-30T06:00:00.000Z', 'weekly on Monday'],
      ['cron(30 2 1 JAN ? 2027-2030)', '2026-11-27T12:00:00.000Z', '2027-01-01T02:30:00.000Z', 'yearly, year range'],
    ])('%s after %s is %s (%s)', (expr, after, expected) => {
      expect(next(expr, after)).toBe(expected);
    });

    it('returns null when the year range is over', () => {
      expect(parseSchedule('cron(0 0 1 1 ? 2020)').next(new Date('2026-11-27T00:00:00Z'))).toBeNull();
    });
  });

  describe('Method: next (rate)', () => {
    it.each([
      ['rate(1 hour)', '2026-11-27T10:30:00.000Z', '2026-11-27T11:00:00.000Z'],
      ['rate(7 days)', '2026-11-27T10:00:00.000Z', '2026-12-04T10:00:00.000Z'],
      ['rate(5 minutes)', '2026-11-27T10:12:00.000Z', '2026-11-27T10:15:00.000Z'],
    ])('%s anchored at 10:00 after %s is %s', (expr, after, expected) => {
      expect(next(expr, after, '2026-11-27T10:00:00.000Z')).toBe(expected);
    });
  });

  describe('Method: validation', () => {
    it.each([
      ['cron(0 12 * * * *)', 'exactly one of day-of-month and day-of-week'],
      ['cron(0 12 ? * ? *)', 'exactly one of day-of-month and day-of-week'],
      ['cron(0 12 * *)', 'needs 6 fields'],
      ['cron(61 12 * * ? *)', 'minutes value 61'],
      ['cron(0 25 * * ? *)', 'hours value 25'],
      ['cron(0 12 ? * FRX *)', 'day-of-week field'],
      ['rate(1 hours)', 'singular unit'],
      ['rate(0 minutes)', 'positive'],
      ['every day', 'not an EventBridge schedule'],
    ])('%s is refused naming the problem', (expr, message) => {
      expect(() => parseSchedule(expr)).toThrow(ScheduleExpressionError);
      expect(() => parseSchedule(expr)).toThrow(message);
    });
  });
});

describe('Class: Scheduler', () => {
  describe('Method: set', () => {
    // A clock the test moves: a job that must not run again is checked after its next fire
    // time has passed, not after a pause that a loaded machine may not honour.
    beforeEach(() => vi.useFakeTimers());
    afterEach(() => vi.useRealTimers());

    it('runs a job at each next fire time and re-arms it, until removed', async () => {
      // Prepare: a schedule that fires every 30 ms
      const schedule: Schedule = { expression: 'test', next: (after) => new Date(after.getTime() + 30) };
      const scheduler = new Scheduler();
      let runs = 0;

      // Act
      scheduler.set({ id: 'm', schedule, run: () => void (runs += 1) });
      await vi.advanceTimersByTimeAsync(90);
      const fired = runs;
      const upcoming = scheduler.upcoming();
      scheduler.remove('m');
      await vi.advanceTimersByTimeAsync(300);

      // Assess
      expect(fired).toBe(3);
      expect(Object.keys(upcoming)).toEqual(['m']);
      expect(runs).toBe(fired);
      scheduler.close();
    });

    it('reports a failing job and keeps its schedule', async () => {
      // Prepare
      const errors: string[] = [];
      const scheduler = new Scheduler((err, id) => errors.push(`${id}: ${(err as Error).message}`));
      let runs = 0;

      // Act
      scheduler.set({
        id: 'm',
        schedule: { expression: 'test', next: (a) => new Date(a.getTime() + 20) },
        run: () => {
          runs += 1;
          throw new Error('boom');
        },
      });
      await vi.advanceTimersByTimeAsync(40);
      scheduler.close();

      // Assess
      expect(runs).toBe(2);
      expect(errors).toEqual(['m: boom', 'm: boom']);
    });
  });
});
