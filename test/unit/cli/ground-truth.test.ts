import { describe, expect, it } from 'vitest';
import { parseGroundTruthLines } from '../../../lambdas/ml/capture';
import { groundTruthKey, GroundTruthFileError, parseLabelsFile, toModelMonitorLines } from '../../../lib/cli/ground-truth';

describe('Function: parseLabelsFile', () => {
  it('reads CSV with inferenceId,label and JSONL in both shapes, and writes what the drift check reads back', () => {
    // Prepare
    const csv = 'inferenceId,label\nreq-1,billing\nreq-2,"refunds, returns"\n';
    const jsonl = [
      '{"inferenceId":"req-3","label":12.5}',
      '',
      '{"groundTruthData":{"data":"7","encoding":"CSV"},"eventMetadata":{"eventId":"req-4"},"eventVersion":"0"}',
    ].join('\n');

    // Act
    const fromCsv = parseLabelsFile(csv, 'labels.csv');
    const fromJsonl = parseLabelsFile(jsonl, 'labels.jsonl', { task: 'regression' });
    const back = parseGroundTruthLines(toModelMonitorLines([...fromCsv, ...fromJsonl]));

    // Assess
    expect(fromCsv).toEqual([
      { inferenceId: 'req-1', label: 'billing', line: 2 },
      { inferenceId: 'req-2', label: 'refunds, returns', line: 3 },
    ]);
    expect(fromJsonl.map((l) => [l.inferenceId, l.label, l.line])).toEqual([
      ['req-3', '12.5', 1],
      ['req-4', '7', 3],
    ]);
    expect(back).toEqual([
      { eventId: 'req-1', labels: ['billing'] },
      { eventId: 'req-2', labels: ['refunds, returns'] },
      { eventId: 'req-3', labels: ['12.5'] },
      { eventId: 'req-4', labels: ['7'] },
    ]);
  });

  it('names the file and line of every problem, and accepts nothing', () => {
    // Prepare
    const jsonl = ['{"inferenceId":"a","label":3}', '{not json', '{"label":4}', '{"inferenceId":"b","label":"fast"}'].join('\n');

    // Act
    const err = (() => {
      try {
        parseLabelsFile(jsonl, 'day1.jsonl', { task: 'regression' });
      } catch (e) {
        return e as GroundTruthFileError;
      }
      throw new Error('accepted');
    })();

    // Assess
    expect(err).toBeInstanceOf(GroundTruthFileError);
    expect(err.name).toBe('GroundTruthFileError');
    expect(err.message.split('\n')).toEqual([
      expect.stringMatching(/^day1\.jsonl:2: not valid JSON/),
      'day1.jsonl:3: inferenceId is missing (a string: the InferenceId of the request)',
      `day1.jsonl:4: label "fast" is not a number (a regression model's label is numeric)`,
    ]);
    expect(() => parseLabelsFile('id,label\nx,1\n', 'l.csv')).toThrow(
      'l.csv:1: the header needs the columns inferenceId and label (found: id, label)',
    );
    expect(() => parseLabelsFile('inferenceId,label\n', 'l.csv')).toThrow('l.csv:1: no labels in the file');
  });
});

describe('Function: groundTruthKey', () => {
  it("is Model Monitor's hourly layout under ground-truth/<model>/", () => {
    expect(groundTruthKey('delivery-time', new Date('2026-12-06T09:15:00Z'), 'labels.jsonl')).toBe(
      'ground-truth/delivery-time/2026/12/06/09/labels.jsonl',
    );
  });
});
