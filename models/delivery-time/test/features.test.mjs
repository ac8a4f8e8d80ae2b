import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { encode, fitEncoder, typeRow } from '../lib/features.mjs';
import { generateRows, expectedHours } from '../lib/generator.mjs';
import { FEATURES, LABEL, REGIONS, SERVICE_LEVELS } from '../lib/schema.mjs';

describe('Module: features', () => {
  describe('Method: fitEncoder / encode', () => {
    const rows = generateRows({ seed: 1, n: 500 });
    const encoder = fitEncoder(rows);

    it('keeps numeric features and one-hot encodes categories seen in training', () => {
      const names = encoder.columns.map((c) => c.name);
      assert.ok(names.includes('distance_km'));
      assert.ok(names.includes('service_level=express'));
      assert.equal(names.filter((n) => n.startsWith('origin_region=')).length, REGIONS.length);
      const x = encode(encoder, rows[0]);
      assert.equal(x[names.indexOf('distance_km')], rows[0].distance_km);
      assert.equal(x[names.indexOf(`service_level=${rows[0].service_level}`)], 1);
      const serviceCols = SERVICE_LEVELS.map((s) => x[names.indexOf(`service_level=${s}`)]);
      assert.equal(serviceCols.reduce((s, v) => s + v, 0), 1);
    });

    it('encodes an unseen category as none of the known ones', () => {
      const x = encode(encoder, { ...rows[0], origin_region: 'atlantis' });
      const regionCols = encoder.columns.map((c, j) => (c.source === 'origin_region' ? x[j] : 0));
      assert.equal(regionCols.reduce((s, v) => s + v, 0), 0);
    });
  });

  describe('Method: typeRow', () => {
    it('turns numeric strings into numbers and leaves categories', () => {
      const row = Object.fromEntries(FEATURES.map((f) => [f.name, f.type === 'numeric' ? '3' : 'x']));
      const typed = typeRow(row, 'r');
      assert.equal(typed.distance_km, 3);
      assert.equal(typed.service_level, 'x');
    });

    it('names the row and field of a bad value', () => {
      const row = Object.fromEntries(FEATURES.map((f) => [f.name, f.type === 'numeric' ? '3' : 'x']));
      assert.throws(() => typeRow({ ...row, hour: 'noon' }, 'train.csv row 7'), /train\.csv row 7: hour: "noon" is not a number/);
      assert.throws(() => typeRow({ ...row, weekday: '' }, 'train.csv row 8'), /row 8: weekday is missing/);
    });
  });
});

describe('Module: generator', () => {
  describe('Method: generateRows', () => {
    it('is deterministic for a seed', () => {
      assert.deepEqual(generateRows({ seed: 9, n: 50 }), generateRows({ seed: 9, n: 50 }));
      assert.notDeepEqual(generateRows({ seed: 9, n: 50 }), generateRows({ seed: 10, n: 50 }));
    });

    it('writes every feature within its declared range and a positive label', () => {
      for (const r of generateRows({ seed: 2, n: 2000, drift: 1 })) {
        for (const f of FEATURES) {
          if (f.type === 'numeric') {
            assert.ok(r[f.name] >= f.min && r[f.name] <= f.max, `${f.name}=${r[f.name]}`);
            if (f.integer) assert.ok(Number.isInteger(r[f.name]), `${f.name}=${r[f.name]}`);
          } else {
            assert.ok(f.values.includes(r[f.name]), `${f.name}=${r[f.name]}`);
          }
        }
        assert.ok(r[LABEL] > 0);
      }
    });

    it('makes express faster than standard and standard faster than economy', () => {
      const rows = generateRows({ seed: 3, n: 6000 });
      const meanBy = (level) => {
        const xs = rows.filter((r) => r.service_level === level).map((r) => r[LABEL]);
        return xs.reduce((s, v) => s + v, 0) / xs.length;
      };
      assert.ok(meanBy('express') < meanBy('standard') && meanBy('standard') < meanBy('economy'));
    });

    it('shifts the inputs under drift: longer distances, more express, more islands', () => {
      const base = generateRows({ seed: 4, n: 5000 });
      const drifted = generateRows({ seed: 4, n: 5000, drift: 1 });
      const median = (rows) => rows.map((r) => r.distance_km).sort((a, b) => a - b)[rows.length >> 1];
      const share = (rows, key, value) => rows.filter((r) => r[key] === value).length / rows.length;
      assert.ok(median(drifted) > 1.5 * median(base), `median distance ${median(base)} -> ${median(drifted)}`);
      assert.ok(share(drifted, 'service_level', 'express') > 2 * share(base, 'service_level', 'express'));
      assert.ok(share(drifted, 'origin_region', 'islands') > 3 * share(base, 'origin_region', 'islands'));
    });

    it('changes the label relationship under drift: the same parcel takes longer', () => {
      const [f] = generateRows({ seed: 5, n: 1 });
      assert.ok(expectedHours(f, 1) > 1.3 * expectedHours(f, 0));
    });

    it('rejects a drift outside [0, 1] and a bad row count', () => {
      assert.throws(() => generateRows({ seed: 1, n: 5, drift: 2 }), /drift/);
      assert.throws(() => generateRows({ seed: 1, n: -1 }), /n:/);
    });
  });
});
