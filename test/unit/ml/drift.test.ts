import { describe, expect, it } from 'vitest';
import {
  DriftSession,
  EmptyDatasetError,
  InvalidArgumentError,
  LengthMismatchError,
  MissingColumnError,
  NonFiniteValueError,
  detectDataDrift,
  toConstraintViolations,
  type FeatureSpec,
} from '../../../lambdas/ml/index';
import { mulberry32 } from '../../../lambdas/ml/prng';
import { parseManifest } from '../../../lib/config';
import { close, ref } from './fixtures';

const f = (name: string, type: FeatureSpec['type'], critical = false): FeatureSpec => ({ name, type, critical });

function normal(rand: () => number, n: number, mean = 0, sd = 1): number[] {
  return Array.from({ length: n }, () => mean + sd * Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand()));
}

describe('Function: detectDataDrift', () => {
  describe('Method: Evidently’s default test choice', () => {
    it('uses KS on a small numeric reference and reports SciPy’s p-value', () => {
      // Prepare: the fixture's 1000 vs 3000 KS case.
      const c = (ref.ks as { name: string; reference: number[]; current: number[]; pValue: number }[]).find(
        (x) => x.name === 'exact 1000 vs 3000',
      )!;
      // Act
      const r = detectDataDrift({ reference: { x: c.reference }, current: { x: c.current }, features: [f('x', 'numeric')] });
      // Assess
      const col = r.columns[0]!;
      expect(col.method).toBe('ks');
      expect(close(col.pValue!, c.pValue, 1e-8)).toBe(true);
      expect(col.testDrifted).toBe(c.pValue < 0.05);
    });

    it('uses normalised Wasserstein on a large numeric reference, equal to SciPy’s', () => {
      const c = (
        ref.numeric as { name: string; reference: number[]; current: number[]; wassersteinNormalized: number; psi: number }[]
      ).find((x) => x.name === 'shifted normal')!;
      const r = detectDataDrift({ reference: { x: c.reference }, current: { x: c.current }, features: [f('x', 'numeric')] });
      const col = r.columns[0]!;
      expect(col.method).toBe('wasserstein');
      expect(close(col.statistic, c.wassersteinNormalized, 1e-9)).toBe(true);
      expect(close(col.psi, c.psi, 1e-9)).toBe(true);
      expect(col.testDrifted).toBe(c.wassersteinNormalized >= 0.1);
    });

    it('uses chi-squared for a small categorical reference, Z for a binary one, Jensen–Shannon for a large one', () => {
      const rand = mulberry32(1);
      const cats = (n: number, k: number) => Array.from({ length: n }, () => String.fromCharCode(97 + Math.floor(rand() * k)));
      const small = detectDataDrift({
        reference: { c: cats(500, 3), b: cats(500, 2) },
        current: { c: cats(400, 3), b: cats(400, 2) },
        features: [f('c', 'categorical'), f('b', 'categorical')],
      });
      expect(small.columns.map((c) => c.method)).toEqual(['chisquare', 'ztest']);
      const large = detectDataDrift({ reference: { c: cats(5000, 3) }, current: { c: cats(400, 3) }, features: [f('c', 'categorical')] });
      expect(large.columns[0]!.method).toBe('jensenshannon');
    });

    it('treats a numeric column with few distinct values like a category', () => {
      const rand = mulberry32(2);
      const r = detectDataDrift({
        reference: { n: Array.from({ length: 800 }, () => Math.floor(rand() * 3)) },
        current: { n: Array.from({ length: 300 }, () => Math.floor(rand() * 3)) },
        features: [f('n', 'numeric')],
      });
      expect(r.columns[0]!.method).toBe('chisquare');
    });

    it('honours an explicit method from the manifest', () => {
      const rand = mulberry32(3);
      const r = detectDataDrift({
        reference: { x: normal(rand, 2000) },
        current: { x: normal(rand, 2000) },
        features: [f('x', 'numeric')],
        options: { methods: { numeric: 'ks' } },
      });
      expect(r.columns[0]!.method).toBe('ks');
      expect(r.columns[0]!.pValue).toBeGreaterThan(0.01);
    });
  });

  describe('Method: dataset verdict', () => {
    const rand = mulberry32(4);
    const reference = { a: normal(rand, 3000), b: normal(rand, 3000), c: normal(rand, 3000), d: normal(rand, 3000) };
    const shifted = (names: string[]) =>
      Object.fromEntries(Object.keys(reference).map((k) => [k, normal(rand, 1000, names.includes(k) ? 1 : 0)]));
    const features = ['a', 'b', 'c', 'd'].map((n) => f(n, 'numeric', n === 'd'));

    it('reports no drift on the same distribution', () => {
      const r = detectDataDrift({ reference, current: shifted([]), features });
      expect(r).toMatchObject({ verdict: 'no-drift', datasetDrift: false, driftShare: 0 });
    });

    it('drifts when the share of drifted features reaches the threshold', () => {
      const r = detectDataDrift({ reference, current: shifted(['a', 'b']), features });
      expect(r.driftedColumns).toEqual(['a', 'b']);
      expect(r).toMatchObject({ verdict: 'drift', driftShare: 0.5 });
      expect(detectDataDrift({ reference, current: shifted(['a', 'b']), features, options: { datasetDriftShare: 0.75 } }).verdict).toBe(
        'no-drift',
      );
    });

    it('drifts when a critical feature drifts alone', () => {
      const r = detectDataDrift({ reference, current: shifted(['d']), features });
      expect(r).toMatchObject({ verdict: 'drift', driftShare: 0.25, driftedCritical: ['d'] });
    });

    it('gives no verdict below the minimum sample size, and none for an empty window', () => {
      const few = detectDataDrift({ reference, current: Object.fromEntries(Object.keys(reference).map((k) => [k, [5, 5, 5]])), features });
      expect(few).toMatchObject({ verdict: 'insufficient-data', datasetDrift: null });
      expect(few.columns.every((c) => c.drifted === null)).toBe(true);
      expect(detectDataDrift({ reference, current: {}, features }).verdict).toBe('insufficient-data');
    });

    it('reports a column with no current values as undecided, never as a number', () => {
      const r = detectDataDrift({ reference, current: { ...shifted([]), a: new Array(1000).fill(null) }, features });
      const a = r.columns.find((c) => c.column === 'a')!;
      expect(a).toMatchObject({ drifted: null, currentCount: 0, currentCompleteness: 0 });
      expect(a.statistic).toBeNaN();
      expect(toConstraintViolations(r).violations.map((v) => `${v.constraint_check_type}:${v.feature_name}`)).toContain(
        'completeness_check:a',
      );
    });

    it('divides p-value thresholds by the number of tests with Bonferroni', () => {
      const small = { a: reference.a.slice(0, 500), b: reference.b.slice(0, 500) };
      const r = detectDataDrift({
        reference: small,
        current: shifted([]),
        features: [f('a', 'numeric'), f('b', 'numeric')],
        options: { bonferroni: true },
      });
      expect(r.columns.map((c) => c.threshold)).toEqual([0.025, 0.025]);
    });
  });

  describe('Method: manifest options', () => {
    it('takes the manifest’s drift section and features as they are', () => {
      // Prepare
      const m = parseManifest(
        {
          name: 'delivery-time',
          task: 'regression',
          paths: ['models/delivery-time/**'],
          serve: { command: 'node serve.js' },
          label: 'hours',
          features: [{ name: 'x', type: 'numeric', critical: true }],
          drift: { minSamples: 10, psiThreshold: 0.3 },
        },
        'models/delivery-time/model.yaml',
      );
      const rand = mulberry32(8);
      // Act
      const r = detectDataDrift({
        reference: { x: normal(rand, 500) },
        current: { x: normal(rand, 50, 2) },
        features: m.features,
        options: m.drift,
      });
      // Assess
      expect(r.options).toMatchObject({ minSamples: 10, psiThreshold: 0.3, datasetDriftShare: 0.5, bonferroni: false, threshold: null });
      expect(r).toMatchObject({ verdict: 'drift', driftedCritical: ['x'] });
    });
  });

  describe('Class: DriftSession', () => {
    it('gives the same report from chunks as from one column', () => {
      // Prepare
      const rand = mulberry32(6);
      const reference = { x: normal(rand, 5000), c: Array.from({ length: 5000 }, () => (rand() < 0.3 ? 'a' : 'b')) };
      const current = { x: normal(rand, 3000, 0.2), c: Array.from({ length: 3000 }, () => (rand() < 0.4 ? 'a' : 'b')) };
      const features = [f('x', 'numeric'), f('c', 'categorical')];
      const chunks = [0, 1000, 2000].map((s) => ({ x: current.x.slice(s, s + 1000), c: current.c.slice(s, s + 1000) }));
      // Act
      const session = new DriftSession(reference, features);
      chunks.forEach((ch) => session.push(ch));
      if (session.needsRefine()) [...chunks].reverse().forEach((ch) => session.refine(ch));
      // Assess
      expect(session.report()).toEqual(detectDataDrift({ reference, current, features }));
    });

    it('refuses a report when pass 2 saw other rows than pass 1', () => {
      const rand = mulberry32(7);
      const session = new DriftSession({ x: normal(rand, 3000) }, [f('x', 'numeric')]);
      const chunk = { x: normal(rand, 500, 0.01) };
      session.push(chunk);
      expect(session.needsRefine()).toBe(true);
      expect(() => session.report()).toThrow(InvalidArgumentError);
    });
  });

  describe('Method: text and predictions', () => {
    it('tests text through token counts and lengths, and the prediction distribution', () => {
      const rand = mulberry32(5);
      const words = ['parcel', 'late', 'refund', 'invoice', 'broken', 'login', 'password', 'charge'];
      const text = (n: number, len: number) =>
        Array.from({ length: n }, () =>
          Array.from({ length: 1 + Math.floor(rand() * len) }, () => words[Math.floor(rand() * 8)]).join(' '),
        );
      const r = detectDataDrift({
        reference: { body: text(2000, 6) },
        current: { body: text(500, 14) },
        features: [f('body', 'text')],
        predictions: { task: 'classification', reference: text(2000, 1), current: Array.from({ length: 500 }, () => 'refund') },
      });
      expect(r.columns.map((c) => c.column)).toEqual(['body#tokens', 'body#length', '__prediction__']);
      expect(r.columns.find((c) => c.column === 'body#tokens')!.drifted).toBe(true);
      expect(r.columns.find((c) => c.column === '__prediction__')!.drifted).toBe(true);
      expect(r.verdict).toBe('drift');
    });
  });

  describe('Method: schema problems and bad input', () => {
    const features = [f('x', 'numeric'), f('c', 'categorical')];
    const reference = { x: Array.from({ length: 300 }, (_, i) => i % 50), c: Array.from({ length: 300 }, (_, i) => (i % 2 ? 'a' : 'b')) };

    it('reports missing, extra, mistyped, incomplete and unknown values as Model Monitor violations', () => {
      // Prepare: x missing, an extra column, a wrong-typed and unknown category.
      const current = {
        c: Array.from({ length: 200 }, (_, i) => (i % 10 === 0 ? null : i % 3 ? 'a' : 'zzz')),
        extra: new Array(200).fill(1),
      };
      // Act
      const r = detectDataDrift({ reference, current, features });
      const v = toConstraintViolations(r);
      // Assess
      const types = v.violations.map((x) => `${x.constraint_check_type}:${x.feature_name}`);
      expect(types).toEqual(
        expect.arrayContaining([
          'missing_column_check:x',
          'extra_column_check:extra',
          'completeness_check:c',
          'categorical_values_check:c',
          'baseline_drift_check:c',
        ]),
      );
      const typed = detectDataDrift({
        reference,
        current: { x: [...new Array(150).fill(3), 'abc'], c: new Array(151).fill('a') },
        features,
      });
      expect(toConstraintViolations(typed).violations.map((x) => x.constraint_check_type)).toContain('data_type_check');
      expect(typed.schema.typeErrors[0]).toEqual({ column: 'x', row: 150, value: 'abc' });
    });

    it.each([
      ['an empty reference', { reference: { x: [], c: [] }, current: {}, features }, EmptyDatasetError],
      ['a feature missing from the reference', { reference: { x: [1] }, current: {}, features }, MissingColumnError],
      ['ragged current columns', { reference, current: { x: [1, 2], c: ['a'] }, features }, LengthMismatchError],
      ['an unknown method', { reference, current: {}, features, options: { methods: { numeric: 'magic' } } }, InvalidArgumentError],
      ['KS asked for categories', { reference, current: {}, features, options: { methods: { categorical: 'ks' } } }, InvalidArgumentError],
      [
        'a Z-test on three categories',
        {
          reference: { x: reference.x, c: reference.c.map((v, i) => (i % 3 ? v : 'z')) },
          current: reference,
          features,
          options: { methods: { categorical: 'ztest' } },
        },
        InvalidArgumentError,
      ],
      ['Infinity in the reference', { reference: { x: [1, Infinity], c: ['a', 'b'] }, current: {}, features }, NonFiniteValueError],
      ['text in a numeric reference column', { reference: { x: [1, 'abc'], c: ['a', 'b'] }, current: {}, features }, NonFiniteValueError],
      ['a reference column of NaN', { reference: { x: [NaN, NaN], c: ['a', 'b'] }, current: {}, features }, EmptyDatasetError],
    ] as const)('throws a named error on %s', (_, input, Err) => {
      expect(() => detectDataDrift(input as never)).toThrow(Err);
    });
  });
});
