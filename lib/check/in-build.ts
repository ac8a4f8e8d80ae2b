/**
 * The check's build step inside a CodeBuild build (the pull-request project on AWS): the model's
 * buildspec run in the checkout, so the pull request's own buildspec, tests and training run.
 * CodeBuild cannot nest a second buildspec, so its phases run here, in order, in ONE bash session
 * with `set -e` (variables carry from phase to phase as in CodeBuild); the first failing command
 * ends the check in `error`. Not emulated, unlike the local cloud's CodeBuild: `finally` blocks,
 * `on-failure: CONTINUE`, post_build after a failed build, caches, exported variables. The
 * artifacts' base directory is the candidate bundle.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { parseBuildspec } from '../local/services/codebuild';
import { CheckError, type CheckBuilder } from './builder';

const PHASES = ['install', 'pre_build', 'build', 'post_build'] as const;

/** The buildspec as one bash script: phase by phase, each announced, `set -e` throughout. */
function script(spec: ReturnType<typeof parseBuildspec>): string {
  const lines = ['set -e'];
  for (const name of PHASES) {
    const phase = spec.phases[name];
    if (!phase) continue;
    lines.push(`echo "[mlship check] phase ${name}"`, ...phase.commands);
  }
  return `${lines.join('\n')}\n`;
}

/** Run the buildspec of each checked model in `repo` (the CodeBuild checkout). */
export function inPlaceBuilder(repo: string): CheckBuilder {
  return {
    async build(input, checkId, workDir) {
      const m = input.manifest;
      const modelDir = `models/${m.name}`;
      const file = posix.join(modelDir, m.build.buildspec);
      const spec = parseBuildspec(readFileSync(join(repo, file), 'utf8'), file);
      const base = spec.artifacts?.['base-directory'];
      if (!base) throw new CheckError(`${file}: artifacts.base-directory is required: it is the model bundle the check scores`);
      const log = join(workDir, 'build.log');
      mkdirSync(workDir, { recursive: true });
      const env = {
        ...process.env,
        ...spec.env.variables,
        MODEL_NAME: m.name,
        MODEL_VERSION: checkId,
        MODEL_DIR: modelDir,
        MLSHIP_TRIGGER: 'push',
        IMAGE_TAG_PREFIX: `check-${input.commit.slice(0, 12)}`,
      };
      const code = await new Promise<number>((resolve, reject) => {
        const child = spawn('bash', ['-c', script(spec)], { cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe'] });
        const out = createWriteStream(log);
        child.stdout.pipe(out);
        child.stderr.pipe(out);
        // In CodeBuild the build log is the project's log: echo it there too.
        if (process.env.CODEBUILD_BUILD_ID) {
          child.stdout.pipe(process.stdout);
          child.stderr.pipe(process.stderr);
        }
        child.on('error', reject);
        child.on('close', (c) => resolve(c ?? 1));
      });
      if (code !== 0) throw new CheckError(`the buildspec ${file} failed (exit ${code}); log: ${log}`, undefined, log);
      const dir = join(repo, base);
      if (!existsSync(dir)) throw new CheckError(`${file}: the build left no ${base} (artifacts.base-directory)`, undefined, log);
      return { dir, buildLog: log };
    },
  };
}
