import { renameSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';

/**
 * Write JSON so a reader (or a restart after a crash) never sees half a file: write a
 * temporary sibling, then rename over the target (atomic on one filesystem).
 */
export function writeJsonAtomic(path: string, value: unknown): void {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, JSON.stringify(value, null, 2));
  renameSync(tmp, path);
}


/** Epoch seconds: the AWS JSON protocol's timestamp encoding. */
export const epochSeconds = (ms = Date.now()): number => Math.round(ms) / 1000;
