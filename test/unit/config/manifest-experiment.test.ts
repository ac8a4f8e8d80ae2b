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

  it('refuses experiment.ab, which is not built, saying so', () => {
    expect(errorOf({ ...minimal(), experiment: { ab: {} } })).toMatch(/ab: unknown field in experiment/);
  });
});
