import { parseGroundTruthLines, newLineTally, type CaptureRecord } from '../ml';
import { requestLoss, type AbMetric } from '../ml/abtest';
import { keys } from '../shared/names';
import { filesOf, readCapture, type PairsDeps } from '../shadow-test/pairs';

/**
 * The labelled requests of each arm of a window: each variant's captured answers joined with
 * the ground truth on inferenceId (one label per instance, as the concept-drift check and the
 * shadow stage join it), each read as the metric's per-request loss, in the order they were
 * answered, so the test takes each arm's first n (a fixed horizon, whatever arrives after),
 * both from the candidate's first answer on.
 */
export interface ArmLosses {
  production: number[];
  candidate: number[];
  /** Requests each arm answered in the window, labelled or not. */
  requests: { production: number; candidate: number };
  skippedLines: number;
}

/** Milliseconds (not the string: SageMaker writes whole seconds, other writers milliseconds); no time sorts first. */
const timeOf = (r: CaptureRecord) => Date.parse(r.inferenceTime ?? '') || 0;
const byTime = (a: CaptureRecord, b: CaptureRecord) => timeOf(a) - timeOf(b);

export async function readArmLosses(
  deps: PairsDeps,
  input: {
    model: string;
    endpointName: string;
    productionVariant: string;
    candidateVariant: string;
    metric: AbMetric;
    from: number;
    to: number;
  },
): Promise<ArmLosses> {
  const base = `${keys.capture(input.model)}${input.endpointName}/`;
  const tally = newLineTally();
  const candidate = (await readCapture(deps, `${base}${input.candidateVariant}/`, input.from, input.to, tally)).sort(byTime);
  // Production served alone until the candidate's fleet came into service: the arms start together,
  // at the candidate's first answer, or a time-of-day effect would pass for a model effect.
  const since = candidate.length ? timeOf(candidate[0]!) : null;
  const production = (await readCapture(deps, `${base}${input.productionVariant}/`, input.from, input.to, tally))
    .filter((r) => since !== null && timeOf(r) >= since)
    .sort(byTime);
  const truth = new Map<string, string[]>();
  for await (const file of filesOf(deps, keys.groundTruth(input.model), input.from, input.to))
    for (const g of parseGroundTruthLines(file.text, file.key, tally)) truth.set(g.eventId, g.labels);
  const losses = (records: CaptureRecord[]) =>
    records.flatMap((r) => {
      const labels = truth.get(r.inferenceId!);
      if (!labels || labels.length !== r.predictions.length) return [];
      return r.predictions.flatMap((p, k) => {
        const answer = input.metric === 'accuracy' ? p.label : p.value;
        const loss = answer === undefined ? undefined : requestLoss(input.metric, answer, labels[k]!);
        return loss === undefined ? [] : [loss];
      });
    });
  return {
    production: losses(production),
    candidate: losses(candidate),
    requests: { production: production.length, candidate: candidate.length },
    skippedLines: tally.skipped,
  };
}
