import type { S3Client } from '@aws-sdk/client-s3';
import type { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { parseCsv, renderQualityReportHtml, type LoadTestSummary, type QualityReport } from '../ml';
import { readBundleFile } from '../shared/bundle';
import { InvalidDataError } from '../shared/errors';
import { instancesFromCsv, invokeBatch, type Instance } from '../shared/inference';
import { keys, s3Uri } from '../shared/names';
import { readVersion, updateVersion } from '../shared/registry';
import { getJson, putBody, putJson } from '../shared/s3json';
import { summarize, type LoadSample, type LoadStats } from './stats';

export interface LoadTestDeps {
  s3: S3Client;
  /** A client with `maxAttempts: 1`: a retried request would hide errors and flatter latency. */
  runtime: SageMakerRuntimeClient;
  bucket: string;
  /** Monotonic milliseconds. */
  clock: () => number;
  sleep: (ms: number) => Promise<void>;
  now: () => Date;
}

export interface LoadTestResult extends Omit<LoadStats, 'errorKinds'> {
  ok: boolean;
  failures: string[];
  reportUri: string;
}

/** Requests at most this many: a target of 10 000 RPS for an hour is a typo, not a test plan. */
const MAX_REQUESTS = 100_000;

/**
 * Drive an endpoint open-loop: request i is sent at start + i/rps whether or not earlier
 * ones have answered, so a slow endpoint shows up as latency instead of silently lowering
 * the rate (the coordinated-omission trap of closed-loop clients).
 */
export async function runOpenLoop(
  deps: Pick<LoadTestDeps, 'runtime' | 'clock' | 'sleep'>,
  endpointName: string,
  instances: readonly Instance[],
  rps: number,
  durationSeconds: number,
): Promise<{ samples: LoadSample[]; elapsedMs: number }> {
  const total = Math.min(MAX_REQUESTS, Math.max(1, Math.round(rps * durationSeconds)));
  const interval = 1000 / rps;
  const start = deps.clock();
  const inFlight: Promise<LoadSample>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + i * interval;
    const wait = due - deps.clock();
    if (wait > 0) await deps.sleep(wait);
    const instance = instances[i % instances.length]!;
    const sent = deps.clock();
    inFlight.push(
      invokeBatch(deps.runtime, endpointName, [instance]).then(
        () => ({ latencyMs: deps.clock() - sent, ok: true }),
        (err: unknown) => ({
          latencyMs: deps.clock() - sent,
          ok: false,
          error: (err as Error).name || 'Error',
          message: (err as Error).message,
        }),
      ),
    );
  }
  const samples = await Promise.all(inFlight);
  return { samples, elapsedMs: Math.max(deps.clock() - start, total * interval) };
}

/**
 * LoadTest: drive the staging endpoint with holdout rows at the manifest's rate for its
 * duration, gate p99 latency and error rate, write `reports/<model>/<version>/load-test.json`.
 */
export async function loadTest(
  deps: LoadTestDeps,
  input: { model: string; version: string; endpointName: string },
): Promise<LoadTestResult> {
  const { value: record } = await readVersion(deps, input.model, input.version);
  const m = record.manifest;
  const { text, uri: holdoutUri } = await readBundleFile(deps, record, 'data/holdout.csv');
  const instances = instancesFromCsv(parseCsv(text, holdoutUri), m.features, holdoutUri);
  if (instances.length === 0) throw new InvalidDataError(`${holdoutUri} has no rows to send`);

  const { rps, duration, p99Ms, maxErrorRate } = m.loadTest;
  const { samples, elapsedMs } = await runOpenLoop(deps, input.endpointName, instances, rps, duration);
  const { errorKinds, ...stats } = summarize(samples, elapsedMs);

  const failures: string[] = [];
  if (stats.requests - stats.errors === 0) failures.push('no request succeeded');
  else if (stats.p99Ms > p99Ms) failures.push(`p99 latency ${stats.p99Ms} ms is above the bound of ${p99Ms} ms`);
  if (stats.errorRate > maxErrorRate)
    failures.push(`error rate ${(stats.errorRate * 100).toFixed(2)}% is above the bound of ${(maxErrorRate * 100).toFixed(2)}%`);
  // The first error says what the failed requests got back (the model's answer and its log).
  const firstError = samples.find((s) => !s.ok);
  if (failures.length && firstError) failures.push(`first error: ${firstError.error}: ${firstError.message ?? ''}`.slice(0, 500));

  const reportKey = keys.report(input.model, input.version, 'load-test.json');
  const result: LoadTestResult = { ok: failures.length === 0, ...stats, failures, reportUri: s3Uri(deps.bucket, reportKey) };
  await putJson(deps.s3, deps.bucket, reportKey, {
    model: input.model,
    version: input.version,
    endpointName: input.endpointName,
    generatedAt: deps.now().toISOString(),
    target: { rps, durationSeconds: duration },
    bounds: { p99Ms, maxErrorRate },
    ...result,
    errorKinds,
  });
  await addToQualityReport(deps, input.model, input.version, {
    ok: result.ok,
    rps: stats.achievedRps,
    requests: stats.requests,
    errorRate: stats.errorRate,
    p50Ms: stats.p50Ms,
    p95Ms: stats.p95Ms,
    p99Ms: stats.p99Ms,
    bounds: { p99Ms, maxErrorRate },
  });
  await updateVersion(
    deps,
    input.model,
    input.version,
    (r) => ({
      ...r,
      loadTest: {
        ok: result.ok,
        p50Ms: stats.p50Ms,
        p95Ms: stats.p95Ms,
        p99Ms: stats.p99Ms,
        errorRate: stats.errorRate,
        achievedRps: stats.achievedRps,
        reportUri: result.reportUri,
      },
    }),
    deps.now,
  );
  return result;
}

/**
 * EvaluateModel writes the quality report before the load test has run; the approver reads
 * that one report, so the load test is added to it (JSON and HTML) once it has a result.
 * A version without a quality report (evaluation never wrote one) is left as it is.
 */
async function addToQualityReport(deps: LoadTestDeps, model: string, version: string, loadTest: LoadTestSummary): Promise<void> {
  const key = (file: string) => keys.report(model, version, file);
  const stored = await getJson<QualityReport>(deps.s3, deps.bucket, key('quality-report.json'));
  if (!stored) return;
  const report: QualityReport = { ...stored.value, loadTest };
  await putJson(deps.s3, deps.bucket, key('quality-report.json'), report);
  await putBody(deps.s3, deps.bucket, key('quality-report.html'), renderQualityReportHtml(report), 'text/html; charset=utf-8');
}
