import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/**
 * Process supervision of the local cloud, in one place: the build phases and model servers,
 * which run commands of the models' own (bash, python, node...) that cannot be asked to watch
 * their parent, must not outlive a cloud that is killed with `kill -9`.
 *
 * - Each such child leads its own process group (`detached`), so one signal reaches whatever
 *   it started too.
 * - A watchdog process (watchdog.mjs) holds a pipe from the cloud and the list of live groups;
 *   when the pipe closes, which the kernel does when the cloud dies however it dies, it kills
 *   them. One small process for all children rather than a wrapper per child.
 * - Each group is also recorded in a durable pid file, `<dataDir>/children/<pgid>.json`, with
 *   its leader's start time from /proc/<pid>/stat. The next start sweeps what is still alive
 *   (the watchdog killed too, a machine that suspended mid-kill...); the start time tells a
 *   group of ours from an unrelated process that got the same pid since.
 *
 * One local cloud per process (see cloud.ts), so the open supervisor is process-wide:
 * `spawnChild` uses it when a cloud runs, and spawns a plain detached child otherwise (the
 * services' own tests).
 */

const WATCHDOG = fileURLToPath(new URL('./watchdog.mjs', import.meta.url));
const DIR = 'children';

interface ChildRecord {
  pid: number;
  startTime: string;
  label: string;
  /** The cloud that started it: a group whose cloud still runs is not an orphan. */
  owner: { pid: number; startTime: string };
}

/** Fields of /proc/<pid>/stat after the command name: state, ppid, pgrp, ..., starttime. */
function stat(pid: number): { state: string; pgrp: number; startTime: string } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name is in parentheses and may itself hold spaces or parentheses.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: f[0]!, pgrp: Number(f[2]), startTime: f[19]! };
}

/** The start time of a process (clock ticks since boot), or undefined when it does not exist. */
export function processStartTime(pid: number): string | undefined {
  return stat(pid)?.startTime;
}

/** Live (not zombie) processes of process group `pgid`, read from /proc. */
export function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const s = stat(Number(d));
    if (s && s.pgrp === pgid && s.state !== 'Z' && s.state !== 'X') out.push(Number(d));
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Kill the recorded groups of a cloud that is gone and remove their records.
 * @returns one line per group that was still running, for the log
 */
export async function sweepOrphans(dataDir: string): Promise<string[]> {
  const dir = join(dataDir, DIR);
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
  const swept: string[] = [];
  const killed: number[] = [];
  for (const file of files) {
    let rec: ChildRecord;
    try {
      rec = JSON.parse(readFileSync(join(dir, file), 'utf8')) as ChildRecord;
    } catch {
      rmSync(join(dir, file), { force: true }); // torn by a crash while written: nothing to go by
      continue;
    }
    if (processStartTime(rec.owner.pid) === rec.owner.startTime) continue; // its cloud still runs
    const leader = processStartTime(rec.pid);
    // A pid is not reused while its group has members, so members of group `pid` are ours unless
    // the leader's slot holds another process now (then the group had ended before).
    if (leader === undefined || leader === rec.startTime) {
      const members = groupMembers(rec.pid);
      if (members.length > 0) {
        try {
          process.kill(-rec.pid, 'SIGKILL');
          killed.push(rec.pid);
          swept.push(`${rec.label} (process group ${rec.pid}, ${members.length} process(es))`);
        } catch {
          // ended meanwhile
        }
      }
    }
    rmSync(join(dir, file), { force: true });
  }
  // SIGKILL is not instant: wait until they are gone, so the start that follows reuses nothing.
  const deadline = Date.now() + 5000;
  while (killed.some((g) => groupMembers(g).length > 0) && Date.now() < deadline) await sleep(20);
  return swept;
}

let active: ChildSupervisor | undefined;

/** Sweeps orphans at open, then records, watches and forgets the cloud's process groups. */
export class ChildSupervisor {
  private readonly owner: ChildRecord['owner'];
  private readonly groups = new Set<number>();

  private constructor(
    private readonly dir: string,
    private readonly watchdog: ChildProcess,
  ) {
    this.owner = { pid: process.pid, startTime: processStartTime(process.pid) ?? '' };
  }

  /**
   * Sweep the orphans of a previous run, start the watchdog and make this the process's supervisor.
   * @param log receives one line per orphan swept
   */
  static async open(dataDir: string, log: (line: string) => void): Promise<ChildSupervisor> {
    for (const line of await sweepOrphans(dataDir)) log(`killed ${line} left running by a local cloud that was killed`);
    const dir = join(dataDir, DIR);
    mkdirSync(dir, { recursive: true });
    const watchdog = spawn(process.execPath, [WATCHDOG], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, NODE_OPTIONS: '' } });
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: watchdog.stdout! }).once('line', () => resolve());
      watchdog.once('error', reject);
      watchdog.once('exit', (code) => reject(new Error(`the local cloud's watchdog exited with ${code} before it was ready`)));
    });
    // Neither the watchdog nor its pipe keeps the cloud's process alive.
    watchdog.stdout!.destroy();
    watchdog.unref();
    (watchdog.stdin as unknown as { unref?: () => void }).unref?.();
    watchdog.stdin!.on('error', () => undefined);
    active = new ChildSupervisor(dir, watchdog);
    return active;
  }

  /** The watchdog's pid (tests). */
  get watchdogPid(): number | undefined {
    return this.watchdog.pid;
  }

  /** Spawn `command` leading its own process group, recorded and watched until its leader exits. */
  spawn(label: string, command: string, args: string[], options: SpawnOptions): ChildProcess {
    const child = spawn(command, args, { ...options, detached: true });
    const pid = child.pid;
    if (pid === undefined) return child; // failed to spawn: its 'error' event says why
    const file = join(this.dir, `${pid}.json`);
    const rec: ChildRecord = { pid, startTime: processStartTime(pid) ?? '', label, owner: this.owner };
    writeFileSync(file, JSON.stringify(rec));
    this.groups.add(pid);
    this.watchdog.stdin!.write(`+${pid}\n`);
    child.once('exit', () => {
      this.groups.delete(pid);
      rmSync(file, { force: true });
      if (this.watchdog.stdin!.writable) this.watchdog.stdin!.write(`-${pid}\n`);
    });
    return child;
  }

  /** End the watchdog; call after every child was stopped. The process groups still listed are killed by it. */
  async close(): Promise<void> {
    if (active === this) active = undefined;
    const w = this.watchdog;
    if (w.exitCode !== null || w.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
    w.stdin!.end();
    const timer = setTimeout(() => w.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

/**
 * Spawn a child that leads its own process group (a build phase, a model server): supervised
 * when a local cloud runs in this process, a plain detached child otherwise.
 */
export function spawnChild(label: string, command: string, args: string[], options: SpawnOptions): ChildProcess {
  return active ? active.spawn(label, command, args, options) : spawn(command, args, { ...options, detached: true });
}
