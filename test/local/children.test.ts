import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { ChildSupervisor, groupMembers, processStartTime } from '../../lib/local/core/children';
import { eventually } from './helpers';

/** Issue 14.7: the build scripts and model servers of a killed local cloud must not outlive it. */

const dirs: string[] = [];
const groups: number[] = [];
afterAll(() => {
  for (const g of groups) {
    try {
      process.kill(-g, 'SIGKILL');
    } catch {
      // gone, as it should be
    }
  }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A host process (fixtures/children-host.ts) with one supervised process group of two processes. */
async function host(dataDir: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'children-host.ts'), dataDir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const ids = await new Promise<{ group: number; watchdog: number }>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (l) => resolve(JSON.parse(l)));
    child.once('exit', (code) => reject(new Error(`children-host exited early with ${code}`)));
  });
  groups.push(ids.group);
  await eventually(() => (groupMembers(ids.group).length === 2 ? true : undefined));
  const kill9 = async () => {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  };
  return { ...ids, kill9 };
}

const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'mlship-children-'));
  dirs.push(d);
  return d;
};

describe('Class: ChildSupervisor', () => {
  it('kills the process groups of a cloud killed with kill -9 (the watchdog)', async () => {
    // Prepare
    const h = await host(tmp());

    // Act
    await h.kill9();

    // Assess: the whole group goes, the background sleep too
    await eventually(() => (groupMembers(h.group).length === 0 ? true : undefined));
    expect(groupMembers(h.group)).toEqual([]);
  });

  it('sweeps at open what survived a kill -9 of the cloud and its watchdog, and leaves a reused pid alone', async () => {
    // Prepare: the watchdog dies too; a record names a live process group whose start time differs (pid reuse)
    const dataDir = tmp();
    const h = await host(dataDir);
    process.kill(h.watchdog, 'SIGKILL');
    await h.kill9();
    const stranger = spawn('sleep', ['1000'], { detached: true, stdio: 'ignore' });
    groups.push(stranger.pid!);
    writeFileSync(
      join(dataDir, 'children', `${stranger.pid}.json`),
      JSON.stringify({ pid: stranger.pid, startTime: '1', label: 'reused', owner: { pid: h.group, startTime: '1' } }),
    );
    expect(groupMembers(h.group)).toHaveLength(2);
    const logged: string[] = [];

    // Act
    const supervisor = await ChildSupervisor.open(dataDir, (l) => logged.push(l));
    await supervisor.close();

    // Assess
    expect(groupMembers(h.group)).toEqual([]);
    expect(logged).toEqual([expect.stringContaining(`sleeper (process group ${h.group}, 2 process(es))`)]);
    expect(processStartTime(stranger.pid!)).toBeDefined();
  });
});
