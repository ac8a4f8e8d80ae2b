import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConsoleData } from '../../lib/console/data';
import { readModelTrends } from '../../lib/console/model-trends';
import { trendSections } from '../../lib/console/pages/model-trends';
import { FakeBucket, fakeTarget } from './fakes';

/**
 * The model page's records are checked, not cast: a document that does not have the shape the
 * page reads is named (key and field) in a note and left out, and the rest still shows.
 */
describe('Function: readModelTrends', () => {
  let bucket: FakeBucket;
  let s3mock: ReturnType<FakeBucket['install']>;

  beforeEach(() => {
    // Prepare: two versions, one with a validation.json whose checks are not a list; two drift runs, one with a text share
    bucket = new FakeBucket();
    s3mock = bucket.install();
    for (const [v, at] of [
      ['v1', '2026-11-20T00:00:00Z'],
      ['v2', '2026-11-27T00:00:00Z'],
    ] as const) {
      bucket.put(`registry/m/versions/${v}.json`, {
        model: 'm',
        version: v,
        status: 'archived',
        commitId: `${v}c`,
        createdAt: at,
        deployments: [],
      });
      bucket.put(`reports/m/${v}/quality-report.json`, {
        evaluation: { metrics: { rmse: v === 'v1' ? 2 : 1.5 }, dummy: { rmse: 9 } },
        gates: { rmse: { direction: 'lower', bound: 3 } },
      });
    }
    bucket.put('reports/m/v1/validation.json', {
      validation_ok: true,
      checks: [{ metric: 'rmse', kind: 'bound', ok: true, value: 2, bound: 3, baseline: null }],
    });
    bucket.put('reports/m/v2/validation.json', { validation_ok: true, checks: 'all fine' });
    bucket.put('monitoring/m/r1/drift-report.json', {
      generatedAt: '2026-11-28T00:00:00Z',
      verdict: 'no-drift',
      data: { driftShare: 0.25, columns: [] },
    });
    bucket.put('monitoring/m/r2/drift-report.json', {
      generatedAt: '2026-11-29T00:00:00Z',
      verdict: 'drift',
      data: { driftShare: 'half', columns: [] },
    });
  });

  afterEach(() => s3mock.restore());

  it('names a malformed document by key and field, leaves it out, and shows the rest', async () => {
    // Act
    const trends = await readModelTrends(new ConsoleData(fakeTarget()), 'm', []);
    const page = trendSections('m', trends, { variants: [] }).value;

    // Assess
    expect(trends.notes).toEqual([
      expect.stringMatching(/^reports\/m\/v2\/validation\.json: checks: .*; left out$/),
      expect.stringMatching(/^monitoring\/m\/r2\/drift-report\.json: data\.driftShare: .*; left out$/),
    ]);
    // v2 keeps its metric and bound from quality-report.json; the malformed validation.json adds nothing.
    expect(trends.versions.map((v) => [v.version, v.metrics.rmse?.value, v.metrics.rmse?.bound, v.metrics.rmse?.dummy])).toEqual([
      ['v1', 2, 3, 9],
      ['v2', 1.5, 3, 9],
    ]);
    expect(trends.driftRuns.map((r) => [r.run, r.driftShare])).toEqual([['r1', 0.25]]);
    expect(page).toContain('reports/m/v2/validation.json: checks:');
    expect(page).toMatch(/<tr data-run="r1">[\s\S]*?data-field="share">25\.0%</);
    expect(page).not.toContain('data-run="r2"');
  });
});

describe('Function: readModelTrends (hyperparameters on AWS)', () => {
  it('shows the hyperparameters EvaluateModel recorded in the version record, without reading builds/', async () => {
    // Prepare: a version record with its recorded params.json; the console may not open builds/ (params: false, as on AWS)
    const bucket = new FakeBucket();
    const s3mock = bucket.install();
    bucket.put('registry/m/versions/v1.json', {
      model: 'm',
      version: 'v1',
      status: 'production',
      commitId: 'v1c',
      createdAt: '2026-11-20T00:00:00Z',
      deployments: [],
      hyperparameters: { values: { C: 0.5, max_iter: 200 }, uri: 's3://b/builds/m/v1/model/params.json' },
    });

    // Act
    const trends = await readModelTrends(new ConsoleData(fakeTarget()), 'm', [], { params: false });

    // Assess
    const touched = s3mock.calls().map((c) => JSON.stringify((c.args[0] as { input: unknown }).input));
    s3mock.restore();
    expect(trends.versions[0]!.lineage.params).toEqual({ C: 0.5, max_iter: 200 });
    expect(touched.filter((t) => t.includes('builds/'))).toEqual([]);
  });
});
