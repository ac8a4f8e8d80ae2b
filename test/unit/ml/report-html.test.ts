import { describe, expect, it } from 'vitest';
import {
  detectDataDrift,
  parseCaptureLines,
  renderDriftReportHtml,
  renderQualityReportHtml,
  type QualityReport,
} from '../../../lambdas/ml/index';
import { planFromReport } from '../../../lambdas/ml/abtest';
import { sampleClassificationReport, sampleRegressionReport } from '../../fixtures/ml/sample-report';

/** A page is self-contained when nothing in it points at the network or runs code. */
function expectSelfContained(html: string) {
  expect(html).not.toMatch(/<script|<link|@import|@font-face|url\(|src=|https?:\/\//i);
  expect(html.startsWith('<!doctype html>')).toBe(true);
}

describe('Function: renderQualityReportHtml', () => {
  it('shows the pre-registered A/B plan the release will run after the approval, or why there is none', () => {
    // Prepare
    const report = sampleRegressionReport(false);
    const plan = planFromReport({
      settings: { metric: 'rmse', minDetectableEffect: 0.5, alpha: 0.05, power: 0.8 },
      report: {
        production: { metrics: { rmse: 1 } },
        lossSpread: { source: 'production 1234567-beef on this holdout', rows: 100, sd: { rmse: 2 } },
      },
    });
    if (typeof plan === 'string') throw new Error(plan);

    // Act
    const withPlan = renderQualityReportHtml({
      ...report,
      ab: { plan, reason: null, trafficPercent: 10, maxDuration: 86400, onTimeout: 'rollback' },
    });
    const without = renderQualityReportHtml({
      ...report,
      ab: { plan: null, reason: 'no <spread>', trafficPercent: 10, maxDuration: 86400, onTimeout: 'promote' },
    });

    // Assess
    expectSelfContained(withPlan);
    expect(withPlan).toMatch(/A\/B test after the approval[\s\S]*41 labelled requests per arm[\s\S]*two-sample z-test/);
    expect(withPlan).toContain('production 1234567-beef on this holdout');
    expect(without).toContain('no &lt;spread&gt;');
    expect(renderQualityReportHtml(report)).not.toContain('A/B test');
  });

  it('renders a failed regression gate with the failure first, plots, drift, load test and lineage', () => {
    // Prepare
    const report = sampleRegressionReport(true);
    // Act
    const html = renderQualityReportHtml(report);
    // Assess
    expectSelfContained(html);
    expect(report.validation.validation_ok).toBe(false);
    const verdictAt = html.indexOf('FAILED — DO NOT PROMOTE');
    expect(verdictAt).toBeGreaterThan(0);
    expect(verdictAt).toBeLessThan(html.indexOf('Metrics on the holdout'));
    for (const part of [
      'Residuals',
      'Predicted vs actual',
      'Training data vs production baseline',
      'Load test',
      'Lineage',
      report.lineage.imageDigest!,
      'data/train.csv',
    ])
      expect(html).toContain(part);
    expect((html.match(/<svg/g) ?? []).length).toBeGreaterThanOrEqual(3);
  });

  it('renders a passing regression with drifted training data as a warning, not a failure', () => {
    const report = sampleRegressionReport();
    const html = renderQualityReportHtml(report);
    expect(report.validation.validation_ok).toBe(true);
    expect(html).toContain('<div class="verdict warn"><div class="big">PASSED — READY FOR APPROVAL');
    expect(html).toContain('The training data drifted');
  });

  it('renders a passing first classification version with a confusion matrix and the skip note', () => {
    const html = renderQualityReportHtml(sampleClassificationReport());
    expectSelfContained(html);
    expect(html).toContain('PASSED — READY FOR APPROVAL');
    expect(html).toContain('Confusion matrix');
    expect(html).toContain('first version');
  });

  it('escapes every string that comes from data', () => {
    const report: QualityReport = { ...sampleClassificationReport(), model: '<img src=x onerror=alert(1)>' };
    const html = renderQualityReportHtml(report);
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });
});

describe('Function: renderDriftReportHtml', () => {
  it('puts the drift verdict first and lists every column', () => {
    const rows = 400;
    const report = detectDataDrift({
      reference: { x: Array.from({ length: rows }, (_, i) => i % 97), c: Array.from({ length: rows }, (_, i) => (i % 3 ? 'a' : 'b')) },
      current: { x: Array.from({ length: rows }, (_, i) => (i % 97) + 40), c: Array.from({ length: rows }, (_, i) => (i % 3 ? 'a' : 'b')) },
      features: [
        { name: 'x', type: 'numeric', critical: true },
        { name: 'c', type: 'categorical', critical: false },
      ],
    });
    expect(parseCaptureLines('')).toEqual([]);
    const html = renderDriftReportHtml(report, { model: 'delivery-time', generatedAt: '2026-11-27T03:00:00Z', window: '7d' });
    expectSelfContained(html);
    expect(html.indexOf('DRIFT DETECTED')).toBeLessThan(html.indexOf('Data drift per feature'));
    expect(html).toContain('<td>x <span class="pill warn">critical</span></td>');
  });
});
