/**
 * Run this model's own scripts as child processes — the smoke test and the tests drive the
 * real CLIs and the real server this way, exactly as the build and the endpoint host do.
 */
import { spawn, execFileSync } from 'node:child_process';

/**
 * Run `node <script> ...args` in `cwd` and return its stdout; a failure throws with stderr.
 * @param {string} cwd @param {string} script @param {string[]} args
 */
export function runNode(cwd, script, args = []) {
  try {
    return execFileSync(process.execPath, [script, ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    throw new Error(`node ${script} ${args.join(' ')} failed (exit ${err.status}): ${err.stderr?.trim() || err.message}`, { cause: err });
  }
}

/**
 * Start `node serve.mjs` with the given model directory on a free loopback port and wait for
 * its "listening" line.
 * @param {{ cwd: string, modelDir: string, env?: Record<string, string>, timeoutMs?: number }} options
 *   timeoutMs is a hang detector, not a performance bound
 * @returns {Promise<{ url: string, port: number, stop: () => Promise<number | null>, exited: Promise<number | null>, stderr: () => string }>}
 */
export function startServe({ cwd, modelDir, env = {}, timeoutMs = 30_000 }) {
  const child = spawn(process.execPath, ['serve.mjs'], {
    cwd,
    env: { ...process.env, SM_MODEL_DIR: modelDir, SAGEMAKER_BIND_TO_PORT: '0', SAGEMAKER_BIND_ALL: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`serve.mjs did not report listening within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve.mjs exited with ${code} before listening; stderr: ${stderr.trim()}`));
    });
    child.stdout.on('data', (d) => {
      stdout += d;
      for (const line of stdout.split('\n')) {
        if (!line.includes('"listening"')) continue;
        clearTimeout(timer);
        const { port } = JSON.parse(line);
        resolve({
          url: `http://127.0.0.1:${port}`,
          port,
          exited,
          stderr: () => stderr,
          stop: () => {
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
            return exited;
          },
        });
        return;
      }
    });
  });
}

/**
 * POST a body to `<url>/invocations` and return the status and parsed JSON.
 * @param {string} url @param {string} contentType @param {string} body
 */
export async function invoke(url, contentType, body) {
  const res = await fetch(`${url}/invocations`, { method: 'POST', headers: { 'Content-Type': contentType }, body });
  return { status: res.status, body: await res.json() };
}
