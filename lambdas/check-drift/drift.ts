import {
  finishMerged,
  finishRefined,
  listWindow,
  listWindowObjects,
  mergeBatches,
  mergedNeedsRefine,
  refineBatch,
  scanBatch,
  scanWindow,
  type BatchState,
  type MergedState,
  type ScannedWindow,
  type WindowScan,
} from './scan';
import { endpointName, keys } from '../shared/names';
import { readProductionVersion, readVersion } from '../shared/registry';
import { SourceNotFoundError } from '../shared/errors';
import { analyseWindow, conceptBaseline, noProductionResult, readReference, toResult, writeReports, type VersionRecord } from './findings';
import type { CheckDriftDeps, CheckDriftInput, CheckDriftResult, MergeBatchesInput, ScanBatchInput } from './result';
import { DEFAULT_BATCH_BYTES, eachBatch, getSplit, groupBatches, putSplit, type SplitPlan } from './split';

export type * from './result';

/**
 * The drift check of one model: the production version's training data is the reference,
 * the production endpoint's captured requests of the window are the current data, and
 * ground truth joined on inferenceId gives concept drift against the evaluation metric.
 * Writes Model Monitor-format statistics and violations plus a drift report under
 * `monitoring/<model>/<run>/`. The statistics are lambdas/ml's; this only moves data, streamed
 * (scan.ts): memory is bounded by the reference and the label budget, not by the window.
 */
export async function checkDrift(deps: CheckDriftDeps, input: CheckDriftInput): Promise<CheckDriftResult> {
  const to = deps.now().getTime();
  const production = await readProductionVersion(deps, input.model);
  if (!production) return noProductionResult(input, to);
  const { record, pointer } = production;
  const from = input.since ? Date.parse(input.since) : to - (input.window ?? record.manifest.drift.window) * 1000;

  const reference = await readReference(deps, record);

  const endpoint = pointer.endpointName || endpointName(input.model, 'production');
  const capture = await listWindowObjects(deps.s3, deps.bucket, `${keys.capture(input.model)}${endpoint}/`, from, to);
  const groundTruthKeys = await listWindow(deps.s3, deps.bucket, keys.groundTruth(input.model), from, to);
  const batchBytes = input.batchBytes ?? deps.batchBytes ?? DEFAULT_BATCH_BYTES;
  if (capture.reduce((a, o) => a + o.size, 0) > batchBytes) {
    const plan: SplitPlan = {
      model: input.model,
      version: record.version,
      from,
      to,
      batches: groupBatches(capture, batchBytes),
      groundTruthKeys,
      join: conceptBaseline(record) !== undefined,
      ...(deps.labelBudget !== undefined ? { labelBudget: deps.labelBudget } : {}),
    };
    await putSplit(deps, input.model, input.executionName, 'plan.json', plan);
    return splitResult(plan, input.executionName, 1);
  }
  const current = await scanWindow({
    ...scanOf(
      deps,
      { from, to, groundTruthKeys, join: conceptBaseline(record) !== undefined, labelBudget: deps.labelBudget },
      record,
      reference,
    ),
    captureKeys: capture.map((o) => o.key),
  });
  const findings = analyseWindow({ model: input.model, run: input.executionName, record, from, to, current });
  const reportUri = await writeReports(deps, findings);
  return toResult(findings, reportUri);
}

/** The WindowScan of a check: where, when, which labels, against which reference. */
function scanOf(
  deps: CheckDriftDeps,
  w: Pick<SplitPlan, 'from' | 'to' | 'groundTruthKeys' | 'join' | 'labelBudget'>,
  record: VersionRecord,
  reference: WindowScan['reference'],
): Omit<WindowScan, 'captureKeys'> {
  return {
    s3: deps.s3,
    bucket: deps.bucket,
    from: w.from,
    to: w.to,
    groundTruthKeys: w.groundTruthKeys,
    reference,
    features: record.manifest.features,
    driftOptions: record.manifest.drift,
    join: w.join,
    labelBudget: w.labelBudget,
  };
}

/** No verdict yet: the workflow maps `pass` over the plan's batches. */
function splitResult(plan: SplitPlan, run: string, pass: 1 | 2): CheckDriftResult {
  const n = plan.batches.length;
  return {
    verdict: pass === 1 ? 'split' : 'refine',
    retrain: false,
    reason: `the window's capture is split into ${n} batch(es); pass ${pass} runs over them`,
    run,
    reportUri: null,
    version: plan.version,
    window: {
      from: new Date(plan.from).toISOString(),
      to: new Date(plan.to).toISOString(),
      seconds: Math.round((plan.to - plan.from) / 1000),
    },
    dataDrift: null,
    conceptDrift: null,
    dataQuality: null,
    split: { pass, batches: Array.from({ length: n }, (_, i) => i) },
  };
}

/** The plan of a split run, its version record and its reference: what every batch and reduce starts from. */
async function loadSplit(deps: CheckDriftDeps, model: string, run: string) {
  const plan = await getSplit<SplitPlan>(deps, model, run, 'plan.json');
  const { value: record } = await readVersion(deps, model, plan.version);
  const reference = await readReference(deps, record);
  return { plan, record, scan: scanOf(deps, plan, record, reference) };
}

/** One batch of a split check: pass 1 (its state) or pass 2 (its refine state, from the merged pass 1). */
export async function scanBatchPhase(deps: CheckDriftDeps, input: ScanBatchInput): Promise<{ batch: number; pass: 1 | 2 }> {
  const { plan, scan } = await loadSplit(deps, input.model, input.run);
  const captureKeys = plan.batches[input.batch];
  if (!captureKeys)
    throw new SourceNotFoundError(`batch ${input.batch} is not in the plan of ${input.run} (${plan.batches.length} batches)`);
  const state =
    input.pass === 1
      ? await scanBatch({ ...scan, captureKeys })
      : await refineBatch({ ...scan, captureKeys }, await getSplit<MergedState>(deps, input.model, input.run, 'merged.json'));
  await putSplit(deps, input.model, input.run, `pass${input.pass}-${input.batch}.json`, state);
  return { batch: input.batch, pass: input.pass };
}

/** The reduce of a split check: after pass 1, the verdict or a pass 2; after pass 2, the verdict. */
export async function mergeBatchesPhase(deps: CheckDriftDeps, input: MergeBatchesInput): Promise<CheckDriftResult> {
  const { plan, record, scan } = await loadSplit(deps, input.model, input.run);
  const whole = { ...scan, captureKeys: plan.batches.flat() };
  let current: ScannedWindow;
  if (input.pass === 1) {
    const merged = await mergeBatches(whole, eachBatch<BatchState>(deps, plan, input.run, 1));
    if (mergedNeedsRefine(merged)) {
      await putSplit(deps, input.model, input.run, 'merged.json', merged.state);
      return splitResult(plan, input.run, 2);
    }
    current = finishMerged(merged);
  } else {
    const merged = await getSplit<MergedState>(deps, input.model, input.run, 'merged.json');
    current = await finishRefined(whole, merged, eachBatch(deps, plan, input.run, 2));
  }
  const findings = analyseWindow({ model: input.model, run: input.run, record, from: plan.from, to: plan.to, current });
  return toResult(findings, await writeReports(deps, findings));
}
