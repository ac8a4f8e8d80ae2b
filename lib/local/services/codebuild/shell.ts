import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { spawnChild } from '../../core/children';
import { shellQuote } from '../../core/fsutil';

/**
 * Runs one buildspec phase the way CodeBuild's agent does: all commands of the phase in ONE
 * bash session (so `cd` and variables carry from command to command), stopping at the first
 * failing command, then the phase's `finally` commands in the same session. Every variable
 * the phase leaves behind is carried into the next phase and read for exported-variables:
 * the session runs with `set -a`, so plain `VAR=x` is exported, and an EXIT trap dumps the
 * environment. A generated script is the only way to get per-command status and the final
 * environment out of one session; no library does this.
 */

export interface PhaseRun {
  name: string;
  commands: string[];
  finally: string[];
  env: Record<string, string>;
  cwd: string;
  /** Directory for the generated script and the env / failure files. */
  tmpDir: string;
  log: Writable;
  /** Receives the child so the caller can stop it (StopBuild, timeout). */
  onChild?: (child: ChildProcess) => void;
}

export interface PhaseResult {
  exitCode: number;
  /** The environment at the end of the phase; the input env when the shell died before dumping it. */
  env: Record<string, string>;
  /** The first failing command and its status. */
  failed?: { command: string; status: number };
  signal?: NodeJS.Signals;
}

/** Names a session sets by itself; carrying them into the next phase would be wrong. */
const SHELL_OWN = new Set(['_', 'PWD', 'OLDPWD', 'SHLVL', 'SHELLOPTS', 'BASHOPTS']);

function block(fn: string, commands: string[]): string {
  const lines = [`${fn}() {`];
  for (const cmd of commands) {
    const q = shellQuote(cmd);
    lines.push(
      `__mlship_log ${q}`,
      cmd,
      `__MLSHIP_RC=$?; if [ "$__MLSHIP_RC" -ne 0 ]; then __mlship_fail ${q} "$__MLSHIP_RC"; return "$__MLSHIP_RC"; fi`,
    );
  }
  lines.push('return 0', '}');
  return lines.join('\n');
}

export function phaseScript(run: Pick<PhaseRun, 'commands' | 'finally' | 'cwd'>, envOut: string, failOut: string): string {
  return [
    'set -a',
    `__mlship_log() { printf '[Container] %s Running command %s\\n' "$(date -u '+%Y/%m/%d %H:%M:%S')" "$1"; }`,
    `__mlship_fail() { printf '[Container] %s Command did not exit successfully %s exit status %s\\n' "$(date -u '+%Y/%m/%d %H:%M:%S')" "$1" "$2"; if [ ! -e ${shellQuote(failOut)} ]; then printf '%s\\0%s' "$2" "$1" > ${shellQuote(failOut)}; fi; }`,
    `__mlship_dump() { env -0 > ${shellQuote(envOut)}; }`,
    'trap __mlship_dump EXIT',
    `cd ${shellQuote(run.cwd)} || exit 1`,
    block('__mlship_commands', run.commands),
    block('__mlship_finally', run.finally),
    '__mlship_commands; __MLSHIP_STATUS=$?',
    '__mlship_finally; __MLSHIP_F=$?',
    'if [ "$__MLSHIP_STATUS" -eq 0 ]; then __MLSHIP_STATUS=$__MLSHIP_F; fi',
    'exit "$__MLSHIP_STATUS"',
    '',
  ].join('\n');
}

function readEnvDump(path: string): Record<string, string> | undefined {
  if (!existsSync(path)) return undefined;
  const env: Record<string, string> = {};
  for (const entry of readFileSync(path, 'utf8').split('\0')) {
    const eq = entry.indexOf('=');
    if (eq <= 0) continue;
    const name = entry.slice(0, eq);
    if (name.startsWith('__MLSHIP') || name.startsWith('BASH_FUNC_') || SHELL_OWN.has(name)) continue;
    env[name] = entry.slice(eq + 1);
  }
  return env;
}

/** Run one phase; resolves when the session ends (never rejects on a failing command). */
export function runPhase(run: PhaseRun): Promise<PhaseResult> {
  const script = join(run.tmpDir, `${run.name}.sh`);
  const envOut = join(run.tmpDir, `${run.name}.env`);
  const failOut = join(run.tmpDir, `${run.name}.failed`);
  writeFileSync(script, phaseScript(run, envOut, failOut));
  return new Promise((resolve) => {
    // The session leads its own process group, so a stop kills what it started too; supervised,
    // so it does not outlive a killed cloud (core/children.ts).
    const child = spawnChild(`build phase ${run.name} (${run.cwd})`, 'bash', [script], {
      cwd: run.cwd,
      env: run.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.pipe(run.log, { end: false });
    child.stderr!.pipe(run.log, { end: false });
    run.onChild?.(child);
    let done = false;
    const finish = (exitCode: number, signal?: NodeJS.Signals) => {
      if (done) return;
      done = true;
      let failed: PhaseResult['failed'];
      if (existsSync(failOut)) {
        const [status, command] = readFileSync(failOut, 'utf8').split('\0');
        failed = { command: command ?? '', status: Number(status) };
      }
      resolve({ exitCode, env: readEnvDump(envOut) ?? run.env, failed, signal });
    };
    child.on('error', (err) => {
      run.log.write(`[Container] could not start bash: ${err.message}\n`);
      finish(127);
    });
    // 'close' waits for stdout/stderr to drain, so the log is complete when the phase ends;
    // but a command that left a background process holding the pipes must not hang the build.
    child.on('close', (code, signal) => finish(code ?? 1, signal ?? undefined));
    child.on('exit', (code, signal) => {
      setTimeout(() => finish(code ?? 1, signal ?? undefined), 1000).unref();
    });
  });
}

/** Stop a phase's process group: SIGTERM, then SIGKILL if it lingers. */
export function killGroup(child: ChildProcess, graceMs = 2000): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const kill = (sig: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, sig);
    } catch {
      // already gone
    }
  };
  kill('SIGTERM');
  const t = setTimeout(() => kill('SIGKILL'), graceMs);
  t.unref();
  child.once('exit', () => clearTimeout(t));
}
