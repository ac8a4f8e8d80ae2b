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

  it('shows latency and error rate per variant, or why they are not available', () => {
    const variants = {
      available: true as const,
      from: '2026-11-27T00:59:00.000Z',
      to: '2026-11-27T01:00:00.000Z',
      periodSeconds: 60,
      variants: [
        { variant: 'AllTraffic', invocations: 100, errors4xx: 0, errors5xx: 1, errorRate: 0.01, latencyP50Ms: 4, latencyP99Ms: 10 },
        { variant: 'Shadow', invocations: 50, errors4xx: 2, errors5xx: 3, errorRate: 0.1, latencyP50Ms: 9, latencyP99Ms: 30 },
      ],
    };
    const out = String(shadowSection({ verdict: 'pass', reasons: [], requests: 3, agreement: null, variants }));
    expect(out).toMatch(
      /<tr data-variant="AllTraffic"><th>AllTraffic \(production\)<\/th><td class="num">100<\/td>.*<td class="num">0\.01<\/td><td class="num">4<\/td><td class="num">10<\/td><\/tr>/s,
    );
    expect(out).toMatch(
      /<tr data-variant="Shadow"><th>Shadow \(candidate\)<\/th><td class="num">50<\/td>.*<td class="num">0\.1<\/td><td class="num">9<\/td><td class="num">30<\/td><\/tr>/s,
    );
    const missing = String(
      shadowSection({ verdict: 'pass', variants: { available: false, reason: 'CloudWatch GetMetricData failed: AccessDenied' } }),
    );
    expect(missing).toMatch(/data-field="variants">not available: CloudWatch GetMetricData failed: AccessDenied/);
  });

  it('says there was no shadow test when the version has none', () => {
    expect(String(shadowSection(undefined))).toMatch(/No shadow test/);
  });
});
