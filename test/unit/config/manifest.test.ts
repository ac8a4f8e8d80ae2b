import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  discoverModels,
  DuplicateModelNameError,
  loadManifestText,
  ManifestError,
  MAX_PATH_GLOBS,
  parseManifest,
  partitionByUniqueName,
  REGRESSION_METRICS,
} from '../../../lib/config';
import { METRIC_DIRECTIONS } from '../../../lambdas/ml';

const FILE = 'models/demo/model.yaml';

const minimal = () => ({
  name: 'demo-model',
  task: 'regression',
  paths: ['models/demo/**'],
  serve: { command: 'node serve.mjs' },
  features: [{ name: 'x', type: 'numeric' }],
  label: 'y',
});

/** The one-line message a broken manifest produces, for assertions. */
function errorOf(doc: unknown): ManifestError {
  try {
    parseManifest(doc, FILE);
  } catch (err) {
    expect(err).toBeInstanceOf(ManifestError);
    return err as ManifestError;
  }
  throw new Error('expected the manifest to be refused');
}

describe('Function: parseManifest', () => {
  it('fills every default for a manifest with only the required fields', () => {
    // Act
    const m = parseManifest(minimal(), FILE);

    // Assess
    expect(m.branch).toBe('main');
    expect(m.build).toEqual({ buildspec: 'buildspec.yml', computeType: 'BUILD_GENERAL1_SMALL', timeout: 1800 });
    expect(m.serve).toEqual({ command: 'node serve.mjs', instanceType: 'ml.m5.large', instanceCount: 1 });
    expect(m.evaluation.metrics).toEqual({ rmse: { direction: 'lower', tolerance: { relative: 0.05 } } });
    expect(m.loadTest).toEqual({ rps: 20, duration: 10, p99Ms: 500, maxErrorRate: 0.01 });
    expect(m.approval.timeout).toBe(7 * 86400);
    // one instance cannot hold a SageMaker canary (at most half the fleet): all-at-once, with bake and alarms
    expect(m.deployment).toEqual({
      strategy: 'all-at-once',
      stepPercent: 10,
      bakeTime: 300,
      alarms: { max5xxRate: 0.01, p99LatencyMs: 1000 },
    });
    expect(m.drift.schedule).toBe('rate(7 days)');
    expect(m.drift.concept.metric).toBe('rmse');
    expect(m.drift.retraining).toEqual({ enabled: true, cooldown: 86400 });
    expect(m.features[0]).toEqual({ name: 'x', type: 'numeric', critical: false });
  });

  it('picks accuracy as the default gate of a classifier and uses it for concept drift', () => {
    const m = parseManifest({ ...minimal(), task: 'classification' }, FILE);

    expect(Object.keys(m.evaluation.metrics)).toEqual(['accuracy']);
    expect(m.drift.concept.metric).toBe('accuracy');
  });

  it('defaults to a canary where SageMaker allows one: two instances or more', () => {
    const m = parseManifest({ ...minimal(), serve: { command: 'node serve.mjs', instanceCount: 2 } }, FILE);

    expect(m.deployment.strategy).toBe('canary');
  });

  it.each([
    ['a canary of 50 percent on 2 instances', 'canary', 50, 2],
    ['a linear step of 10 percent on 4 instances', 'linear', 10, 4],
    ['a linear step of 50 percent on 2 instances', 'linear', 50, 2],
    ['all-at-once on 1 instance, whatever the step', 'all-at-once', 99, 1],
  ])('accepts %s, as SageMaker does', (_what, strategy, stepPercent, instanceCount) => {
    const m = parseManifest(
      { ...minimal(), serve: { command: 'node serve.mjs', instanceCount }, deployment: { strategy, stepPercent } },
      FILE,
    );

    expect(m.deployment).toMatchObject({ strategy, stepPercent });
  });

  it('converts durations to seconds', () => {
    const m = parseManifest(
      { ...minimal(), approval: { timeout: '36h' }, deployment: { bakeTime: '190s' }, loadTest: { duration: '2m' } },
      FILE,
    );

    expect(m.approval.timeout).toBe(36 * 3600);
    expect(m.deployment.bakeTime).toBe(190);
    expect(m.loadTest.duration).toBe(120);
  });

  it('accepts cron and rate schedules in EventBridge syntax', () => {
    for (const schedule of ['rate(1 day)', 'rate(30 minutes)', 'cron(0 6 ? * MON *)', 'cron(15 10 L * ? *)']) {
      expect(parseManifest({ ...minimal(), drift: { schedule } }, FILE).drift.schedule).toBe(schedule);
    }
  });

  it.each([
    ['an unknown task', { task: 'ranking' }, /models\/demo\/model\.yaml: task: must be one of "regression", "classification"/],
    [
      'too many path globs',
      { paths: Array.from({ length: MAX_PATH_GLOBS + 1 }, (_, i) => `p${i}/**`) },
      /paths: at most 8 globs \(the CodePipeline V2 limit\)/,
    ],
    ['no path globs', { paths: [] }, /paths: /],
    ['a bad name', { name: 'Demo_Model' }, /name: a lowercase name/],
    ['a missing serve command', { serve: {} }, /serve\.command: /],
    [
      'an unknown feature type',
      { features: [{ name: 'x', type: 'image' }] },
      /features\.0\.type: must be one of "numeric", "categorical", "text"/,
    ],
    [
      'a duplicate feature',
      {
        features: [
          { name: 'x', type: 'numeric' },
          { name: 'x', type: 'text' },
        ],
      },
      /features\.1\.name: duplicate feature "x"/,
    ],
    ['the label as a feature', { label: 'x' }, /features\.0\.name: the label cannot also be a feature/],
    ['an unknown field', { colour: 'blue' }, /colour: unknown field/],
    [
      'a metric of the wrong task',
      { evaluation: { metrics: { accuracy: { direction: 'higher' } } } },
      /evaluation\.metrics\.accuracy: unknown regression metric; allowed: mae, rmse, r2, mape/,
    ],
    ['a bad duration', { approval: { timeout: 'a week' } }, /approval\.timeout: a duration such as 90s, 30m, 12h or 7d/],
    ['a bad schedule', { drift: { schedule: 'every day' } }, /drift\.schedule: an EventBridge expression/],
    [
      'an unknown strategy',
      { deployment: { strategy: 'shadow' } },
      /deployment\.strategy: must be one of "all-at-once", "canary", "linear"/,
    ],
    ['a step over 99 percent', { deployment: { stepPercent: 100 } }, /deployment\.stepPercent: /],
    // SageMaker's blue/green limits (lib/config/blue-green.ts), found at load instead of at UpdateEndpoint
    [
      'a canary on one instance',
      { deployment: { strategy: 'canary' } },
      /deployment\.strategy: canary with serve\.instanceCount 1: .*needs 2 or more instances; use all-at-once or raise serve\.instanceCount/,
    ],
    [
      'a linear rollout on one instance',
      { deployment: { strategy: 'linear', stepPercent: 20 } },
      /deployment\.strategy: linear with serve\.instanceCount 1: /,
    ],
    [
      'a canary over half the fleet',
      { serve: { command: 'x', instanceCount: 4 }, deployment: { strategy: 'canary', stepPercent: 60 } },
      /deployment\.stepPercent: canary: the canary must be at most 50% of the fleet, got 60%/,
    ],
    [
      'a linear step under 10 percent',
      { serve: { command: 'x', instanceCount: 4 }, deployment: { strategy: 'linear', stepPercent: 5 } },
      /deployment\.stepPercent: linear: a linear step must be 10-50% of the fleet, got 5%/,
    ],
    [
      'a linear step over 50 percent',
      { serve: { command: 'x', instanceCount: 4 }, deployment: { strategy: 'linear', stepPercent: 75 } },
      /deployment\.stepPercent: linear: a linear step must be 10-50% of the fleet, got 75%/,
    ],
    // the rollback alarms (60 s period, 1 evaluation period) need 180 s to be able to fire
    // CodeBuild's timeoutInMinutes is 5-2160: refused at load, not raised to 5 at StartBuild
    [
      'a 1-minute build timeout',
      { build: { timeout: '1m' } },
      /build\.timeout: whole minutes from 5m to 36h \(CodeBuild's timeoutInMinutes, 5-2160\), got 60s/,
    ],
    ['a build timeout over 36 hours', { build: { timeout: '37h' } }, /build\.timeout: whole minutes from 5m to 36h/],
    ['a build timeout in seconds', { build: { timeout: '330s' } }, /build\.timeout: whole minutes/],
    [
      'a bake the rollback alarms cannot fire within',
      { deployment: { bakeTime: '30s' } },
      /deployment\.bakeTime: at least 180s, or the rollback alarms cannot fire before the bake ends \(period 60s × 1 evaluation period \+ 120s for CloudWatch to publish and evaluate SageMaker's metrics\), got 30s/,
    ],
    ['a bake one second short', { deployment: { bakeTime: '179s' } }, /deployment\.bakeTime: at least 180s/],
    [
      'a bake longer than SageMaker waits',
      { serve: { command: 'x', instanceCount: 2 }, deployment: { bakeTime: '2h' } },
      /deployment\.bakeTime: canary: the wait between traffic steps must be 0 to 3600 seconds \(SageMaker WaitIntervalInSeconds\), got 7200/,
    ],
  ])('refuses %s with one message naming the file and the field', (_what, patch, message) => {
    const err = errorOf({ ...minimal(), ...patch });

    expect(err.message).toMatch(message);
    expect(err.message.startsWith(`${FILE}: `)).toBe(true);
    expect(err.message).not.toContain('\n');
    expect(err.file).toBe(FILE);
  });
});

describe('Function: loadManifestText', () => {
  it('refuses a drift test for categorical features that needs numbers, at load, naming the file and the field', () => {
    // The drift check would refuse it only at its first run, a week after the deployment.
    for (const method of ['ks', 'wasserstein']) {
      const doc = { ...minimal(), features: [{ name: 'region', type: 'categorical' }], drift: { methods: { categorical: method } } };
      expect(errorOf(doc).message).toMatch(
        new RegExp(`^models/demo/model\\.yaml: drift\\.methods\\.categorical: "${method}" needs numbers`),
      );
    }
    expect(() => parseManifest({ ...minimal(), drift: { methods: { numeric: 'ks', categorical: 'chisquare' } } }, FILE)).not.toThrow();
  });

  it('accepts exactly the metrics the evaluator computes', () => {
    // Prepare
    const classifier = (metric: string) => ({
      ...minimal(),
      task: 'classification',
      evaluation: { metrics: { [metric]: { direction: 'higher' } } },
    });

    // Act & Assess
    for (const metric of Object.keys(METRIC_DIRECTIONS)) {
      const task = (REGRESSION_METRICS as readonly string[]).includes(metric) ? 'regression' : 'classification';
      expect(() => parseManifest({ ...classifier(metric), task }, FILE), metric).not.toThrow();
    }
    expect(errorOf(classifier('weighted_precision_at_k')).message).toMatch(
      /evaluation\.metrics\.weighted_precision_at_k: unknown classification metric/,
    );
  });

  describe('Method: evaluation.slices', () => {
    const sliced = (slices: unknown) => ({
      ...minimal(),
      features: [
        { name: 'x', type: 'numeric' },
        { name: 'region', type: 'categorical' },
        { name: 'note', type: 'text' },
      ],
      evaluation: { slices },
    });

    it('accepts categorical features and numeric ones cut into named buckets, with the Holm correction by default', () => {
      // Act
      const m = parseManifest(
        sliced([
          { feature: 'region' },
          { feature: 'x', buckets: [{ name: 'near', below: 5 }, { name: 'mid', below: 20 }, { name: 'far' }] },
        ]),
        FILE,
      );

      // Assess
      expect(m.evaluation.slices).toHaveLength(2);
      expect(m.evaluation.sliceGate).toEqual({ minRows: 50, alpha: 0.05, correction: 'holm' });
      expect(parseManifest(minimal(), FILE).evaluation.slices).toEqual([]);
    });

    it.each([
      [[{ feature: 'nope' }], /evaluation\.slices\.0\.feature: "nope" is not one of the features/],
      [[{ feature: 'note' }], /evaluation\.slices\.0\.feature: "note" is a text feature/],
      [[{ feature: 'x' }], /evaluation\.slices\.0\.buckets: "x" is numeric: cut it into named buckets/],
      [
        [{ feature: 'region', buckets: [{ name: 'a', below: 1 }, { name: 'b' }] }],
        /evaluation\.slices\.0\.buckets: buckets are for numeric/,
      ],
      [
        [{ feature: 'x', buckets: [{ name: 'a', below: 5 }, { name: 'b', below: 3 }, { name: 'c' }] }],
        /slices\.0\.buckets\.1\.below: edges must ascend/,
      ],
      [
        [
          {
            feature: 'x',
            buckets: [
              { name: 'a', below: 5 },
              { name: 'b', below: 9 },
            ],
          },
        ],
        /slices\.0\.buckets\.1\.below: the last bucket takes the rest/,
      ],
    ])('refuses %j naming the field', (slices, message) => {
      expect(errorOf(sliced(slices)).message).toMatch(message);
    });
  });

  describe('Method: evaluation.datasets', () => {
    it('accepts extra evaluation datasets of the bundle, one per client', () => {
      const m = parseManifest(
        {
          ...minimal(),
          evaluation: {
            datasets: [
              { name: 'client-a', path: 'data/eval-client-a.csv' },
              { name: 'client-b', path: 'data/b.csv' },
            ],
          },
        },
        FILE,
      );
      expect(m.evaluation.datasets).toEqual([
        { name: 'client-a', path: 'data/eval-client-a.csv' },
        { name: 'client-b', path: 'data/b.csv' },
      ]);
      expect(parseManifest(minimal(), FILE).evaluation.datasets).toEqual([]);
    });

    it.each([
      [[{ name: 'a', path: '../secrets.csv' }], /evaluation\.datasets\.0\.path: a CSV file inside the bundle/],
      [[{ name: 'a', path: '/etc/x.csv' }], /evaluation\.datasets\.0\.path: a CSV file inside the bundle/],
      [[{ name: 'A B', path: 'data/x.csv' }], /evaluation\.datasets\.0\.name/],
      [
        [
          { name: 'a', path: 'data/x.csv' },
          { name: 'a', path: 'data/y.csv' },
        ],
        /evaluation\.datasets\.1\.name: duplicate dataset "a"/,
      ],
    ])('refuses %j naming the field', (datasets, message) => {
      expect(errorOf({ ...minimal(), evaluation: { datasets } }).message).toMatch(message);
    });
  });

  it('names the file and the line of a YAML syntax error', () => {
    expect(() => loadManifestText('name: demo\nfeatures: [\n', FILE)).toThrow(/models\/demo\/model\.yaml: not valid YAML \(line \d+\)/);
  });
});

describe('Function: discoverModels', () => {
  const repoWith = (manifests: Record<string, string>) => {
    const root = mkdtempSync(join(tmpdir(), 'mlship-discover-'));
    for (const [dir, text] of Object.entries(manifests)) {
      mkdirSync(join(root, 'models', dir), { recursive: true });
      writeFileSync(join(root, 'models', dir, 'model.yaml'), text);
    }
    return root;
  };
  const yamlFor = (name: string) =>
    `name: ${name}\ntask: regression\npaths: [models/${name}/**]\nserve: { command: node serve.mjs }\nfeatures: [{ name: x, type: numeric }]\nlabel: y\n`;

  it('finds every manifest, sorted by directory, with its paths', () => {
    const root = repoWith({ 'zeta-model': yamlFor('zeta-model'), 'alpha-model': yamlFor('alpha-model') });

    const found = discoverModels(root);

    expect(found.map((m) => [m.manifest.name, m.dir, m.file])).toEqual([
      ['alpha-model', 'models/alpha-model', 'models/alpha-model/model.yaml'],
      ['zeta-model', 'models/zeta-model', 'models/zeta-model/model.yaml'],
    ]);
  });

  it('refuses two models with one name, naming both files', () => {
    const root = repoWith({ a: yamlFor('same-name'), b: yamlFor('same-name') });

    expect(() => discoverModels(root)).toThrow(
      'models/b/model.yaml: name: "same-name" is already the name of models/a/model.yaml; model names must be unique',
    );
  });

  it('reports the broken manifest by its path in the repository', () => {
    const root = repoWith({ good: yamlFor('good-model'), bad: 'name: bad-model\ntask: regression\n' });

    expect(() => discoverModels(root)).toThrow(/^models\/bad\/model\.yaml: paths: /);
  });

  it('returns nothing for a repository without models', () => {
    expect(discoverModels(mkdtempSync(join(tmpdir(), 'mlship-empty-')))).toEqual([]);
  });
});

describe('Function: partitionByUniqueName', () => {
  const model = (name: string, dir: string) => ({ manifest: { name } as never, file: `models/${dir}/model.yaml` });

  it('leaves out every manifest of a name claimed more than once, with one error naming all their files', () => {
    // Prepare
    const models = [model('a-model', 'a'), model('b-model', 'b'), model('a-model', 'c'), model('a-model', 'd')];

    // Act
    const { unique, duplicates } = partitionByUniqueName(models);

    // Assess
    expect(unique).toEqual([models[1]]);
    expect(duplicates).toHaveLength(1);
    expect(duplicates[0]).toBeInstanceOf(DuplicateModelNameError);
    expect(duplicates[0]).toBeInstanceOf(ManifestError);
    expect(duplicates[0]!.name).toBe('DuplicateModelNameError');
    expect(duplicates[0]!.message).toBe(
      'models/c/model.yaml, models/d/model.yaml: name: "a-model" is already the name of models/a/model.yaml; model names must be unique',
    );
    expect(duplicates[0]!.files).toEqual(['models/a/model.yaml', 'models/c/model.yaml', 'models/d/model.yaml']);
  });
});
