import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Reference values made by test/fixtures/ml/make-fixtures.py with SciPy/NumPy. */
export const ref: any = JSON.parse(readFileSync(fileURLToPath(new URL('../../fixtures/ml/reference.json', import.meta.url)), 'utf8'));

/** Relative-or-absolute closeness: |a − b| <= tol·max(1, |b|). */
export function close(actual: number, expected: number, tol = 1e-9): boolean {
  return Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected));
}
