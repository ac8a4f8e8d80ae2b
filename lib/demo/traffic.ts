import { randomUUID } from 'node:crypto';
import { InvokeEndpointCommand } from '@aws-sdk/client-sagemaker-runtime';
import type { DemoClients } from './clients';

/**
 * Live traffic for a production endpoint: one InvokeEndpoint per row, each with its own
 * InferenceId (so delayed labels can be joined to the captured request), and the labels
 * written later as Model Monitor ground truth.
 */

export interface TrafficResult {
  sent: number;
  ok: number;
  errors: string[];
  /** inferenceId -> the row's label, for the ground truth sent later. */
  labels: Map<string, string>;
  latenciesMs: number[];
  ms: number;
}

/**
 * Send every row as its own request, `concurrency` at a time. A row's label column is kept
 * out of the request and remembered under the request's InferenceId.
 */
export async function sendTraffic(
  clients: DemoClients,
  opts: {
    endpointName: string;
    rows: Record<string, unknown>[];
    features: string[];
    label: string;
    idPrefix: string;
    concurrency?: number;
  },
): Promise<TrafficResult> {
  const started = Date.now();
  const result: TrafficResult = { sent: 0, ok: 0, errors: [], labels: new Map(), latenciesMs: [], ms: 0 };
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= opts.rows.length) return;
      const row = opts.rows[i]!;
      const instance = Object.fromEntries(opts.features.map((f) => [f, row[f]]));
      const inferenceId = `${opts.idPrefix}-${i}-${randomUUID().slice(0, 8)}`;
      const t0 = performance.now();
      result.sent++;
      try {
        const out = await clients.runtime.send(
          new InvokeEndpointCommand({
            EndpointName: opts.endpointName,
            ContentType: 'application/json',
            Accept: 'application/json',
            InferenceId: inferenceId,
            Body: new TextEncoder().encode(JSON.stringify({ instances: [instance] })),
          }),
        );
        const body = JSON.parse(new TextDecoder().decode(out.Body)) as { predictions?: unknown[] };
        if (!Array.isArray(body.predictions) || body.predictions.length !== 1)
          throw new Error(`unexpected response ${JSON.stringify(body).slice(0, 200)}`);
        result.ok++;
        result.latenciesMs.push(performance.now() - t0);
        result.labels.set(inferenceId, String(row[opts.label]));
      } catch (err) {
        if (result.errors.length < 5) result.errors.push(`${(err as Error).name}: ${(err as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency ?? 8 }, worker));
  result.ms = Date.now() - started;
  return result;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** `ground-truth/<model>/yyyy/mm/dd/hh/` of a time (UTC), Model Monitor's layout. */
export function groundTruthPrefix(model: string, at: Date): string {
  return `ground-truth/${model}/${at.getUTCFullYear()}/${pad(at.getUTCMonth() + 1)}/${pad(at.getUTCDate())}/${pad(at.getUTCHours())}/`;
}

/** One Model Monitor ground-truth line per label (the eventId is the request's InferenceId). */
export function groundTruthLines(labels: Map<string, string>): string {
  let text = '';
  for (const [inferenceId, label] of labels) {
    text += `${JSON.stringify({ groundTruthData: { data: label, encoding: 'CSV' }, eventMetadata: { eventId: inferenceId }, eventVersion: '0' })}\n`;
  }
  return text;
}

/** Upload the labels as one JSONL object; returns its key. */
export async function writeGroundTruth(clients: DemoClients, model: string, labels: Map<string, string>, at = new Date()): Promise<string> {
  const key = `${groundTruthPrefix(model, at)}demo-${at.getTime()}-${randomUUID().slice(0, 8)}.jsonl`;
  await clients.put(key, groundTruthLines(labels), 'application/jsonl');
  return key;
}

/** The inferenceIds captured under `capture/<model>/<endpoint>/` so far. */
export async function capturedIds(clients: DemoClients, model: string, endpointName: string): Promise<Set<string>> {
  const ids = new Set<string>();
  for (const key of await clients.list(`capture/${model}/${endpointName}/`)) {
    const text = (await clients.getText(key)) ?? '';
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      const id = (JSON.parse(line) as { eventMetadata?: { inferenceId?: string } }).eventMetadata?.inferenceId;
      if (id) ids.add(id);
    }
  }
  return ids;
}
