/**
 * Ctrl-C of `mlship up`, n times: each round starts `mlship up` (bin/mlship.mjs, as the
 * `mlship` command runs it) in a fresh directory with a process group of its own, as a
 * terminal does, signals the whole group with SIGINT, and checks that it stopped gracefully:
 * exit 0, "local cloud stopped" printed, no cloud.json and no process left that mentions its
 * data dir. Odd rounds signal as soon as the banner is out, even rounds while the cloud is
 * still starting (once its s3rver child runs).
 *
 *     npm run test:sigint -- [n]     (default 20)
 *
 * Exit code 0 only if every round stopped gracefully.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const MLSHIP = join(import.meta.dirname, '..', 'bin', 'mlship.mjs');

function processesMentioning(text: string): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text);
      } catch {
        return false; // ended between the listing and the read
      }
    });
}

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 10));
}

async function round(when: 'banner' | 'starting'): Promise<{ ok: boolean; detail: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'mlship-sigint-'));
  const dataDir = join(dir, '.mlship');
  let output = '';
  const child = spawn(process.execPath, [MLSHIP, 'up', '--port', '0', '--no-console', '--no-schedule'], {
    cwd: dir,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | string>((r) => child.once('exit', (code, sig) => r(code ?? sig!)));
  let banner = false;
  createInterface({ input: child.stdout! }).on('line', (l) => {
    output += `${l}\n`;
    if (l.startsWith('Watch with')) banner = true;
  });
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  let gone = false;
  void exited.then(() => (gone = true));
  await until(() => gone || (when === 'banner' ? banner : processesMentioning(join(dataDir, 's3')).length > 0));
  if (!gone) process.kill(-child.pid!, 'SIGINT');
  const code = await exited;
  const left = processesMentioning(dataDir);
  const cloudFile = existsSync(join(dataDir, 'cloud.json'));
  for (const pid of left) process.kill(pid, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
  const ok = code === 0 && output.includes('mlship: local cloud stopped') && left.length === 0 && !cloudFile;
  const detail = `exit ${code}, ${left.length} process(es) left, cloud.json ${cloudFile ? 'left' : 'removed'}`;
  return { ok, detail: ok ? detail : `${detail}\n${output.trimEnd().split('\n').slice(-6).join('\n')}` };
}

const n = Number(process.argv[2] ?? 20);
let failed = 0;
for (let i = 1; i <= n; i++) {
  const when = i % 2 ? 'banner' : 'starting';
  const { ok, detail } = await round(when);
  if (!ok) failed++;
  process.stdout.write(
    `round ${i}/${n} (SIGINT to the group ${when === 'banner' ? 'after the banner' : 'while starting'}): ${ok ? 'graceful' : 'NOT graceful'}: ${detail}\n`,
  );
}
process.stdout.write(`\n${n - failed}/${n} rounds stopped gracefully\n`);
process.exitCode = failed ? 1 : 0;
