/**
 * The one evaluation path of a release's EvaluateModel and of a pull-request check (issue 21):
 * from the holdout, the candidate's answers and production's answers on the same rows to the
 * metrics, the gate (bounds, no-regression, slices) and the quality report. Where the answers
 * come from (an endpoint in a release, a model server started inside the check's build) is the
 * caller's business, so a check's report predicts the release's gate.
 */
import { lossSpreadOf, type LossSpread } from '../ml/abtest';
import type { ModelManifest } from '../../lib/config';
import { evaluateModel, evaluateSlices, parseCsv, runGate, type QualityReport, type SliceEvaluation } from '../ml';
import { InvalidDataError, ModelAnswerError } from '../shared/errors';
import { excerptOf, type Prediction } from '../shared/inference';

export type ParsedCsv = ReturnType<typeof parseCsv>;

/** One model's answers to the holdout, row-aligned. */
export interface Scored {
  predictions: (number | string)[];
  scores?: Record<string, number>[];
}

/**
 * Production to compare with: its answers on this holdout (`same-holdout`, metrics computed
 * here), or only the metrics it recorded at its own evaluation (`recorded`).
 */
export type ProductionBasis =
  { version: string; basis: 'same-holdout'; outputs: Scored } | { version: string; basis: 'recorded'; metrics: Record<string, number> };

export interface Judgement {
  evaluation: QualityReport['evaluation'];
  validation: QualityReport['validation'];
  /** Production's metrics the gate compared with. */
  production?: { version: string; metrics: Record<string, number> };
  slices?: SliceEvaluation;
  /** Regression: what an A/B test after the approval is sized from (lambdas/ml/abtest.ts). */
  lossSpread?: LossSpread;
}

/** The label column of a CSV, numbers for a regression. @throws InvalidDataError naming the file, row and column */
export function labelsOf(csv: ParsedCsv, label: string, task: string, source: string): (number | string)[] {
  const k = csv.header.indexOf(label);
  if (k < 0)
    throw new InvalidDataError(
      `the label column "${label}" of the manifest is missing from ${source} (its columns: ${csv.header.join(', ')})`,
    );
  return csv.rows.map((row, r) => {
    if (task === 'classification') return row[k]!;
    const y = Number(row[k]);
    if (row[k]!.trim() === '' || !Number.isFinite(y))
      throw new InvalidDataError(`${source}: row ${r + 2}, label "${label}": "${row[k]}" is not a number`);
    return y;
  });
}

function predictionOf(p: Prediction, task: string, i: number, server: string, log: string): number | string {
  const bad = (what: string) => {
    const excerpt = excerptOf(JSON.stringify(p) ?? String(p));
    return new ModelAnswerError(
      `the model behind ${server} answered prediction ${i} without ${what}: ${excerpt}; model log: ${log}`,
      excerpt,
    );
  };
  if (task === 'regression') {
    // NaN reaches here as null (JSON.stringify(NaN)) or as the string "NaN".
    if (typeof p?.value !== 'number' || !Number.isFinite(p.value)) throw bad('a finite numeric "value"');
    return p.value;
  }
  if (typeof p?.label !== 'string') throw bad('a "label"');
  return p.label;
}

/** Answers on the inference contract to row-aligned predictions (and class scores when every answer has them). @throws ModelAnswerError */
export function scoredOf(answered: readonly Prediction[], task: string, server: string, log: string): Scored {
  const predictions = answered.map((p, i) => predictionOf(p, task, i, server, log));
  const scores = task === 'classification' && answered.every((p) => p.scores) ? answered.map((p) => p.scores!) : undefined;
  return { predictions, scores };
}

/** Metrics of one model's answers against the holdout labels (bootstrap std, dummy fitted on the training labels). */
export function evaluationOf(m: ModelManifest, labels: (number | string)[], dummyLabels: (number | string)[], scored: Scored) {
  return evaluateModel({
    task: m.task,
    labels,
    predictions: scored.predictions,
    scores: scored.scores,
    bootstrap: m.evaluation.bootstrap,
    seed: 42,
    dummyLabels,
  });
}

/** An extra evaluation dataset of the manifest (`evaluation.datasets`) with both models' answers to its rows. */
export interface ExtraDataset {
  name: string;
  csv: ParsedCsv;
  uri: string;
  candidate: Scored;
  /** Production's answers; absent when production could not be scored (then nothing is gated). */
  production?: Scored;
}

/** One table of the holdout's rows and every extra dataset's, for one slice family (one correction over all of them). */
interface SliceTable {
  labels: (number | string)[];
  candidate: Scored;
  production?: Scored;
  columns: Record<string, (string | null)[]>;
}

function concatScored(parts: Scored[]): Scored {
  const withScores = parts.every((p) => p.scores);
  return { predictions: parts.flatMap((p) => p.predictions), scores: withScores ? parts.flatMap((p) => p.scores!) : undefined };
}

function sliceTable(
  m: ModelManifest,
  holdout: { csv: ParsedCsv; uri: string; labels: (number | string)[] },
  candidate: Scored,
  production: Scored | undefined,
  extra: readonly ExtraDataset[],
): SliceTable {
  const columns: Record<string, (string | null)[]> = {};
  const extraRows = extra.reduce((n, d) => n + d.csv.rows.length, 0);
  for (const spec of m.evaluation.slices) {
    const k = holdout.csv.header.indexOf(spec.feature);
    if (k < 0) throw new InvalidDataError(`the sliced feature "${spec.feature}" (evaluation.slices) is missing from ${holdout.uri}`);
    // The feature slices cut the holdout only; the extra datasets are their own slices.
    columns[spec.feature] = [...holdout.csv.rows.map((r) => r[k]!), ...new Array<null>(extraRows).fill(null)];
  }
  if (extra.length) {
    columns.dataset = [...new Array<null>(holdout.csv.rows.length).fill(null), ...extra.flatMap((d) => d.csv.rows.map(() => d.name))];
  }
  const gatedProduction =
    production && extra.every((d) => d.production) ? concatScored([production, ...extra.map((d) => d.production!)]) : undefined;
  return {
    labels: [...holdout.labels, ...extra.flatMap((d) => labelsOf(d.csv, m.label, m.task, d.uri))],
    candidate: concatScored([candidate, ...extra.map((d) => d.candidate)]),
    production: gatedProduction,
    columns,
  };
}

/**
 * The manifest's slices and extra datasets, candidate against production on the same rows;
 * undefined when the manifest declares neither. Production's recorded metrics cannot be sliced,
 * so without its answers on these rows the slices are reported and not gated (evaluateSlices says so).
 */
function sliceEvaluation(
  m: ModelManifest,
  holdout: { csv: ParsedCsv; uri: string; labels: (number | string)[] },
  candidate: Scored,
  production: Scored | undefined,
  extra: readonly ExtraDataset[],
): SliceEvaluation | undefined {
  if (m.evaluation.slices.length === 0 && extra.length === 0) return undefined;
  const t = sliceTable(m, holdout, candidate, production, extra);
  return evaluateSlices({
    task: m.task,
    specs: [...m.evaluation.slices, ...(extra.length ? [{ feature: 'dataset' }] : [])],
    columns: t.columns,
    labels: t.labels,
    candidate: t.candidate,
    production: t.production,
    gates: m.evaluation.metrics,
    gate: m.evaluation.sliceGate,
    bootstrap: m.evaluation.bootstrap,
    seed: 42,
  });
}

/** A failing slice fails the validation, with its cause among the failures and one check per gated slice metric. */
function addSlicesToValidation(validation: QualityReport['validation'], slices: SliceEvaluation | undefined): void {
  if (!slices) return;
  for (const s of slices.slices.filter((x) => x.gated)) {
    for (const [metric, sm] of Object.entries(s.metrics)) {
      if (sm.adjustedP === undefined) continue;
      const failure = slices.failures.find((f) => f.metric === metric && f.message.includes(` on ${s.name}, `));
      validation.checks.push({
        metric,
        kind: 'slice',
        ok: sm.ok,
        value: sm.value,
        bound: null,
        baseline: sm.production ?? null,
        message: failure?.message ?? `${metric} on ${s.name} (n=${s.n}): no significant regression beyond the tolerance`,
      });
    }
  }
  validation.failures.push(...slices.failures);
  validation.notes.push(...slices.notes);
  validation.validation_ok = validation.failures.length === 0;
}

/**
 * Metrics, gate and slices of a candidate against production on one holdout.
 * @param data the bundle's holdout and training CSVs (the training labels fit the dummy)
 * @param candidate the candidate's answers to the holdout's rows
 * @param production production's answers to the same rows, or its recorded metrics; absent for a first version
 * @param extra the manifest's extra evaluation datasets with both models' answers, gated as slices `dataset=<name>`
 */
export function judge(
  m: ModelManifest,
  data: { holdout: ParsedCsv; holdoutUri: string; train: ParsedCsv; trainUri: string },
  candidate: Scored,
  production?: ProductionBasis,
  extra: readonly ExtraDataset[] = [],
): Judgement {
  const labels = labelsOf(data.holdout, m.label, m.task, data.holdoutUri);
  const dummyLabels = labelsOf(data.train, m.label, m.task, data.trainUri);
  const evaluation = evaluationOf(m, labels, dummyLabels, candidate);
  const productionMetrics =
    production?.basis === 'same-holdout' ? evaluationOf(m, labels, dummyLabels, production.outputs).metrics : production?.metrics;
  const validation = runGate(m.evaluation.metrics, evaluation.metrics, productionMetrics);
  if (production?.basis === 'recorded') {
    validation.notes.push(
      `production ${production.version} could not be scored on this holdout; compared with the metrics it recorded at its own evaluation`,
    );
  } else if (production?.basis === 'same-holdout') {
    validation.notes.push(`production ${production.version} was scored on this version's holdout (${labels.length} rows)`);
  }
  const outputs = production?.basis === 'same-holdout' ? production.outputs : undefined;
  const slices = sliceEvaluation(m, { csv: data.holdout, uri: data.holdoutUri, labels }, candidate, outputs, extra);
  addSlicesToValidation(validation, slices);
  // Production's answers when it was scored on this holdout: the test's null hypothesis is production's loss.
  const lossSpread =
    m.task !== 'regression'
      ? undefined
      : outputs
        ? lossSpreadOf(`production ${production!.version} on this holdout`, outputs.predictions, labels)
        : lossSpreadOf('the candidate on its holdout (production was not scored on it)', candidate.predictions, labels);
  return {
    evaluation,
    validation,
    production: production && productionMetrics && { version: production.version, metrics: productionMetrics },
    slices,
    lossSpread,
  };
}
