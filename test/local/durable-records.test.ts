import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

/**
 * The records SageMaker and CodeBuild keep in the data dir go through core/fsutil's
 * writeJsonAtomic, the one that fsyncs the temporary file before renaming it over the record
 * (and the directory after): the README's crash promise ("a kill -9 loses nothing that was
 * visible") holds against power loss too only if the bytes are on disk before the rename
 * makes them the record. node:fs is observed, not replaced: every call still does its work.
 */
type FsCall = { op: 'open'; path: string; fd: number } | { op: 'fsync'; fd: number } | { op: 'rename'; from: string; to: string };
const calls: FsCall[] = [];

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const openSync = (...args: Parameters<typeof fs.openSync>) => {
    const fd = fs.openSync(...args);
    calls.push({ op: 'open', path: String(args[0]), fd });
    return fd;
  };
  const fsyncSync = (fd: number) => {
    calls.push({ op: 'fsync', fd });
    fs.fsyncSync(fd);
  };
  const renameSync = (from: import('node:fs').PathLike, to: import('node:fs').PathLike) => {
    calls.push({ op: 'rename', from: String(from), to: String(to) });
    fs.renameSync(from, to);
  };
  return { ...fs, default: { ...fs, openSync, fsyncSync, renameSync }, openSync, fsyncSync, renameSync };
});

const { ResourceStore } = await import('../../lib/local/services/sagemaker/store');
const { BuildJournal } = await import('../../lib/local/services/codebuild/journal');

/** Whether `target` was renamed into place from a file that was fsynced first. */
function fsyncedBeforeRename(target: string): boolean {
  const rename = calls.findIndex((c) => c.op === 'rename' && c.to === target);
  if (rename < 0) return false;
  const from = (calls[rename] as { from: string }).from;
  const open = calls.findIndex((c) => c.op === 'open' && c.path === from);
  if (open < 0) return false;
  const fd = (calls[open] as { fd: number }).fd;
  return calls.slice(open, rename).some((c) => c.op === 'fsync' && c.fd === fd);
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mlship-durable-'));
  calls.length = 0;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('Class: ResourceStore (SageMaker models, endpoint configs, endpoints)', () => {
  describe('Method: put', () => {
    it('writes the record through an fsynced temporary file renamed over it, and a new store reads it back', () => {
      // Prepare
      const store = new ResourceStore<{ EndpointName: string; EndpointStatus: string }>(join(dir, 'endpoints'));

      // Act
      store.put('churn', { EndpointName: 'churn', EndpointStatus: 'InService' });

      // Assess
      const target = join(dir, 'endpoints', 'churn.json');
      expect(fsyncedBeforeRename(target)).toBe(true);
      expect(JSON.parse(readFileSync(target, 'utf8'))).toEqual({ EndpointName: 'churn', EndpointStatus: 'InService' });
      expect(new ResourceStore(join(dir, 'endpoints')).get('churn')).toEqual({ EndpointName: 'churn', EndpointStatus: 'InService' });
    });
  });
});

describe('Class: BuildJournal (CodeBuild builds)', () => {
  describe('Method: save', () => {
    it('writes the build record through an fsynced temporary file renamed over it', () => {
      // Prepare
      const journal = new BuildJournal(dir);
      const rec = { id: 'mlship-build-churn:0b7c', projectName: 'mlship-build-churn', buildNumber: 1, buildStatus: 'IN_PROGRESS' };

      // Act
      journal.save(rec as never);

      // Assess
      const target = join(dir, 'mlship-build-churn', '0b7c.json');
      expect(fsyncedBeforeRename(target)).toBe(true);
      expect(new BuildJournal(dir).get('mlship-build-churn:0b7c')).toMatchObject({ buildNumber: 1, buildStatus: 'IN_PROGRESS' });
    });
  });
});
