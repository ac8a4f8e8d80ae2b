import { InvokeEndpointCommand, type SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import type { FeatureSpec } from '../../lib/config';
import { InvalidDataError, ModelAnswerError, ModelInvocationError } from './errors';
import { endpointLogLocation } from './names';

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
export function instancesFromCsv(
  csv: { header: string[]; rows: string[][] },
  features: readonly FeatureSpec[],
  source: string,
): Instance[] {
  const columns = features.map((f) => {
    const k = csv.header.indexOf(f.name);
    if (k < 0)
      throw new InvalidDataError(`feature "${f.name}" of the manifest is missing from ${source} (its columns: ${csv.header.join(', ')})`);
    return { name: f.name, numeric: f.type === 'numeric', k };
  });
  return csv.rows.map((row, r) => {
    const instance: Instance = {};
    for (const c of columns) {
      const raw = row[c.k] ?? '';
      if (raw.trim() === '') instance[c.name] = null;
      else if (c.numeric) {
        const x = Number(raw);
        if (!Number.isFinite(x)) throw new InvalidDataError(`${source}: row ${r + 2}, column "${c.name}": "${raw}" is not a number`);
        instance[c.name] = x;
      } else instance[c.name] = raw;
    }
    return instance;
  });
}

/** At most this many characters of a model's answer go into an error message. */
const EXCERPT_CHARS = 200;

/** The start of a model's answer, on one line, for a failure cause. */
export function excerptOf(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > EXCERPT_CHARS ? `${line.slice(0, EXCERPT_CHARS)}…` : line;
}

/** Options of {@link invokeBatch}. */
export interface InvokeOptions {
  /** Passed as SageMaker's InferenceId (data capture's join key). */
  inferenceId?: string;
  /** Where the endpoint's model-server log is (see endpointLogLocation). @default CloudWatch's log group */
  logTemplate?: string;
}

interface SdkModelError {
  name?: string;
  message?: string;
  OriginalStatusCode?: number;
  OriginalMessage?: string;
  LogStreamArn?: string;
}

/**
 * SageMaker's ModelError (the model answered 4xx/5xx) as a ModelInvocationError whose
 * message a person can act on; any other error is returned unchanged.
 */
export function modelInvocationError(err: unknown, endpointName: string, logTemplate?: string): unknown {
  const e = err as SdkModelError | undefined;
  if (e?.name !== 'ModelError') return err;
  const excerpt = excerptOf(e.OriginalMessage ?? e.message ?? '');
  // SageMaker names the log in the error; the local cloud names its own log file there.
  const log = e.LogStreamArn || endpointLogLocation(endpointName, logTemplate);
  const status = e.OriginalStatusCode;
  return new ModelInvocationError(
    `the model behind ${endpointName} answered HTTP ${status ?? '4xx/5xx'}: ${excerpt || '(empty body)'}; model log: ${log}`,
    status,
    excerpt,
    log,
    {
      cause: err,
    },
  );
}

/** The answer is not JSON: say so, and name NaN/Infinity, the usual reason (Python's json.dumps writes them). */
function notJson(endpointName: string, text: string, log: string): ModelAnswerError {
  const excerpt = excerptOf(text);
  const why = /\b(NaN|-?Infinity)\b/.test(text)
    ? 'predictions that are NaN or Infinity, which JSON cannot carry'
    : 'something that is not JSON';
  return new ModelAnswerError(`the model behind ${endpointName} answered ${why}: ${excerpt || '(empty body)'}; model log: ${log}`, excerpt);
}

/**
 * Send one batch to an endpoint and check the answer against the contract.
 * @throws ModelInvocationError when the model answers with an error status
 * @throws ModelAnswerError when the response is not `{"predictions": [...]}` of the right length
 */
export async function invokeBatch(
  runtime: SageMakerRuntimeClient,
  endpointName: string,
  instances: readonly Instance[],
  options: InvokeOptions = {},
): Promise<Prediction[]> {
  let out;
  try {
    out = await runtime.send(
      new InvokeEndpointCommand({
        EndpointName: endpointName,
        ContentType: 'application/json',
        Accept: 'application/json',
        Body: new TextEncoder().encode(JSON.stringify({ instances })),
        InferenceId: options.inferenceId,
      }),
    );
  } catch (err) {
    throw modelInvocationError(err, endpointName, options.logTemplate);
  }
  const text = out.Body ? new TextDecoder().decode(out.Body) : '';
  const log = endpointLogLocation(endpointName, options.logTemplate);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw notJson(endpointName, text, log);
  }
  const predictions = (doc as { predictions?: unknown } | null)?.predictions;
  if (!Array.isArray(predictions) || predictions.length !== instances.length) {
    throw new ModelAnswerError(
      `the model behind ${endpointName} answered without one prediction per instance (sent ${instances.length}): ${excerptOf(text)}; model log: ${log}`,
      excerptOf(text),
    );
  }
  return predictions as Prediction[];
}
