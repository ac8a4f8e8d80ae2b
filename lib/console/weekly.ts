/**
 * The weekly reports (lambdas/weekly-report) the console lists and shows: read from
 * `reports/weekly/<yyyy-mm-dd>.json` and checked with a zod schema of what the page shows.
 */
import * as z from 'zod';
import { ConsoleDataError, type S3Store } from './s3-store';

export const WEEKLY_PREFIX = 'reports/weekly/';
const DATE = /^\d{4}-\d{2}-\d{2}$/;

const count = z.number().int().nonnegative();
const weeklySchema = z.looseObject({
  deployment: z.string(),
  generatedAt: z.string(),
  from: z.string(),
  to: z.string(),
  totals: z.looseObject({ models: count, releases: count, succeeded: count, failed: count, requests: count }),
  notes: z.array(z.string()).optional(),
  models: z.array(
    z.looseObject({
      model: z.string(),
      releases: z.looseObject({
        total: count,
        byOutcome: z.record(z.string(), count),
        items: z.array(
          z.looseObject({
            version: z.string(),
            outcome: z.string(),
            at: z.string(),
            trigger: z.string().optional(),
            cause: z.string().optional(),
          }),
        ),
      }),
      production: z.looseObject({ version: z.string(), since: z.string(), ageDays: z.number() }).nullable(),
      drift: z.looseObject({
        runs: count,
        drifted: count,
        latest: z
          .looseObject({
            run: z.string(),
            verdict: z.string(),
            driftShare: z.number().nullable(),
            concept: z.looseObject({ verdict: z.string(), metric: z.string(), value: z.number().nullable() }).nullable(),
          })
          .nullable(),
      }),
      traffic: z.looseObject({ requests: count }),
    }),
  ),
});
export type WeeklyView = z.infer<typeof weeklySchema>;

/** The dates of the stored weekly reports, newest first. */
export async function weeklyReportDates(store: S3Store): Promise<string[]> {
  return (await store.keys(WEEKLY_PREFIX))
    .map((k) => k.key.slice(WEEKLY_PREFIX.length).replace(/\.json$/, ''))
    .filter((d) => DATE.test(d))
    .sort()
    .reverse();
}

/** One weekly report, or undefined when there is none for that date. */
export async function readWeeklyReport(store: S3Store, date: string): Promise<WeeklyView | undefined> {
  if (!DATE.test(date)) return undefined;
  const key = `${WEEKLY_PREFIX}${date}.json`;
  const doc = await store.json(key);
  if (doc === undefined) return undefined;
  const parsed = weeklySchema.safeParse(doc);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConsoleDataError(
      `s3://${store.bucket}/${key}: ${issue?.path.join('.') || '(document)'}: ${issue?.message ?? 'unexpected shape'}`,
    );
  }
  return parsed.data;
}
