/** `mlship init <name> --template python|node`: scaffold models/<name>/ that releases as it is. */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import { loadManifestText, MODEL_NAME_PATTERN, MODEL_NAME_RULE } from '../../config';
import { CliError, EXIT_CODE, reportError } from '../run';

/** lib/cli/templates/<template>/: real files, so each template's own tests run as they are. */
const TEMPLATES_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'templates');
export const TEMPLATES = ['node', 'python'] as const;
export type Template = (typeof TEMPLATES)[number];

/** Every file of a template, relative to its directory. */
function templateFiles(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true })
    .filter((e) => e.name !== '__pycache__' && e.name !== 'out')
    .flatMap((e) => (e.isDirectory() ? templateFiles(dir, join(prefix, e.name)) : [join(prefix, e.name)]))
    .sort();
}

/**
 * Write `models/<name>/` under `repoRoot` from a template, with the name filled in, and check the
 * manifest it wrote with the same schema `mlship up` and the release use.
 * @returns the files written, relative to `repoRoot`
 * @throws CliError (usage) for a bad name or an existing directory; nothing is written then
 */
export function scaffoldModel(repoRoot: string, name: string, template: Template): string[] {
  // The manifest's rule, checked before anything is written.
  if (!MODEL_NAME_PATTERN.test(name)) throw new CliError(`"${name}" is not a model name: ${MODEL_NAME_RULE}`, EXIT_CODE.usage);
  const target = join(repoRoot, 'models', name);
  if (existsSync(target))
    throw new CliError(`models/${name} already exists in ${repoRoot}; pick another name or remove it`, EXIT_CODE.usage);
  const source = join(TEMPLATES_DIR, template);
  const written: string[] = [];
  for (const file of templateFiles(source)) {
    const to = join(target, file);
    mkdirSync(dirname(to), { recursive: true });
    writeFileSync(to, readFileSync(join(source, file), 'utf8').replaceAll('__MODEL__', name), { mode: statSync(join(source, file)).mode });
    written.push(relative(repoRoot, to));
  }
  loadManifestText(readFileSync(join(target, 'model.yaml'), 'utf8'), relative(repoRoot, join(target, 'model.yaml')));
  return written;
}

export function register(program: Command): void {
  program
    .command('init')
    .description(
      'Scaffold models/<name>/: a commented manifest, a server on the SageMaker contract, buildspec, Dockerfile, tests, and a seeded data generator with training',
    )
    .argument('<name>', 'the model name (3-40 lowercase letters, digits and dashes)')
    .addOption(new Option('--template <template>', 'the language of the model and its server').choices([...TEMPLATES]).default('node'))
    .option('--repo <dir>', 'the repository root that holds models/', '.')
    .option('--json', 'print the files written as JSON')
    .action((name: string, opts: { template: Template; repo: string; json?: boolean }) => {
      try {
        const files = scaffoldModel(opts.repo, name, opts.template);
        if (opts.json) {
          process.stdout.write(`${JSON.stringify({ model: name, template: opts.template, files }, null, 2)}\n`);
          return;
        }
        const test =
          opts.template === 'node'
            ? `node --test models/${name}/test/*.test.mjs`
            : `python3 -m unittest discover -s models/${name}/tests -t models/${name}`;
        process.stdout.write(
          [
            `Created models/${name}/ (${opts.template} template, ${files.length} files):`,
            ...files.map((f) => `  ${f}`),
            '',
            'Next:',
            `  ${test}      # its own tests`,
            `  git add models/${name} && git commit -m "Add ${name}" && git push mlship main   # releases it`,
            '',
          ].join('\n'),
        );
      } catch (err) {
        reportError('init', err);
      }
    });
}
