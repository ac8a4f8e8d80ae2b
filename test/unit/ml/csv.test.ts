import { describe, expect, it } from 'vitest';
import { MissingColumnError, ParseError, csvRecords, parseCsv, toColumns } from '../../../lambdas/ml/index';

describe('Function: parseCsv', () => {
  it('parses quoted fields with commas, escaped quotes, newlines, CRLF and a BOM', () => {
    const text = '\ufeffid,note,amount\r\n1,"late, again",3.5\r\n2,"she said ""hi""\nthen left",\r\n';
    const csv = parseCsv(text, 'data/train.csv');
    expect(csv.header).toEqual(['id', 'note', 'amount']);
    expect(csv.rows).toEqual([
      ['1', 'late, again', '3.5'],
      ['2', 'she said "hi"\nthen left', ''],
    ]);
    expect([...csvRecords(csv)][0]).toEqual({ id: '1', note: 'late, again', amount: '3.5' });
  });

  it.each([
    ['a short row', 'a,b\n1\n', 'data.csv line 2: 1 fields, the header has 2'],
    ['an unterminated quote', 'a,b\n"1,2\n', 'data.csv line 2: unterminated quoted field'],
    ['text after a quote', 'a\n"x"y\n', 'data.csv line 2: unexpected character'],
    ['no header', '\n\n', 'data.csv line 1: no header row'],
  ])('names the line of %s', (_, text, message) => {
    expect(() => parseCsv(text, 'data.csv')).toThrow(ParseError);
    expect(() => parseCsv(text, 'data.csv')).toThrow(message);
  });
});

describe('Function: toColumns', () => {
  it('types numeric columns, keeps bad values for the type check and nulls for blanks', () => {
    const csv = parseCsv('x,c\n1.5,a\n,b\nabc,\n');
    expect(
      toColumns(csv, [
        { name: 'x', type: 'numeric' },
        { name: 'c', type: 'categorical' },
      ]),
    ).toEqual({ x: [1.5, null, 'abc'], c: ['a', 'b', null] });
    expect(() => toColumns(csv, [{ name: 'y', type: 'numeric' }], 'data/holdout.csv')).toThrow(MissingColumnError);
  });
});
