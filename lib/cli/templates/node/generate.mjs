// Seeded synthetic data: y = 2 + 3*x1 - 1.5*x2 + segment effect + N(0, 1).
// --drift 1 moves x1 up by 5 and makes segment "c" common: what drift detection should see.
//   node generate.mjs --seed 1 --rows 3000 [--drift 0] --out data.csv
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const EFFECT = { a: 0, b: 4, c: -2 };

/** Deterministic PRNG (mulberry32): the same seed gives the same rows on every machine. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function generate({ seed, rows, drift = 0 }) {
  const r = rng(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const out = [];
  for (let i = 0; i < rows; i++) {
    const x1 = r() * 10 + drift * 5;
    const x2 = r() * 5;
    const u = r();
    const segment = u < 0.5 - 0.3 * drift ? 'a' : u < 0.8 - 0.3 * drift ? 'b' : 'c';
    const y = 2 + 3 * x1 - 1.5 * x2 + EFFECT[segment] + gauss();
    out.push({ x1: +x1.toFixed(4), x2: +x2.toFixed(4), segment, y: +y.toFixed(4) });
  }
  return out;
}

export function toCsv(rows) {
  return `x1,x2,segment,y\n${rows.map((r) => `${r.x1},${r.x2},${r.segment},${r.y}`).join('\n')}\n`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { seed: { type: 'string', default: '1' }, rows: { type: 'string', default: '1000' }, drift: { type: 'string', default: '0' }, out: { type: 'string' } } });
  if (!values.out) throw new Error('--out <file> is required');
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(values.out, toCsv(generate({ seed: Number(values.seed), rows: Number(values.rows), drift: Number(values.drift) })));
}
