import { describe, expect, it } from 'vitest';
import { shadowSection } from '../../lib/console/pages/shadow';
import { compareClassification, compareRegression, pairedBootstrap } from '../../lambdas/ml/shadow';

describe('Function: shadowSection', () => {
  it('shows the verdict, the differences with their histogram and the metric interval of a regression shadow test', () => {
    // Prepare
    const agreement = compareRegression([1, 2, 3, 4], [1.5, 2, 3, 6], 4);
    const metric = pairedBootstrap({
      task: 'regression',
      metric: 'rmse',
      labels: [1, 2, 3, 4],
      production: [1, 2, 3, 4],
      shadow: [1.5, 2, 3, 6],
      resamples: 50,
      seed: 1,
    });

    // Act
    const out = String(
      shadowSection({
        verdict: 'fail',
        reasons: ['p95 absolute difference 1.7 is above 0.5'],
        requests: 4,
        labelled: 4,
        samplingPercent: 50,
        agreement,
        metric,
      }),
    );

    // Assess
    expect(out).toContain('p95 absolute difference 1.7 is above 0.5');
    expect(out).toMatch(/data-field="verdict">.*fail/s);
    expect(out).toMatch(/<svg id="shadow-histogram"[^>]*>(<rect[^>]*><title>[^<]+<\/title><\/rect>){4}<\/svg>/);
    expect(out).toContain('paired bootstrap interval');
  });

  it('shows the agreement and the cross-tabulation of a classification shadow test, and escapes labels', () => {
    const agreement = compareClassification(['a', 'a', '<b>'], ['a', '<b>', '<b>']);
    const out = String(
      shadowSection({
        verdict: 'pass',
        reasons: [],
        requests: 3,
        agreement,
        metric: { metric: 'accuracy', reason: '0 labelled requests' },
      }),
    );
    expect(out).toMatch(/data-field="agreement">0\.6667 of 3/);
    expect(out).toContain('&lt;b&gt;');
    expect(out).not.toContain('<b>');
    expect(out).toContain('0 labelled requests');
  });

  it('says there was no shadow test when the version has none', () => {
    expect(String(shadowSection(undefined))).toMatch(/No shadow test/);
  });
});
