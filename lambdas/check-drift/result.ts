/** The CheckDrift task's dependencies, inputs and result: one place the handler, the check and its findings share. */
import type { S3Client } from '@aws-sdk/client-s3';
import type { ConceptDriftResult, DataQualityReport, DriftReport } from '../ml';

export interface CheckDriftDeps {
  s3: S3Client;
  bucket: string;
  now: () => Date;
  /** Labels the concept-drift join holds at most (a hash sample beyond). @default DEFAULT_LABEL_BUDGET (200,000) */
  labelBudget?: number;
  /** Capture bytes above which a window is split into batches of at most this size. @default DEFAULT_BATCH_BYTES (1 GiB) */
  batchBytes?: number;
}

export interface CheckDriftInput {
  model: string;
  /** Seconds back from now; @default the manifest's drift.window */
  window?: number;
  /**
   * The window's start (ISO 8601) instead of `window` seconds back: for a check over traffic
   * sent at a known time, whenever the check itself gets to run (the demo's drifted traffic).
   */
  since?: string;
  /** Split the window into batches of at most this many capture bytes. @default deps.batchBytes */
  batchBytes?: number;
  executionId: string;
  executionName: string;
}

/** One batch of a split check (the workflow's Map iterations). */
export interface ScanBatchInput {
  model: string;
  phase: 'scan';
  pass: 1 | 2;
  batch: number;
  run: string;
}

/** The reduce of a split check after a pass. */
export interface MergeBatchesInput {
  model: string;
  phase: 'merge';
  pass: 1 | 2;
  run: string;
}

/** `data-quality`: the window is too damaged (or a feature stopped arriving) for a drift verdict to mean anything. */
export type Verdict = 'drift' | 'no-drift' | 'insufficient-data' | 'data-quality' | 'split' | 'refine';

/** The counts the workflow carries on: what was skipped, and the alerts. */
export interface DataQualitySummary {
  verdict: DataQualityReport['verdict'];
  captureLines: number;
  skippedLines: number;
  skippedLineShare: number;
  /** Skipped values per feature (only features with any). */
  skippedValues: Record<string, number>;
  groundTruthLines: number;
  skippedGroundTruthLines: number;
  alerts: string[];
}

export interface CheckDriftResult {
  verdict: Verdict;
  /** Drift, and the manifest wants retraining (TriggerRetraining still checks cooldown and running releases). */
  retrain: boolean;
  reason: string;
  run: string;
  reportUri: string | null;
  version: string | null;
  window: { from: string; to: string; seconds: number };
  dataDrift: {
    verdict: DriftReport['verdict'];
    driftShare: number;
    driftedColumns: string[];
    currentRows: number;
    referenceRows: number;
  } | null;
  conceptDrift: {
    verdict: ConceptDriftResult['verdict'];
    metric: string;
    value: number | null;
    baseline: number;
    joined: number;
    /** Present when the labels outnumbered the join's budget: the share of inferenceIds sampled. */
    labelShare?: number;
  } | null;
  dataQuality: DataQualitySummary | null;
  /**
   * A window split into batches: the workflow maps pass `pass` over `batches` and then merges
   * (verdict `split` before pass 1, `refine` before pass 2; no verdict yet). Null once there is a verdict.
   */
  split: { pass: 1 | 2; batches: number[] } | null;
}
