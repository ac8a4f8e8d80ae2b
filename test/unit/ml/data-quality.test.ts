import { describe, expect, it } from 'vitest';
import {
  assessDataQuality,
  captureToColumns,
  computeBaseline,
  detectDataDrift,
  newLineTally,
  parseCaptureLines,
  parseGroundTruthLines,
  toConstraintViolations,
  type FeatureSpec,
} from '../../../lambdas/ml/index';

/**
 * Bad rows in captured traffic (issue 14, observation 10): unreadable lines and non-finite values
 * are skipped and counted, a damaged window or a feature that stops arriving is its own verdict.
 */
const features: FeatureSpec[] = [
  { name: 'x', type: 'numeric', critical: false },
  { name: 'kind', type: 'categorical', critical: false },
];

function captureLine(i: number, instance: Record<string, unknown>): string {
  return JSON.stringify({
    captureData: {
      endpointInput: {
        observedContentType: 'application/json',
        mode: 'INPUT',
        data: JSON.stringify({ instances: [instance] }),
        encoding: 'JSON',
      },
      endpointOutput: {
        observedContentType: 'application/json',
        mode: 'OUTPUT',
        data: JSON.stringify({ predictions: [{ value: 1 }] }),
        encoding: 'JSON',
      },
    },
    eventMetadata: { eventId: `e${i}`, inferenceId: `id-${i}`, inferenceTime: '2026-11-27T01:02:03Z' },
    eventVersion: '0',
  });
}

/** n capture lines of x in [0, 10) and kind a/b; `edit` changes instance i. */
function captureText(n: number, edit: (i: number, inst: Record<string, unknown>) => Record<string, unknown> = (_, inst) => inst): string {
  return Array.from({ length: n }, (_, i) => captureLine(i, edit(i, { x: (i * 7.31) % 10, kind: i % 2 ? 'a' : 'b' }))).join('\n') + '\n';
}

/** 300 reference rows like captureText's, with x missing in `missingEvery`-th rows when given. */
function reference(missingEvery = 0) {
  return {
    x: Array.from({ length: 300 }, (_, i) => (missingEvery && i % missingEvery === 0 ? null : (i * 3.17) % 10)),
    kind: Array.from({ length: 300 }, (_, i) => (i % 2 ? 'a' : 'b')),
  };
}

function check(text: string, opts: { missingEvery?: number; quality?: { maxSkippedShare?: number; maxMissingIncrease?: number } } = {}) {
  const tally = newLineTally();
  const records = parseCaptureLines(text, 'capture/2026/11/27/01/part-1.jsonl', tally);
  const report = detectDataDrift({
    reference: reference(opts.missingEvery),
    current: captureToColumns(records, features),
    features,
    options: { minSamples: 30 },
  });
  return { report, quality: assessDataQuality({ report, capture: tally, options: opts.quality }) };
}

describe('Function: parseCaptureLines (with a tally)', () => {
  it('skips a truncated line and a corrupt line, counting them per file and line', () => {
    // Prepare: line 41 torn mid-record, line 3 not JSON at all
    const lines = captureText(50).trim().split('\n');
    lines[40] = lines[40]!.slice(0, 57);
    lines[2] = 'garbage';
    const tally = newLineTally();

    // Act
    const records = parseCaptureLines(`${lines.join('\n')}\n`, 'f1.jsonl', tally);
    parseCaptureLines(captureText(10), 'f2.jsonl', tally);

    // Assess
    expect(records).toHaveLength(48);
    expect(tally).toMatchObject({ lines: 60, skipped: 2, perSource: { 'f1.jsonl': 2 } });
    expect(tally.examples).toEqual([
      { source: 'f1.jsonl', line: 3, reason: 'not valid JSON' },
      { source: 'f1.jsonl', line: 41, reason: 'not valid JSON' },
    ]);
  });

  it('still throws without a tally, naming the line', () => {
    expect(() => parseCaptureLines('{"captureData": 1}\n', 'f.jsonl')).toThrow(/f\.jsonl line 1/);
  });

  it('skips a ground-truth line whose JSON label does not parse', () => {
    // Prepare
    const tally = newLineTally();
    const text = [
      JSON.stringify({ groundTruthData: { data: '3.5', encoding: 'CSV' }, eventMetadata: { eventId: 'a' }, eventVersion: '0' }),
      JSON.stringify({ groundTruthData: { data: '{oops', encoding: 'JSON' }, eventMetadata: { eventId: 'b' }, eventVersion: '0' }),
    ].join('\n');

    // Act
    const records = parseGroundTruthLines(text, 'gt.jsonl', tally);

    // Assess
    expect(records).toEqual([{ eventId: 'a', labels: ['3.5'] }]);
    expect(tally).toMatchObject({ lines: 2, skipped: 1, examples: [{ source: 'gt.jsonl', line: 2 }] });
  });
});

describe('Function: assessDataQuality', () => {
  it('counts a "NaN" value per feature and keeps a verdict when the shares are within limits', () => {
    // Prepare: one torn line and one "NaN" in 100 lines
    const text = captureText(100, (i, inst) => (i === 7 ? { ...inst, x: 'NaN' } : inst)).replace(
      /\n[^\n]*\n$/,
      '\n{"captureData":{"endpointIn\n',
    );

    // Act
    const { report, quality } = check(text);

    // Assess
    expect(report.verdict).toBe('no-drift');
    expect(quality.verdict).toBe('ok');
    expect(quality.capture).toMatchObject({ total: 100, skipped: 1, share: 0.01 });
    expect(quality.features.find((f) => f.feature === 'x')).toMatchObject({ rows: 99, skipped: 1, missing: 0, alert: false });
    expect(quality.alerts).toEqual([]);
    expect(quality.message).toMatch(/1 of 100 capture lines skipped, 1 value\(s\) skipped/);
  });

  it('judges a window with more unreadable lines than the limit by its quality', () => {
    // Prepare: 6 of 100 lines torn (6 % > 5 %)
    const lines = captureText(100)
      .trim()
      .split('\n')
      .map((l, i) => (i % 17 === 0 ? l.slice(0, 30) : l));

    // Act
    const { quality } = check(`${lines.join('\n')}\n`);

    // Assess
    expect(quality.capture).toMatchObject({ total: 100, skipped: 6 });
    expect(quality.verdict).toBe('data-quality');
    expect(quality.alerts[0]).toMatch(/6 of 100 capture lines \(6\.0%\) could not be read, above the limit of 5\.0%/);
  });

  it('judges a feature with more non-finite values than the limit, and honours a manifest limit', () => {
    // Prepare: 8 of 100 values are "NaN" or "Infinity"
    const text = captureText(100, (i, inst) => (i % 13 === 0 ? { ...inst, x: i % 2 ? 'Infinity' : 'NaN' } : inst));

    // Act
    const strict = check(text).quality;
    const loose = check(text, { quality: { maxSkippedShare: 0.1 } }).quality;

    // Assess
    expect(strict.verdict).toBe('data-quality');
    expect(strict.alerts).toEqual(['x: 8 of 100 values (8.0%) are not finite numbers, above the limit of 5.0%']);
    expect(loose.verdict).toBe('ok');
  });

  it('raises an alert for a feature that became 100 % null, which the drift tests call stable', () => {
    // Prepare
    const text = captureText(100, (_, inst) => ({ ...inst, x: null }));

    // Act
    const { report, quality } = check(text);

    // Assess
    expect(report.verdict).toBe('no-drift');
    expect(quality.verdict).toBe('data-quality');
    expect(quality.features.find((f) => f.feature === 'x')).toMatchObject({ missingShare: 1, referenceMissingShare: 0, alert: true });
    expect(quality.alerts).toEqual(['x: 100.0% missing against 0.0% in the baseline']);
    expect(toConstraintViolations(report).violations).toContainEqual(
      expect.objectContaining({ feature_name: 'x', constraint_check_type: 'completeness_check' }),
    );
  });

  it('raises an alert for a feature absent from every request', () => {
    // Act
    const { quality } = check(captureText(100, (_, inst) => ({ kind: inst.kind })));

    // Assess
    expect(quality.verdict).toBe('data-quality');
    expect(quality.alerts).toEqual(['x: absent from all 100 captured rows']);
  });

  it("compares a feature's missing share with the baseline's", () => {
    // Prepare: the baseline misses x in 1 of 5 rows (20 %); the window in 1 of 4 (25 %) or 1 of 2 (50 %)
    const quarter = captureText(100, (i, inst) => (i % 4 === 0 ? { ...inst, x: null } : inst));
    const half = captureText(100, (i, inst) => (i % 2 === 0 ? { ...inst, x: null } : inst));

    // Act
    const within = check(quarter, { missingEvery: 5 }).quality;
    const jumped = check(half, { missingEvery: 5 }).quality;

    // Assess
    expect(within.verdict).toBe('ok');
    expect(within.features[0]).toMatchObject({ missingShare: 0.25, referenceMissingShare: 0.2, alert: false });
    expect(jumped.verdict).toBe('data-quality');
    expect(jumped.alerts).toEqual(['x: 50.0% missing against 20.0% in the baseline']);
  });

  it('gives no quality verdict below the minimum sample size', () => {
    const { quality } = check(captureText(10, (_, inst) => ({ ...inst, x: null })));
    expect(quality.verdict).toBe('insufficient-data');
  });

  it('calls a window of nothing but corrupt lines a quality problem, not too little data', () => {
    const { report, quality } = check('{"captureData":\n'.repeat(40));
    expect(report.verdict).toBe('insufficient-data');
    expect(quality).toMatchObject({ verdict: 'data-quality', capture: { total: 40, skipped: 40, share: 1 } });
  });

  it('rejects limits out of range', () => {
    const { report } = check(captureText(40));
    expect(() => assessDataQuality({ report, capture: newLineTally(), options: { maxSkippedShare: 1.5 } })).toThrow(/maxSkippedShare/);
  });
});

describe('Function: computeBaseline (statistics of captured traffic)', () => {
  it('counts non-finite values as missing when asked, and still throws by default', () => {
    // Prepare
    const rows = [
      { x: 1, kind: 'a' },
      { x: 'NaN', kind: 'b' },
      { x: 3, kind: 'a' },
    ];

    // Act
    const { statistics } = computeBaseline(rows, features, { invalidNumbers: 'missing' });

    // Assess
    expect(statistics.features[0]).toMatchObject({
      name: 'x',
      numerical_statistics: { common: { num_present: 2, num_missing: 1 }, mean: 2 },
    });
    expect(() => computeBaseline(rows, features)).toThrow(expect.objectContaining({ name: 'NonFiniteValueError' }));
  });
});
