import { InvokeEndpointCommand, type SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import type { FeatureSpec } from '../../lib/config';
import { EvaluationError } from './errors';

/**
 * The inference contract from the caller's side: JSON `{"instances": [...]}` in,
 * `{"predictions": [...]}` out, one prediction per instance — `{value}` for regression,
 * `{label, scores?}` for classification.
 */

export type Instance = Record<string, number | string | null>;

export interface Prediction {
  value?: number;
  label?: string;
  scores?: Record<string, number>;
}

/** Rows of a CSV (header + string fields) as request instances: numeric features as numbers, '' as null. */
export function instancesFromCsv(csv: { header: string[]; rows: string[][] }, features: readonly FeatureSpec[], source: string): Instance[] {
  const columns = features.map((f) => {
    const k = csv.header.indexOf(f.name);
    if (k < 0) throw new EvaluationError(`${source}: feature "${f.name}" is not a column of the header (${csv.header.join(', ')})`);
    return { name: f.name, numeric: f.type === 'numeric', k };
  });
  return csv.rows.map((row, r) => {
    const instance: Instance = {};
    for (const c of columns) {
      const raw = row[c.k] ?? '';
      if (raw.trim() === '') instance[c.name] = null;
      else if (c.numeric) {
        const x = Number(raw);
        if (!Number.isFinite(x)) throw new EvaluationError(`${source}: row ${r + 2}, column "${c.name}": "${raw}" is not a number`);
        instance[c.name] = x;
      } else instance[c.name] = raw;
    }
    return instance;
  });
}

/**
 * Send one batch to an endpoint and check the answer against the contract.
 * @param inferenceId passed as SageMaker's InferenceId (data capture's join key)
 * @throws EvaluationError when the response is not `{"predictions": [...]}` of the right length
 */
export async function invokeBatch(
  runtime: SageMakerRuntimeClient,
  endpointName: string,
  instances: readonly Instance[],
  inferenceId?: string,
): Promise<Prediction[]> {
  const out = await runtime.send(
    new InvokeEndpointCommand({
      EndpointName: endpointName,
      ContentType: 'application/json',
      Accept: 'application/json',
      Body: new TextEncoder().encode(JSON.stringify({ instances })),
      InferenceId: inferenceId,
    }),
  );
  const text = out.Body ? new TextDecoder().decode(out.Body) : '';
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new EvaluationError(`${endpointName} answered with something that is not JSON: ${text.slice(0, 200)}`);
  }
  const predictions = (doc as { predictions?: unknown }).predictions;
  if (!Array.isArray(predictions) || predictions.length !== instances.length) {
    throw new EvaluationError(`${endpointName} answered without one prediction per instance (sent ${instances.length}): ${text.slice(0, 200)}`);
  }
  return predictions as Prediction[];
}
