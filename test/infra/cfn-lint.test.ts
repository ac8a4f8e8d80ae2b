import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { NestedStack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import { synthesize } from './helpers';

/**
 * The synthesized templates checked by cfn-lint, AWS's own CloudFormation linter (resource
 * specifications, property types and values, intrinsic functions), which no one here wrote:
 * a template CloudFormation would refuse fails here, not at `cdk deploy`. cfn-lint is
 * pip-installed on this machine image; `.ci/run` installs it when it is missing.
 */
const run = promisify(execFile);
const cfnLintMissing = await run('cfn-lint', ['--version']).then(
  () => false,
  () => true,
);
const dir = mkdtempSync(join(tmpdir(), 'mlship-cfn-lint-'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(cfnLintMissing)('Templates: cfn-lint', () => {
  it("finds no error in the stateful, platform and models templates (the models stack's shards too)", { timeout: 120_000 }, async () => {
    // Prepare
    const { statefulTemplate, platformTemplate, modelsStack } = synthesize();
    const shards = modelsStack.node.findAll().filter((c): c is NestedStack => c instanceof NestedStack);
    const files = [
      ['mlship-stateful.json', statefulTemplate.toJSON()],
      ['mlship-platform.json', platformTemplate.toJSON()],
      ['mlship-models.json', Template.fromStack(modelsStack).toJSON()],
      ...shards.map((n) => [`${n.node.id}.json`, Template.fromStack(n).toJSON()]),
    ].map(([name, template]) => {
      const path = join(dir, name as string);
      writeFileSync(path, JSON.stringify(template));
      return path;
    });

    // Act: errors only (warnings and informational findings are advice, not refusals)
    const out = await run('cfn-lint', ['--format', 'json', '--non-zero-exit-code', 'error', '--', ...files], {
      maxBuffer: 64 * 1024 * 1024,
    }).then(
      (r) => r.stdout,
      (err: { stdout?: string; message: string }) => err.stdout ?? err.message,
    );

    // Assess
    const findings = JSON.parse(out || '[]') as Array<{
      Level: string;
      Rule: { Id: string };
      Message: string;
      Location: { Path: unknown[] };
      Filename: string;
    }>;
    const errors = findings
      .filter((f) => f.Level === 'Error')
      .map((f) => `${f.Filename.split('/').at(-1)} ${f.Rule.Id} ${f.Location.Path.join('.')}: ${f.Message}`);
    expect(errors).toEqual([]);
  });
});
