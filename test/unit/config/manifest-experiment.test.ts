import { describe, expect, it } from 'vitest';
import { ManifestError, parseManifest } from '../../../lib/config';

const FILE = 'models/demo/model.yaml';

const minimal = (task = 'regression') => ({
  name: 'demo-model',
  task,
  paths: ['models/demo/**'],
  serve: { command: 'node serve.mjs' },
  features: [{ name: 'x', type: 'numeric' }],
  label: 'y',
});

function errorOf(doc: unknown): string {
  try {
    parseManifest(doc, FILE);
  } catch (err) {
    expect(err).toBeInstanceOf(ManifestError);
    return (err as Error).message;
  }
  throw new Error('expected the manifest to be refused');
}

describe('Function: parseManifest (experiment.shadow)', () => {
  it('has no shadow stage unless the manifest asks for one', () => {
    expect(parseManifest(minimal(), FILE).experiment.shadow).toBeNull();
  });

  it('fills in the documented defaults of an empty shadow block', () => {
    // Act
    const m = parseManifest({ ...minimal('classification'), experiment: { shadow: {} } }, FILE);

    // Assess
    expect(m.experiment.shadow).toEqual({
      samplingPercent: 50,
      minRequests: 200,
      maxDuration: 3600,
      insufficientData: 'ask-approver',
      minLabels: 30,
      bootstrap: 1000,
      bounds: {
        minAgreement: 0.9,
        maxMeanAbsDifference: null,
        maxP95AbsDifference: null,
        maxMetricWorsening: 0,
        maxLatencyRatio: null,
        maxErrorRateDelta: null,
      },
    });
  });

  it('gives a regression model no agreement bound by default', () => {
    const m = parseManifest({ ...minimal(), experiment: { shadow: { bounds: { maxP95AbsDifference: 2 } } } }, FILE);
    expect(m.experiment.shadow?.bounds).toMatchObject({ minAgreement: null, maxP95AbsDifference: 2 });
  });

  it('refuses bounds of the other task, naming the field', () => {
    expect(errorOf({ ...minimal(), experiment: { shadow: { bounds: { minAgreement: 0.8 } } } })).toMatch(
      /experiment\.shadow\.bounds\.minAgreement: .*classification/,
    );
    expect(errorOf({ ...minimal('classification'), experiment: { shadow: { bounds: { maxMeanAbsDifference: 1 } } } })).toMatch(
      /experiment\.shadow\.bounds\.maxMeanAbsDifference: .*regression/,
    );
  });

  it('refuses a sampling percentage outside 1..100 and an unknown outcome for too little traffic', () => {
    expect(errorOf({ ...minimal(), experiment: { shadow: { samplingPercent: 0 } } })).toMatch(/experiment\.shadow\.samplingPercent/);
    expect(errorOf({ ...minimal(), experiment: { shadow: { insufficientData: 'pass' } } })).toMatch(
      /experiment\.shadow\.insufficientData: must be one of "ask-approver", "fail"/,
    );
  });
});

describe('Function: parseManifest (experiment.ab)', () => {
  it('has no A/B test unless the manifest asks for one', () => {
    expect(parseManifest(minimal(), FILE).experiment.ab).toBeNull();
  });

  it('fills in the documented defaults around the minimum detectable effect, on the first evaluation metric', () => {
    // Act
    const m = parseManifest(
      {
        ...minimal(),
        evaluation: { metrics: { mae: { direction: 'lower', bound: 2 }, rmse: { direction: 'lower' } } },
        experiment: { ab: { minDetectableEffect: 0.1 } },
      },
      FILE,
    );

    // Assess
    expect(m.experiment.ab).toEqual({
      metric: 'mae',
      trafficPercent: 10,
      minDetectableEffect: 0.1,
      alpha: 0.05,
      power: 0.8,
      maxDuration: 7 * 86400,
      onTimeout: 'rollback',
    });
  });

  it('requires the minimum detectable effect, naming the field', () => {
    expect(errorOf({ ...minimal(), experiment: { ab: {} } })).toMatch(/experiment\.ab\.minDetectableEffect: /);
  });

  it('refuses a metric with no per-request form, and a traffic share, alpha or power out of range, naming the field', () => {
    expect(
      errorOf({ ...minimal(), evaluation: { metrics: { r2: { direction: 'higher' } } }, experiment: { ab: { minDetectableEffect: 0.1 } } }),
    ).toMatch(/experiment\.ab\.metric: "r2" has no per-request form.*accuracy, mae, rmse, mape/);
    expect(errorOf({ ...minimal(), experiment: { ab: { minDetectableEffect: 0.1, metric: 'accuracy' } } })).toMatch(
      /experiment\.ab\.metric: accuracy is not a regression metric/,
    );
    expect(errorOf({ ...minimal(), experiment: { ab: { minDetectableEffect: 0.1, trafficPercent: 100 } } })).toMatch(
      /experiment\.ab\.trafficPercent/,
    );
    expect(errorOf({ ...minimal(), experiment: { ab: { minDetectableEffect: 0.1, alpha: 0.7 } } })).toMatch(/experiment\.ab\.alpha/);
    expect(errorOf({ ...minimal(), experiment: { ab: { minDetectableEffect: 0.1, power: 1 } } })).toMatch(/experiment\.ab\.power/);
    expect(errorOf({ ...minimal(), experiment: { ab: { minDetectableEffect: 0.1, onTimeout: 'pass' } } })).toMatch(
      /experiment\.ab\.onTimeout: must be one of "rollback", "promote"/,
    );
  });

  it('refuses an accuracy effect that leaves no room (1 or more)', () => {
    expect(errorOf({ ...minimal('classification'), experiment: { ab: { minDetectableEffect: 1 } } })).toMatch(
      /experiment\.ab\.minDetectableEffect: .*below 1/,
    );
  });
});
