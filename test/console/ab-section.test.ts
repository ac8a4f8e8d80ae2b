import { describe, expect, it } from 'vitest';
import { abSection } from '../../lib/console/pages/ab';
import { abVerdict, planFromReport } from '../../lambdas/ml/abtest';

const settings = { metric: 'rmse' as const, minDetectableEffect: 0.5, alpha: 0.05, power: 0.8 };
const report = {
  production: { metrics: { rmse: 1 } },
  lossSpread: { source: 'production 1234567-beef on this holdout', rows: 100, sd: { rmse: 2 } },
};

describe('Function: abSection', () => {
  it('shows the approver the pre-registered plan before the test runs: traffic share, n per arm, method, where sigma comes from', () => {
    // Prepare
    const plan = planFromReport({ settings, report });

    // Act
    const out = String(abSection({ plan, trafficPercent: 10, maxDuration: 86400, onTimeout: 'rollback' }));

    // Assess
    expect(out).toMatch(/data-field="n-per-arm">41</);
    expect(out).toContain('two-sample z-test (Welch standard error)');
    expect(out).toContain('production 1234567-beef on this holdout');
    expect(out).toMatch(/10 % of production&#39;s requests|10 % of production's requests/);
    expect(out).toMatch(/roll back/);
  });

  it('shows the verdict, each arm and the interval once the test ran', () => {
    const plan = planFromReport({ settings, report });
    if (typeof plan === 'string') throw new Error(plan);
    const test = abVerdict({ ...plan, nPerArm: 3 }, [1, 2, 3], [10, 11, 12]);

    const out = String(abSection({ plan, result: { verdict: test.verdict, reason: test.reason, test: test.test } }));

    expect(out).toMatch(/data-field="verdict">.*fail/s);
    expect(out).toContain('significantly worse');
    expect(out).toMatch(/data-field="difference">9</);
  });

  it('says why there is no plan when the quality report cannot size one, and that there is no test without experiment.ab', () => {
    expect(String(abSection({ plan: 'the quality report has no rmse to plan the test from' }))).toContain('no rmse to plan the test from');
    expect(String(abSection({}))).toMatch(/No A\/B test/);
  });
});
