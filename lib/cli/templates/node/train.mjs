// Train: node train.mjs --data train.csv --out model/  (writes model/model.json)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fit, readCsv, rmse } from './model.mjs';

const { values } = parseArgs({ options: { data: { type: 'string' }, out: { type: 'string' } } });
if (!values.data || !values.out) throw new Error('usage: train.mjs --data <csv> --out <dir>');
const rows = readCsv(readFileSync(values.data, 'utf8'));
const model = fit(rows);
mkdirSync(values.out, { recursive: true });
writeFileSync(join(values.out, 'model.json'), `${JSON.stringify(model, null, 2)}\n`);
console.log(`trained on ${rows.length} rows: training RMSE ${rmse(model, rows).toFixed(3)}`);
