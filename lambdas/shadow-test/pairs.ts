import type { S3Client } from '@aws-sdk/client-s3';
import { newLineTally, parseCaptureLines, parseGroundTruthLines, type CaptureRecord } from '../ml';
import { keyInWindow, timeInWindow } from '../check-drift/window';
import { EVALUATION_INFERENCE_PREFIX, keys } from '../shared/names';
import { getText, listObjects } from '../shared/s3json';

/**
 * The shadowed requests of a window: the production variant's and the shadow variant's captured
 * answers joined on inferenceId (the endpoint host, like SageMaker, captures both under the
 * request's id), and the ground truth that has arrived for them.
 */

export interface ShadowPairs {
  task: 'regression' | 'classification';
  /** One entry per instance answered by both variants. */
  production: (number | string)[];
  shadow: (number | string)[];
  /** Indices into the pairs above with a ground-truth label, and the labels. */
  labelled: { index: number; label: number | string }[];
  /** Captured lines that could not be read (skipped, not fatal). */
  skippedLines: number;
}

export interface PairsDeps {
  s3: S3Client;
  bucket: string;
}

const pad = (n: number) => String(n).padStart(2, '0');

/**
 * The `yyyy/mm/dd/hh/` partitions of [from, to]: a check lists only the hours of its window, not
 * the weeks of capture a production endpoint has under the same prefix.
 */
export function hourPartitions(from: number, to: number): string[] {
  const out: string[] = [];
  for (let h = Math.floor(from / 3_600_000) * 3_600_000; h <= to; h += 3_600_000) {
    const t = new Date(h);
    out.push(`${t.getUTCFullYear()}/${pad(t.getUTCMonth() + 1)}/${pad(t.getUTCDate())}/${pad(t.getUTCHours())}/`);
  }
  return out;
}

async function* filesOf(deps: PairsDeps, prefix: string, from: number, to: number): AsyncGenerator<{ key: string; text: string }> {
  for (const hour of hourPartitions(from, to))
    for await (const obj of listObjects(deps.s3, deps.bucket, `${prefix}${hour}`)) {
      if (!keyInWindow(obj.key, from, to)) continue;
      const text = await getText(deps.s3, deps.bucket, obj.key);
      if (text !== undefined) yield { key: obj.key, text };
    }
}

async function readCapture(deps: PairsDeps, prefix: string, from: number, to: number, tally = newLineTally()): Promise<CaptureRecord[]> {
  const out: CaptureRecord[] = [];
  for await (const file of filesOf(deps, prefix, from, to))
    for (const r of parseCaptureLines(file.text, file.key, tally))
      if (r.inferenceId && !r.inferenceId.startsWith(EVALUATION_INFERENCE_PREFIX) && timeInWindow(r.inferenceTime, from, to)) out.push(r);
  return out;
}

/** A prediction as the comparison reads it: the value (regression) or the label (classification). */
function answerOf(p: CaptureRecord['predictions'][number] | undefined, task: ShadowPairs['task']): number | string | undefined {
  if (!p) return undefined;
  const v = task === 'regression' ? p.value : p.label;
  return typeof v === 'number' ? (Number.isFinite(v) ? v : undefined) : v;
}

export async function readShadowPairs(
  deps: PairsDeps,
  input: {
    model: string;
    endpointName: string;
    productionVariant: string;
    shadowVariant: string;
    task: ShadowPairs['task'];
    from: number;
    to: number;
  },
): Promise<ShadowPairs> {
  const base = `${keys.capture(input.model)}${input.endpointName}/`;
  const tally = newLineTally();
  const shadow = new Map<string, CaptureRecord>();
  for (const r of await readCapture(deps, `${base}${input.shadowVariant}/`, input.from, input.to, tally)) shadow.set(r.inferenceId!, r);
  const out: ShadowPairs = { task: input.task, production: [], shadow: [], labelled: [], skippedLines: 0 };
  const ids: { id: string; k: number; of: number }[] = [];
  for (const prod of await readCapture(deps, `${base}${input.productionVariant}/`, input.from, input.to, tally)) {
    const twin = shadow.get(prod.inferenceId!);
    if (!twin) continue;
    shadow.delete(prod.inferenceId!);
    prod.predictions.forEach((p, i) => {
      const a = answerOf(p, input.task);
      const b = answerOf(twin.predictions[i], input.task);
      if (a === undefined || b === undefined) return;
      out.production.push(a);
      out.shadow.push(b);
      ids.push({ id: prod.inferenceId!, k: i, of: prod.predictions.length });
    });
  }
  // Ground truth is keyed by the request's inferenceId (Model Monitor's eventId), one label per
  // instance, as the concept-drift check joins it (lambdas/ml/concept.ts); a later line wins.
  const truth = new Map<string, string[]>();
  for await (const file of filesOf(deps, keys.groundTruth(input.model), input.from, input.to))
    for (const g of parseGroundTruthLines(file.text, file.key, tally)) truth.set(g.eventId, g.labels);
  ids.forEach(({ id, k, of }, index) => {
    const labels = truth.get(id);
    if (!labels || labels.length !== of) return;
    const label = input.task === 'regression' ? Number(labels[k]) : labels[k]!;
    if (typeof label === 'number' && !Number.isFinite(label)) return;
    out.labelled.push({ index, label });
  });
  out.skippedLines = tally.skipped;
  return out;
}

/** The same window reading for the A/B test's arms (lambdas/ab-test/arms.ts). */
export { filesOf, readCapture };
