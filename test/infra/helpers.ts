import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, NestedStack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { PolicyViolation } from 'aws-cdk-lib';
import { discoverModels, type DiscoveredModel } from '../../lib/config';
import { buildApp, type MlshipStacks } from '../../lib/infra/app';
import { resolveAppConfig, type RawContext } from '../../lib/infra/app-config';

export const REPO_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
/** Fixture manifests, so these tests do not depend on the example models. */
export const FIXTURE_MODELS_DIR = 'test/infra/fixtures/models';

export function fixtureModels(): DiscoveredModel[] {
  return discoverModels(REPO_ROOT, FIXTURE_MODELS_DIR);
}

export interface Synthesized extends MlshipStacks {
  app: App;
  models: DiscoveredModel[];
  statefulTemplate: Template;
  platformTemplate: Template;
}

/**
 * Compose the app exactly as bin/app.ts does and synthesize it once. Bundling is skipped
 * (`aws:cdk:bundling-stacks` = []): esbuild output is not what these tests assert, and
 * bundling thirteen functions would multiply the synth time. The cdk-nag plugin is added
 * as in bin/app.ts, so an unacknowledged finding fails the synthesis here too.
 */
export function synthesize(context: RawContext = {}, models: DiscoveredModel[] = fixtureModels()): Synthesized {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stacks = buildApp(app, { repoRoot: REPO_ROOT, models, config: resolveAppConfig(context) });
  return {
    app,
    models,
    ...stacks,
    statefulTemplate: Template.fromStack(stacks.stateful),
    platformTemplate: Template.fromStack(stacks.platform),
  };
}

/** Every AwsSolutions finding (error or warning) that is not acknowledged. */
export function nagFindings(app: App): PolicyViolation[] {
  return new AwsSolutionsChecks().validateScope(app).violations;
}

/** The state machine definition: the Fn::Join parts concatenated, tokens kept as JSON. */
export function parseDefinition(definitionString: unknown): { States: Record<string, Record<string, unknown>>; StartAt: string } {
  if (typeof definitionString === 'string') return JSON.parse(definitionString);
  const join = (definitionString as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
  if (!join) throw new Error(`unexpected DefinitionString: ${JSON.stringify(definitionString).slice(0, 200)}`);
  // A token part sits inside a JSON string; replace it with a marker naming what it refers to.
  const text = join[1]
    .map((part) => {
      if (typeof part === 'string') return part;
      const ref = (part as { 'Fn::GetAtt'?: [string, string]; Ref?: string })['Fn::GetAtt']?.[0] ?? (part as { Ref?: string }).Ref;
      return `<<${ref ?? JSON.stringify(part).replace(/"/g, "'")}>>`;
    })
    .join(join[0]);
  return JSON.parse(text);
}

export const fixturePath = (...p: string[]) => join(REPO_ROOT, FIXTURE_MODELS_DIR, ...p);

/**
 * `count` models made from the fixtures under new names (`gen-0001`, ...), each with its own
 * `paths`, as a repository that has grown to hundreds of models would hold them. Used by the
 * scale test and bench/scale.
 */
export function generatedModels(count: number): DiscoveredModel[] {
  const bases = fixtureModels();
  return Array.from({ length: count }, (_, i) => {
    const base = bases[i % bases.length]!;
    const name = `gen-${String(i + 1).padStart(4, '0')}`;
    const dir = `models/${name}`;
    return { ...base, dir, file: `${dir}/model.yaml`, manifest: { ...base.manifest, name, paths: [`${dir}/**`] } };
  });
}

/** Every stack's and nested stack's resource count, IAM roles and template size. */
export function census(models: number, context: RawContext = {}) {
  const s = synthesize(context, generatedModels(models));
  const assembly = s.app.synth();
  return [s.stateful, s.platform, s.modelsStack].flatMap((stack) => {
    const nested = stack.node.findAll().filter((c): c is NestedStack => c instanceof NestedStack);
    return [stack, ...nested].map((st) => {
      const text =
        st instanceof NestedStack
          ? readFileSync(join(assembly.directory, st.templateFile), 'utf8')
          : JSON.stringify(assembly.getStackArtifact(st.artifactId).template);
      const resources = Object.values((JSON.parse(text) as { Resources: Record<string, { Type: string }> }).Resources);
      return {
        stack: st instanceof NestedStack ? st.node.path : st.stackName,
        resources: resources.length,
        roles: resources.filter((r) => r.Type === 'AWS::IAM::Role').length,
        projects: resources.filter((r) => r.Type === 'AWS::CodeBuild::Project').length,
        rules: resources.filter((r) => r.Type === 'AWS::Events::Rule').length,
        bytes: Buffer.byteLength(text),
      };
    });
  });
}
