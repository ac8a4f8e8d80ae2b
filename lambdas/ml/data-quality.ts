/**
 * Data quality of a drift check's window: the capture lines that could not be read, the values
 * that were skipped as not finite numbers, and each feature's missing share against the
 * baseline's. A window whose skipped share is above the limit is a biased sample (what breaks is
 * rarely random: one client, one feature, one release of a caller), so its drift verdict would
 * mean little; and a feature that stops arriving looks stable to every drift test, because those
 * only compare the values that are present. Both get their own verdict, `data-quality`.
 */
import type { LineTally, SkippedLine } from './capture';
import { InvalidArgumentError } from './errors';
import type { DriftReport } from './types';

/** The manifest's `drift.dataQuality` section. */
export interface DataQualityOptions {
  /** Share of unreadable capture lines, or of one feature's skipped values, above which the window is judged by its quality, not its drift. @default 0.05 */
  maxSkippedShare?: number;
  /** Rise of a feature's missing share over the baseline's (absolute, 0.1 = 10 points) above which it raises an alert. @default 0.1 */
  maxMissingIncrease?: number;
}

/**
 * The defaults. Dropping a share s of the rows moves the empirical CDF by at most s / (1 - s)
 * anywhere: at 5 % that is 0.053, about half of the 0.1 distance threshold and of the KS
 * statistics that matter, so a window within it still gets a drift verdict, one beyond it could
 * owe that verdict to what was dropped. A 10-point rise of a missing share is twice the largest
 * sampling deviation at the default minimum of 100 rows (sqrt(0.25 / 100) = 0.05).
 */
export const DATA_QUALITY_DEFAULTS = { maxSkippedShare: 0.05, maxMissingIncrease: 0.1 } as const;

/** Skipped-line counts of one kind of file (capture or ground truth). */
export interface LineQuality {
  total: number;
  skipped: number;
  /** skipped / total; 0 for no lines. */
  share: number;
  /** Skipped lines per file. */
  perSource: Record<string, number>;
  /** The first skipped lines, with why. */
  examples: SkippedLine[];
}

/** One feature's quality in the window. */
export interface FeatureQuality {
  feature: string;
  /** Current rows the feature was judged on (values + missing + skipped). */
  rows: number;
  /** Values skipped as not finite numbers. */
  skipped: number;
  skippedShare: number;
  missing: number;
  missingShare: number;
  /** The training data's missing share; null when the feature is absent from the window (no rows to compare). */
  referenceMissingShare: number | null;
  /** Whether this feature raised an alert. */
  alert: boolean;
}

export interface DataQualityReport {
  /** `data-quality` when any alert was raised; `insufficient-data` when the window is below the drift check's minimum sample size. */
  verdict: 'ok' | 'data-quality' | 'insufficient-data';
  options: Required<DataQualityOptions>;
  capture: LineQuality;
  groundTruth: LineQuality;
  features: FeatureQuality[];
  /** One sentence per problem above its limit. */
  alerts: string[];
  message: string;
}

export interface DataQualityInput {
  /** The drift report of the lines that could be read. */
  report: DriftReport;
  capture: LineTally;
  groundTruth?: LineTally;
  options?: DataQualityOptions;
}

const pct = (x: number) => `${(x * 100).toFixed(x > 0 && x < 0.01 ? 2 : 1)}%`;

function lines(t: LineTally | undefined): LineQuality {
  if (!t) return { total: 0, skipped: 0, share: 0, perSource: {}, examples: [] };
  return {
    total: t.lines,
    skipped: t.skipped,
    share: t.lines ? t.skipped / t.lines : 0,
    perSource: { ...t.perSource },
    examples: [...t.examples],
  };
}

/** Apply the defaults and validate. */
export function resolveDataQualityOptions(o: DataQualityOptions = {}): Required<DataQualityOptions> {
  const r = {
    maxSkippedShare: o.maxSkippedShare ?? DATA_QUALITY_DEFAULTS.maxSkippedShare,
    maxMissingIncrease: o.maxMissingIncrease ?? DATA_QUALITY_DEFAULTS.maxMissingIncrease,
  };
  if (!(r.maxSkippedShare >= 0 && r.maxSkippedShare < 1))
    throw new InvalidArgumentError(`drift.dataQuality.maxSkippedShare must be in [0, 1), got ${r.maxSkippedShare}`);
  if (!(r.maxMissingIncrease >= 0 && r.maxMissingIncrease < 1))
    throw new InvalidArgumentError(`drift.dataQuality.maxMissingIncrease must be in [0, 1), got ${r.maxMissingIncrease}`);
  return r;
}

/**
 * Judge the window's quality. Limits are strict (a share equal to the limit passes). The window
 * is judged when the rows read plus the lines skipped reach the drift check's `minSamples`, so
 * that a window of nothing but corrupt lines is a quality alert, not "too little data".
 * @throws InvalidArgumentError for options out of range
 */
export function assessDataQuality(input: DataQualityInput): DataQualityReport {
  const options = resolveDataQualityOptions(input.options);
  const { report } = input;
  const capture = lines(input.capture);
  const groundTruth = lines(input.groundTruth);
  const features: FeatureQuality[] = [];
  const alerts: string[] = [];
  for (const c of report.columns) {
    // One line per feature: a text feature's two derived columns share their rows.
    if (c.kind === 'prediction' || c.kind === 'text-length') continue;
    const rows = c.currentCount + c.currentMissing + c.currentInvalid;
    const referenceRows = c.referenceCount + c.referenceMissing;
    const f: FeatureQuality = {
      feature: c.feature,
      rows,
      skipped: c.currentInvalid,
      skippedShare: rows ? c.currentInvalid / rows : 0,
      missing: c.currentMissing,
      missingShare: rows ? c.currentMissing / rows : 0,
      referenceMissingShare: referenceRows ? c.referenceMissing / referenceRows : 0,
      alert: false,
    };
    if (rows > 0 && f.skippedShare > options.maxSkippedShare) {
      f.alert = true;
      alerts.push(
        `${f.feature}: ${f.skipped} of ${rows} values (${pct(f.skippedShare)}) are not finite numbers, above the limit of ${pct(options.maxSkippedShare)}`,
      );
    }
    const increase = f.missingShare - f.referenceMissingShare!;
    if (rows > 0 && (f.missingShare === 1 || increase > options.maxMissingIncrease)) {
      f.alert = true;
      alerts.push(`${f.feature}: ${pct(f.missingShare)} missing against ${pct(f.referenceMissingShare!)} in the baseline`);
    }
    features.push(f);
  }
  for (const name of report.schema.missingColumns) {
    if (report.currentRows === 0) continue;
    features.push({
      feature: name,
      rows: report.currentRows,
      skipped: 0,
      skippedShare: 0,
      missing: report.currentRows,
      missingShare: 1,
      referenceMissingShare: null,
      alert: true,
    });
    alerts.push(`${name}: absent from all ${report.currentRows} captured rows`);
  }
  if (capture.share > options.maxSkippedShare) {
    alerts.unshift(
      `${capture.skipped} of ${capture.total} capture lines (${pct(capture.share)}) could not be read, above the limit of ${pct(options.maxSkippedShare)}`,
    );
  }
  const judged = report.currentRows + capture.skipped >= report.options.minSamples;
  const verdict = !judged ? 'insufficient-data' : alerts.length ? 'data-quality' : 'ok';
  const skippedValues = features.reduce((a, f) => a + f.skipped, 0);
  const counts = `${capture.skipped} of ${capture.total} capture lines skipped, ${skippedValues} value(s) skipped${groundTruth.skipped ? `, ${groundTruth.skipped} of ${groundTruth.total} ground-truth lines skipped` : ''}`;
  const message =
    verdict === 'data-quality'
      ? `data-quality alert: ${alerts.join('; ')} (${counts})`
      : verdict === 'insufficient-data'
        ? `too few rows to judge data quality (${counts})`
        : `data quality within limits (${counts})`;
  return { verdict, options, capture, groundTruth, features, alerts, message };
}
