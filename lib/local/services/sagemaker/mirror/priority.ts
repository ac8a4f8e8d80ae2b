import { existsSync } from 'node:fs';
import { setPriority } from 'node:os';

/**
 * The lowest CPU priority, for the shadow's model server and mirror process. On a 2-core laptop
 * they otherwise take a core from production's request in flight: before this module (copies
 * sent by the host, the shadow's server at the default priority) bench/endpoint's paced p99
 * added was 1.11-3.86x shadow off (/work/notes/shadow2-notes.md, section 3); with the mirror and
 * both at nice 19, 0.67-5.25x, median 1.03x (/work/notes/s9/mirror-notes.md). The shadow is
 * never what a caller waits for.
 */
const SHADOW_NICE = 19;

/**
 * util-linux's chrt, where it is (Linux): it runs a command under SCHED_IDLE, below every nice
 * value. nice 19 still gets a share of a busy core (a weight of 15 against 110 at nice 10) and
 * need not give way the moment production's server or the host wakes; a SCHED_IDLE process runs
 * only when nothing else wants the core, and is preempted as soon as anything does. An
 * unprivileged process may lower itself to SCHED_IDLE (Linux >= 2.6.39). No Node API sets a
 * scheduling policy, hence the command.
 */
const CHRT = process.platform === 'linux' ? ['/usr/bin/chrt', '/bin/chrt'].find((p) => existsSync(p)) : undefined;

/** `command args` to spawn at the lowest CPU priority: under chrt --idle where there is chrt (it execs, the pid stays the command's). */
export function atLowestPriority(command: string, args: string[]): [string, string[]] {
  return CHRT ? [CHRT, ['--idle', '0', command, ...args]] : [command, args];
}

/** nice 19 for a process just spawned (also where there is no chrt); one that is gone already is left to its exit handler. */
export function lowerPriority(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    setPriority(pid, SHADOW_NICE);
  } catch {
    // exited already
  }
}
