import type { S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod';
import { CorruptObjectError, getJson, listObjects, readLines, type Stored } from '../shared/s3json';
import type { HistoryDriftRun, HistoryVersion, ModelHistory } from './report';

/**
 * Reads each model's history from the artifact bucket (DESIGN.md "S3 layout"): the registry's
 * version records and production pointer, the drift reports, and the data capture, whose
 * lines are the requests the endpoints served (so traffic reads the same on AWS and locally).
 * Only objects that can fall in the week are read: capture partitions by their hour in the key.
 */
export interface CollectDeps {
  s3: S3Client;
  bucket: string;
}

const versionSchema = z.looseObject({
  version: z.string(),
  createdAt: z.string(),
  trigger: z.string().optional(),
  outcome: z.looseObject({ state: z.string(), at: z.string(), cause: z.string().optional() }).nullish(),
});
const productionSchema = z.looseObject({ version: z.string(), since: z.string() });
const driftSchema = z.looseObject({
  generatedAt: z.string(),
  verdict: z.string(),
  data: z.looseObject({ driftShare: z.number().nullish() }).nullish(),
  concept: z.looseObject({ verdict: z.string(), metric: z.string(), value: z.number().nullable() }).nullish(),
});

/**
 * A document, or undefined when it is missing or corrupt: a corrupt one is named in `notes`
 * (its key and the field at fault) and left out, so one bad record does not cost the week's report.
 */
async function readOrNote<T>(deps: CollectDeps, key: string, schema: z.ZodType<T>, notes: string[]): Promise<Stored<T> | undefined> {
  try {
    return await getJson(deps.s3, deps.bucket, key, schema);
  } catch (err) {
    if (!(err instanceof CorruptObjectError)) throw err;
    notes.push(err.message);
    return undefined;
  }
}

async function keysUnder(deps: CollectDeps, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const o of listObjects(deps.s3, deps.bucket, prefix)) out.push(o.key);
  return out;
}

async function versions(deps: CollectDeps, model: string, notes: string[]): Promise<HistoryVersion[]> {
  const keys = (await keysUnder(deps, `registry/${model}/versions/`)).filter((k) => k.endsWith('.json'));
  const records = await Promise.all(keys.map((k) => readOrNote(deps, k, versionSchema, notes)));
  return records.flatMap((r) => (r ? [{ ...r.value, outcome: r.value.outcome ?? null }] : []));
}

async function driftRuns(deps: CollectDeps, model: string, since: number, notes: string[]): Promise<HistoryDriftRun[]> {
  const keys = (await keysUnder(deps, `monitoring/${model}/`)).filter((k) => k.endsWith('/drift-report.json'));
  const runs = await Promise.all(keys.map((k) => readOrNote(deps, k, driftSchema, notes)));
  return runs.flatMap((r, i) =>
    r && Date.parse(r.value.generatedAt) >= since
      ? [
          {
            run: keys[i]!.split('/')[2]!,
            generatedAt: r.value.generatedAt,
            verdict: r.value.verdict,
            driftShare: r.value.data?.driftShare ?? null,
            concept: r.value.concept ?? null,
          },
        ]
      : [],
  );
}

/** `capture/<model>/<endpoint>/<variant>/yyyy/mm/dd/hh/<file>` -> the hour, or undefined for another layout. */
function captureHour(key: string): string | undefined {
  const m = /\/(\d{4})\/(\d{2})\/(\d{2})\/(\d{2})\/[^/]+$/.exec(key);
  return m ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:00:00.000Z` : undefined;
}

async function captured(deps: CollectDeps, model: string, since: number): Promise<ModelHistory['capturedByHour']> {
  const byHour = new Map<string, number>();
  for (const key of await keysUnder(deps, `capture/${model}/`)) {
    const hour = captureHour(key);
    // The hour partition holds requests of that hour: one that ended before the week is skipped unread.
    if (!hour || Date.parse(hour) + 3_600_000 <= since) continue;
    let n = 0;
    for await (const _line of readLines(deps.s3, deps.bucket, key)) n++;
    byHour.set(hour, (byHour.get(hour) ?? 0) + n);
  }
  return [...byHour].map(([hour, requests]) => ({ hour, requests }));
}

/** Every model with a registry folder, and its history from `since` on (the versions in full: a release may span the week's start). */
export async function collectHistory(deps: CollectDeps, since: Date, notes: string[] = []): Promise<ModelHistory[]> {
  const models = [...new Set((await keysUnder(deps, 'registry/')).map((k) => k.split('/')[1]!).filter(Boolean))].sort();
  return Promise.all(
    models.map(async (model) => {
      const [v, production, drift, capture] = await Promise.all([
        versions(deps, model, notes),
        readOrNote(deps, `registry/${model}/production.json`, productionSchema, notes),
        driftRuns(deps, model, since.getTime(), notes),
        captured(deps, model, since.getTime()),
      ]);
      return {
        model,
        versions: v,
        production: production ? { version: production.value.version, since: production.value.since } : null,
        driftRuns: drift,
        capturedByHour: capture,
      };
    }),
  );
}
