import awsCronParser from 'aws-cron-parser';

/**
 * EventBridge schedule expressions: `rate(N unit)` and the 6-field `cron(...)` flavour
 * (minutes hours day-of-month month day-of-week year, with `?`, `L`, `W`, `#`).
 *
 * Next-fire computation is aws-cron-parser's (it implements AWS's flavour, L/W/# included);
 * that library assumes an already valid expression, so the field syntax is checked here first
 * and a bad expression is a clear error instead of a TypeError from inside the parser.
 */

export class ScheduleExpressionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScheduleExpressionError';
  }
}

export interface Schedule {
  expression: string;
  /** The first fire time strictly after `after`. */
  next(after: Date): Date | null;
}

const MONTHS = 'JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC';
const DAYS = 'SUN|MON|TUE|WED|THU|FRI|SAT';
const num = '\\d{1,4}';
const list = (item: string): RegExp => new RegExp(`^(${item})(,(${item}))*$`, 'i');
const range = (atom: string): string => `(\\*|(?:${atom})(-(?:${atom}))?)(\\/\\d{1,4})?`;
const FIELDS: Array<{ name: string; rule: RegExp; min: number; max: number }> = [
  { name: 'minutes', rule: list(range(num)), min: 0, max: 59 },
  { name: 'hours', rule: list(range(num)), min: 0, max: 23 },
  {
    name: 'day-of-month',
    rule: /^(\?|L|L-\d{1,2}|\d{1,2}W|LW|((\*|\d{1,2}(-\d{1,2})?)(\/\d{1,2})?)(,((\*|\d{1,2}(-\d{1,2})?)(\/\d{1,2})?))*)$/i,
    min: 1,
    max: 31,
  },
  { name: 'month', rule: list(range(`${num}|${MONTHS}`)), min: 1, max: 12 },
  {
    name: 'day-of-week',
    rule: new RegExp(`^(\\?|([1-7]|${DAYS})L|([1-7]|${DAYS})#[1-5]|L|${list(range(`${num}|${DAYS}`)).source.slice(1, -1)})$`, 'i'),
    min: 1,
    max: 7,
  },
  { name: 'year', rule: list(range(num)), min: 1970, max: 2199 },
];

const UNIT_SECONDS: Record<string, number> = { minute: 60, minutes: 60, hour: 3600, hours: 3600, day: 86400, days: 86400 };

function checkCron(fields: string[], expression: string): void {
  if (fields.length !== 6)
    throw new ScheduleExpressionError(
      `${expression}: cron needs 6 fields (minutes hours day-of-month month day-of-week year), got ${fields.length}`,
    );
  fields.forEach((f, i) => {
    const spec = FIELDS[i]!;
    if (!spec.rule.test(f)) throw new ScheduleExpressionError(`${expression}: ${spec.name} field "${f}" is not valid`);
    for (const n of f.match(/\d+/g) ?? []) {
      // Steps (/n), nth (#n) and L-n offsets are not field values.
      if (f.includes(`/${n}`) || f.includes(`#${n}`) || f.includes(`L-${n}`)) continue;
      if (Number(n) < spec.min || Number(n) > spec.max) {
        throw new ScheduleExpressionError(`${expression}: ${spec.name} value ${n} is outside ${spec.min}-${spec.max}`);
      }
    }
  });
  const [, , dom, , dow] = fields;
  if ((dom === '?') === (dow === '?')) {
    throw new ScheduleExpressionError(`${expression}: exactly one of day-of-month and day-of-week must be "?"`);
  }
}

/**
 * Parse an EventBridge schedule expression.
 * @param anchor when a rate schedule starts counting (EventBridge: the rule's creation time)
 * @throws ScheduleExpressionError naming the expression and the bad part
 */
export function parseSchedule(expression: string, anchor = new Date()): Schedule {
  const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression.trim());
  if (rate) {
    const n = Number(rate[1]);
    if (n < 1) throw new ScheduleExpressionError(`${expression}: the rate must be a positive number`);
    if ((n === 1) !== !rate[2]!.endsWith('s')) {
      throw new ScheduleExpressionError(`${expression}: use the singular unit for 1 and the plural otherwise, as EventBridge requires`);
    }
    const periodMs = n * UNIT_SECONDS[rate[2]!]! * 1000;
    return {
      expression,
      next(after) {
        const k = Math.floor((after.getTime() - anchor.getTime()) / periodMs) + 1;
        return new Date(anchor.getTime() + Math.max(1, k) * periodMs);
      },
    };
  }
  const cron = /^cron\((.*)\)$/.exec(expression.trim());
  if (!cron)
    throw new ScheduleExpressionError(
      `${expression}: not an EventBridge schedule; use rate(N unit) or cron(min hour day-of-month month day-of-week year)`,
    );
  const fields = cron[1]!.trim().split(/\s+/);
  checkCron(fields, expression);
  let parsed: ReturnType<typeof awsCronParser.parse>;
  try {
    parsed = awsCronParser.parse(fields.join(' '));
  } catch (err) {
    throw new ScheduleExpressionError(`${expression}: ${(err as Error).message}`);
  }
  return {
    expression,
    next(after) {
      // The parser answers "at or after the next whole minute"; ask from the next millisecond.
      return awsCronParser.next(parsed, new Date(after.getTime() + 1));
    },
  };
}

/** Longest delay a Node.js timer can wait without overflowing. */
const MAX_TIMER_MS = 2_147_483_647;

export interface ScheduledJob {
  id: string;
  schedule: Schedule;
  run(): void | Promise<void>;
}

/**
 * Fires jobs at their schedules' next times (wall clock, never scaled). Long delays are
 * re-armed in steps, since a Node.js timer cannot wait more than ~24.8 days.
 */
export class Scheduler {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly nextAt = new Map<string, Date>();

  constructor(private readonly onError: (err: unknown, job: string) => void = () => undefined) {}

  set(job: ScheduledJob): void {
    this.remove(job.id);
    const arm = (after: Date): void => {
      const at = job.schedule.next(after);
      if (!at) return;
      this.nextAt.set(job.id, at);
      const wait = (): void => {
        const delay = at.getTime() - Date.now();
        const timer = setTimeout(
          () => {
            if (at.getTime() > Date.now()) return wait();
            Promise.resolve()
              .then(() => job.run())
              .catch((err) => this.onError(err, job.id));
            arm(at);
          },
          Math.min(Math.max(0, delay), MAX_TIMER_MS),
        );
        timer.unref();
        this.timers.set(job.id, timer);
      };
      wait();
    };
    arm(new Date());
  }

  remove(id: string): void {
    clearTimeout(this.timers.get(id));
    this.timers.delete(id);
    this.nextAt.delete(id);
  }

  /** When each job fires next. */
  upcoming(): Record<string, string> {
    return Object.fromEntries([...this.nextAt].map(([id, d]) => [id, d.toISOString()]));
  }

  close(): void {
    for (const id of [...this.timers.keys()]) this.remove(id);
  }
}
