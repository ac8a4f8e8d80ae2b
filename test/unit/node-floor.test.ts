import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/** One Node.js floor, stated the same in package.json, the README and CI (issue 16.8). */
const root = join(import.meta.dirname, '..', '..');
const read = (f: string) => readFileSync(join(root, f), 'utf8');

describe('Node.js floor', () => {
  it('is 22 in package.json engines and the README, and CI runs the suite on 22 and 24', () => {
    const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;
    expect(engines).toBe('>=22');
    expect(read('README.md')).toContain('Node.js >= 22');
    const ci = read('.ci/run');
    expect(ci).toMatch(/^npx -y -p node@22 -- npm test$/m);
    expect(ci).toMatch(/^npx -y node@24 node_modules\/vitest\/vitest.mjs run$/m);
  });
});
