import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename } from 'node:fs/promises';

/**
 * Crash-safe file writes. The data dir is the local cloud's only state, so a `kill -9`
 * of `mlship up` must never leave a half-written record behind: write a temp file in the
 * same directory, fsync it, rename it over the target, and fsync the directory so the
 * rename itself survives a power cut.
 */
export function writeFileAtomic(path: string, data: string | Buffer): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    if (typeof data === 'string') writeSync(fd, data);
    else writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  try {
    const dirFd = openSync(dirname(path), 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  } catch {
    // Some filesystems refuse fsync on a directory; the rename is still atomic there.
  }
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** The parsed JSON file, or `undefined` when it does not exist. Corrupt JSON throws, naming the file. */
export function readJsonIfExists<T>(path: string): T | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new Error(`${path}: not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Parse a JSON-lines file written with appends. A process killed mid-append leaves at most
 * one torn last line; it is skipped rather than failing the whole journal.
 */
export function readJsonLines<T>(path: string): T[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: T[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    try {
      out.push(JSON.parse(line) as T);
    } catch (err) {
      if (i < lines.length - 1 && lines.slice(i + 1).some((l) => l.trim())) {
        throw new Error(`${path}:${i + 1}: not valid JSON: ${(err as Error).message}`, { cause: err });
      }
    }
  });
  return out;
}

/**
 * Asynchronous atomic write (temp + rename) that does not block the event loop. `fsync`
 * makes it durable against power loss too; a `kill -9` cannot lose a completed rename
 * either way, since the page cache belongs to the kernel, not to the process.
 */
export async function writeJsonAtomicAsync(path: string, value: unknown, opts: { fsync?: boolean } = {}): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  let fh;
  try {
    fh = await open(tmp, 'w');
  } catch (err) {
    // Creating the directory only when it is missing keeps a mkdir off the common path.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    await mkdir(dirname(path), { recursive: true });
    fh = await open(tmp, 'w');
  }
  try {
    await fh.writeFile(`${JSON.stringify(value)}\n`);
    if (opts.fsync) await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}

/** Quote a string for sh and bash (single quotes, with embedded quotes closed and escaped). */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
