/**
 * Child process of bench/drift-window: one drift check against the local S3, so its peak RSS is the
 * check's own. Prints one JSON line.
 *
 *     node --import tsx check.ts stream <s3-url> <bucket> <model> <now ISO> <since ISO>
 *     node --import tsx check.ts memory <s3-url> <bucket> <model> <now ISO> <since ISO>
 *
 * `stream` runs the real CheckDrift handler (lambdas/check-drift/handler.ts). `memory` is the
 * in-memory path the handler had before issue 17, kept here as the reference: every object read
 * whole, parsed, and detectDataDrift / conceptDrift on the whole window.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import {
  captureToColumns,
  conceptDrift,
  detectDataDrift,
  parseCaptureLines,
  parseCsv,
  parseGroundTruthLines,
  toColumns,
} from '../../lambdas/ml';
import { createS3Client } from '../../lambdas/shared/clients';
import { EVALUATION_INFERENCE_PREFIX, keys } from '../../lambdas/shared/names';
import { readProductionVersion } from '../../lambdas/shared/registry';
import { getText } from '../../lambdas/shared/s3json';
import { listWindow } from '../../lambdas/check-drift/scan';
import { timeInWindow } from '../../lambdas/check-drift/window';
import type { CheckDriftResult } from '../../lambdas/check-drift/handler';

const [mode, url, bucket, model, nowIso, sinceIso] = process.argv.slice(2) as [string, string, string, string, string, string];
Object.assign(process.env, {
  ARTIFACT_BUCKET: bucket,
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
});
const s3 = createS3Client({ endpoint: url, region: 'us-east-1', forcePathStyle: true });
const now = new Date(nowIso);

/** The pre-issue-17 path: whole objects in memory. */
async function inMemory(client: S3Client) {
  const production = (await readProductionVersion({ s3: client, bucket }, model))!;
  const { record, pointer } = production;
  const m = record.manifest;
  const train = (await getText(client, bucket, record.training!.dataUri.replace(`s3://${bucket}/`, '')))!;
  const reference = toColumns(parseCsv(train, 'train.csv'), m.features, 'train.csv');
  const from = Date.parse(sinceIso);
  const to = now.getTime();
  const capture = [];
  for (const key of await listWindow(client, bucket, `${keys.capture(model)}${pointer.endpointName}/`, from, to))
    for (const r of parseCaptureLines((await getText(client, bucket, key))!, key))
      if (timeInWindow(r.inferenceTime, from, to) && !r.inferenceId?.startsWith(EVALUATION_INFERENCE_PREFIX)) capture.push(r);
  const truth = [];
  for (const key of await listWindow(client, bucket, keys.groundTruth(model), from, to))
    truth.push(...parseGroundTruthLines((await getText(client, bucket, key))!, key));
  const data = detectDataDrift({ reference, current: captureToColumns(capture, m.features), features: m.features, options: m.drift });
  const concept = conceptDrift({
    task: m.task,
    metric: m.drift.concept.metric,
    capture,
    groundTruth: truth,
    baselineValue: record.evaluation!.metrics[m.drift.concept.metric]!,
    tolerance: m.drift.concept.tolerance,
    minLabels: m.drift.concept.minLabels,
  });
  return { data, concept };
}

// The handler module is loaded before the clock starts: a cold start is not the window's cost.
const { makeHandler } = await import('../../lambdas/check-drift/handler');
const t0 = performance.now();
let out: Record<string, unknown>;
if (mode === 'stream') {
  const check = makeHandler({ s3, bucket, now: () => now }) as (e: unknown) => Promise<CheckDriftResult>;
  const result = await check({
    // One invocation over the whole window (no split): what this bench measures is the streaming itself.
    input: { model, since: sinceIso, batchBytes: Number.MAX_SAFE_INTEGER },
    executionId: `arn:aws:states:us-east-1:000000000000:execution:mlship-drift:bench-${process.pid}`,
    executionName: `bench-${process.pid}`,
  });
  const report = JSON.parse((await getText(s3, bucket, keys.monitoring(model, result.run, 'drift-report.json')))!);
  out = { verdict: result.verdict, data: report.data, concept: report.concept, rows: result.dataDrift?.currentRows };
} else {
  const { data, concept } = await inMemory(s3);
  out = { verdict: data.verdict === 'drift' || concept.verdict === 'drift' ? 'drift' : 'no-drift', data, concept, rows: data.currentRows };
}
const seconds = (performance.now() - t0) / 1000;
process.stdout.write(`${JSON.stringify({ ...out, seconds, peakRssMiB: process.resourceUsage().maxRSS / 1024 })}\n`);
process.exit(0);
