import { describe, expect, it } from 'vitest';
import { checkSummary } from '../../../lib/cli/commands/drift';

describe('Function: checkSummary (mlship drift run --wait)', () => {
  it('prints the data-quality verdict, the skipped counts and the alerts', () => {
    // Prepare
    const output = JSON.stringify({
      model: 'tiny',
      CheckDriftResult: {
        verdict: 'data-quality',
        reason: 'data-quality alert: x: 100.0% missing against 0.0% in the baseline',
        dataQuality: {
          captureLines: 41,
          skippedLines: 1,
          skippedValues: { x: 2 },
          alerts: ['x: 100.0% missing against 0.0% in the baseline'],
        },
      },
    });

    // Act
    const text = checkSummary(output);

    // Assess
    expect(text).toBe(
      '  verdict: data-quality — data-quality alert: x: 100.0% missing against 0.0% in the baseline\n' +
        '  skipped: 1 of 41 capture lines; values: x 2\n' +
        '  data-quality alert: x: 100.0% missing against 0.0% in the baseline\n',
    );
  });

  it('prints nothing for an output without a check result', () => {
    expect(checkSummary('{"model":"tiny"}')).toBe('');
    expect(checkSummary('not json')).toBe('');
  });
});
