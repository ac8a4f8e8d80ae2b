#!/usr/bin/env node
/**
 * Write synthetic support tickets as CSV (header row: text, channel, customer_tier, category).
 *
 *   node generate.mjs --seed 1 --rows 20000 --out data/train.csv [--drift 0..1]
 */
import { isMain, parseArgs, runMain } from './lib/args.mjs';
import { writeCsvObjects } from './lib/csv.mjs';
import { generateRows } from './lib/generator.mjs';
import { COLUMNS } from './lib/schema.mjs';

export { generateRows };

if (isMain(import.meta.url)) {
  await runMain(() => {
    const args = parseArgs(process.argv.slice(2), {
      seed: { type: 'number', default: 1 },
      rows: { type: 'number', default: 20_000 },
      drift: { type: 'number', default: 0 },
      out: { type: 'string' },
    });
    if (!args.out) throw new Error('--out is required, e.g. --out data/train.csv');
    const rows = generateRows({ seed: args.seed, n: args.rows, drift: args.drift });
    writeCsvObjects(args.out, COLUMNS, rows);
    process.stdout.write(`wrote ${rows.length} rows (seed ${args.seed}, drift ${args.drift}) to ${args.out}\n`);
  });
}
