import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CsvError, formatCsv, parseCsv, readCsvObjects, writeCsvObjects } from '../lib/csv.mjs';
import { parseArgs, UsageError } from '../lib/args.mjs';
import { Random, mulberry32 } from '../lib/prng.mjs';

describe('Module: csv', () => {
  describe('Method: parseCsv', () => {
    it('reads quoted fields with commas, quotes and newlines', () => {
      // Prepare
      const text = 'a,b\n"x, y","say ""hi"""\r\n"multi\nline",\n';
      // Act
      const rows = parseCsv(text);
      // Assess
      assert.deepEqual(rows, [['a', 'b'], ['x, y', 'say "hi"'], ['multi\nline', '']]);
    });

    it('round-trips what formatCsv writes', () => {
      const rows = [['plain', 'with,comma', 'with "quote"', 'new\nline', '']];
      assert.deepEqual(parseCsv(formatCsv(rows)), rows);
    });

    it('rejects an unterminated quote, naming the line', () => {
      assert.throws(() => parseCsv('a\n"open'), (err) => err instanceof CsvError && /line 2/.test(err.message));
    });
  });

  describe('Method: readCsvObjects', () => {
    it('names the file and row whose width differs from the header', () => {
      // Prepare
      const dir = mkdtempSync(join(tmpdir(), 'csv-test-'));
      const file = join(dir, 'bad.csv');
      writeFileSync(file, 'a,b\n1,2\n3\n');
      try {
        // Act / Assess
        assert.throws(() => readCsvObjects(file), { name: 'CsvError', message: new RegExp(`${file}: row 3 has 1 values`) });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('reads back objects written by writeCsvObjects', () => {
      const dir = mkdtempSync(join(tmpdir(), 'csv-test-'));
      const file = join(dir, 'sub', 'rows.csv');
      try {
        writeCsvObjects(file, ['a', 'b'], [{ a: 1, b: 'x,y' }, { a: 2, b: '' }]);
        assert.deepEqual(readCsvObjects(file), { header: ['a', 'b'], rows: [{ a: '1', b: 'x,y' }, { a: '2', b: '' }] });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});

describe('Module: args', () => {
  describe('Method: parseArgs', () => {
    const spec = { seed: { type: 'number', default: 1 }, out: { type: 'string' } };

    it('parses --name value and --name=value with defaults', () => {
      assert.deepEqual(parseArgs(['--out', 'x.csv', '--seed=7'], spec), { seed: 7, out: 'x.csv' });
      assert.deepEqual(parseArgs([], spec), { seed: 1 });
    });

    it('rejects unknown options, missing values and non-numbers by name', () => {
      assert.throws(() => parseArgs(['--sed', '1'], spec), (e) => e instanceof UsageError && /"--sed"/.test(e.message));
      assert.throws(() => parseArgs(['--out'], spec), /--out needs a value/);
      assert.throws(() => parseArgs(['--seed', 'abc'], spec), /--seed: "abc" is not a number/);
    });
  });
});

describe('Module: prng', () => {
  it('repeats the same stream for the same seed and differs for another', () => {
    const a = Array.from({ length: 5 }, mulberry32(42));
    const b = Array.from({ length: 5 }, mulberry32(42));
    const c = Array.from({ length: 5 }, mulberry32(43));
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    assert.ok(a.every((x) => x >= 0 && x < 1));
  });

  it('draws weighted choices in proportion to their weights', () => {
    const rng = new Random(1);
    const n = 20_000;
    let heads = 0;
    for (let i = 0; i < n; i++) if (rng.weighted({ heads: 3, tails: 1 }) === 'heads') heads++;
    assert.ok(Math.abs(heads / n - 0.75) < 0.02, `heads share ${heads / n}`);
  });

  it('draws normals with the asked mean and standard deviation', () => {
    const rng = new Random(2);
    const xs = Array.from({ length: 20_000 }, () => rng.normal(5, 2));
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length);
    assert.ok(Math.abs(mean - 5) < 0.05, `mean ${mean}`);
    assert.ok(Math.abs(sd - 2) < 0.05, `sd ${sd}`);
  });
});
