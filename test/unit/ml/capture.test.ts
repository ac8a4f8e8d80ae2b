import { describe, expect, it } from 'vitest';
import {
  InvalidArgumentError,
  ParseError,
  captureToColumns,
  conceptDrift,
  parseCaptureLines,
  parseGroundTruthLines,
  type FeatureSpec,
} from '../../../lambdas/ml/index';

function captureLine(id: string | null, instances: unknown[], predictions: unknown[]): string {
  return JSON.stringify({
    captureData: {
      endpointInput: { observedContentType: 'application/json', mode: 'INPUT', data: JSON.stringify({ instances }), encoding: 'JSON' },
      endpointOutput: { observedContentType: 'application/json', mode: 'OUTPUT', data: JSON.stringify({ predictions }), encoding: 'JSON' },
    },
    eventMetadata: { eventId: `evt-${id ?? 'x'}`, ...(id ? { inferenceId: id } : {}), inferenceTime: '2026-11-27T01:02:03Z' },
    eventVersion: '0',
  });
}
const truthLine = (id: string, label: string) =>
  JSON.stringify({ groundTruthData: { data: label, encoding: 'CSV' }, eventMetadata: { eventId: id }, eventVersion: '0' });

describe('Function: parseCaptureLines', () => {
  it('decodes JSON and CSV captures with their metadata', () => {
    // Prepare
    const csv = JSON.stringify({
      captureData: {
        endpointInput: { observedContentType: 'text/csv', mode: 'INPUT', data: '12.5,express\n3,"standard, slow"', encoding: 'CSV' },
        endpointOutput: {
          observedContentType: 'application/json',
          mode: 'OUTPUT',
          data: Buffer.from(JSON.stringify({ predictions: [{ value: 1 }, { value: 2 }] })).toString('base64'),
          encoding: 'BASE64',
        },
      },
      eventMetadata: { eventId: 'e2', inferenceTime: '2026-11-27T01:02:04Z' },
      eventVersion: '0',
    });
    const text = `${captureLine('id-1', [{ distance: 3, service: 'express' }], [{ label: 'billing', scores: { billing: 0.8, bug: 0.2 } }])}\n\n${csv}\n`;
    // Act
    const records = parseCaptureLines(text, 'capture/x.jsonl');
    // Assess
    expect(records).toHaveLength(2);
    expect(records[0]).toMatchObject({
      eventId: 'evt-id-1',
      inferenceId: 'id-1',
      predictions: [{ label: 'billing', scores: { billing: 0.8, bug: 0.2 } }],
    });
    expect(records[1]).toMatchObject({
      inferenceId: null,
      instances: [
        ['12.5', 'express'],
        ['3', 'standard, slow'],
      ],
      predictions: [{ value: 1 }, { value: 2 }],
    });
    const features: FeatureSpec[] = [
      { name: 'distance', type: 'numeric', critical: false },
      { name: 'service', type: 'categorical', critical: false },
    ];
    expect(captureToColumns(records, features)).toEqual({ distance: [3, 12.5, 3], service: ['express', 'express', 'standard, slow'] });
  });

  it.each([
    ['invalid JSON', '{nope', 'line 1: not valid JSON'],
    ['no captureData', '{"eventMetadata":{"eventId":"a"}}', 'captureData is missing'],
    ['a count mismatch', captureLine('a', [{}, {}], [{ value: 1 }]), '2 instance(s) but 1 prediction(s)'],
  ])('throws ParseError naming the line on %s', (_, text, message) => {
    expect(() => parseCaptureLines(`\n${text}`, 'cap.jsonl')).toThrow(ParseError);
    expect(() => parseCaptureLines(text, 'cap.jsonl')).toThrow(message);
  });
});

describe('Function: parseGroundTruthLines', () => {
  it('reads labels, batches as CSV, and names a bad line', () => {
    expect(parseGroundTruthLines(`${truthLine('a', 'billing')}\n${truthLine('b', '3.5,"x,y"')}`)).toEqual([
      { eventId: 'a', labels: ['billing'] },
      { eventId: 'b', labels: ['3.5', 'x,y'] },
    ]);
    expect(() => parseGroundTruthLines('{"groundTruthData":{"data":"x"}}', 'gt.jsonl')).toThrow(
      'gt.jsonl line 1: eventMetadata.eventId is missing',
    );
  });
});

describe('Function: conceptDrift', () => {
  const capture = parseCaptureLines(
    Array.from({ length: 100 }, (_, i) =>
      captureLine(i < 95 ? `id-${i}` : null, [{ x: i }], [{ label: i % 4 === 0 ? 'bug' : 'billing', scores: { billing: 0.6, bug: 0.4 } }]),
    ).join('\n'),
  );
  const truth = parseGroundTruthLines(
    [...Array.from({ length: 90 }, (_, i) => truthLine(`id-${i}`, i % 2 ? 'billing' : 'bug')), truthLine('orphan', 'bug')].join('\n'),
  );

  it('joins on inferenceId, computes the metric and detects a drop beyond the tolerance', () => {
    // Act: accuracy on ids 0..89: label bug for even i, billing for odd; predicted bug when i % 4 == 0.
    const r = conceptDrift({
      task: 'classification',
      metric: 'accuracy',
      capture,
      groundTruth: truth,
      baselineValue: 0.9,
      tolerance: { absolute: 0.05 },
      minLabels: 50,
    });
    // Assess: correct = odd i (45) + i % 4 == 0 (23) = 68 of 90.
    expect(r).toMatchObject({ verdict: 'drift', joined: 90, unlabeled: 5, withoutInferenceId: 5, orphanLabels: 1, direction: 'higher' });
    expect(r.value).toBeCloseTo(68 / 90, 12);
    expect(r.limit).toBeCloseTo(0.85, 12);
  });

  it('finds no drift within the tolerance and gives no verdict under minLabels', () => {
    expect(
      conceptDrift({
        task: 'classification',
        metric: 'accuracy',
        capture,
        groundTruth: truth,
        baselineValue: 0.78,
        tolerance: { absolute: 0.05 },
      }).verdict,
    ).toBe('no-drift');
    expect(
      conceptDrift({ task: 'classification', metric: 'accuracy', capture, groundTruth: truth, baselineValue: 0.78, minLabels: 91 }),
    ).toMatchObject({ verdict: 'insufficient-data', value: null });
  });

  it('handles regression metrics where lower is better', () => {
    const cap = parseCaptureLines(Array.from({ length: 60 }, (_, i) => captureLine(`r${i}`, [{}], [{ value: i + 2 }])).join('\n'));
    const gt = parseGroundTruthLines(Array.from({ length: 60 }, (_, i) => truthLine(`r${i}`, String(i))).join('\n'));
    const r = conceptDrift({
      task: 'regression',
      metric: 'mae',
      capture: cap,
      groundTruth: gt,
      baselineValue: 1.5,
      tolerance: { relative: 0.2 },
    });
    expect(r).toMatchObject({ verdict: 'drift', value: 2, direction: 'lower' });
    expect(r.limit).toBeCloseTo(1.8, 12);
  });

  it('rejects an unknown metric', () => {
    expect(() => conceptDrift({ task: 'regression', metric: 'nope', capture, groundTruth: truth, baselineValue: 1 })).toThrow(
      InvalidArgumentError,
    );
  });
});
