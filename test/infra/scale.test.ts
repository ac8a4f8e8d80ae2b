import { Stack } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { generatedModels, synthesize } from './helpers';

/**
 * Issue 17: a repository of hundreds of models deploys as one CloudFormation app. Every
 * stack must stay within CloudFormation's limits (500 resources; a template of at most
 * 1,000,000 bytes when deployed through S3, as `cdk deploy` does), with room to spare (400),
 * and the number of IAM roles must not depend on the number of models (IAM's 1,000 roles per
 * account).
 */
const MAX_RESOURCES = 400;
const MAX_TEMPLATE_BYTES = 1_000_000;

function census(models: number) {
  const s = synthesize({}, generatedModels(models));
  return [s.stateful, s.platform].flatMap((stack) => {
    const stacks: Stack[] = [stack, ...stack.node.findAll().filter((c): c is Stack => Stack.isStack(c) && c !== stack)];
    return stacks.map((st) => {
      const template = s.app.synth().getStackArtifact(st.artifactId).template as { Resources: Record<string, { Type: string }> };
      const resources = Object.values(template.Resources);
      return {
        stack: st.stackName,
        resources: resources.length,
        roles: resources.filter((r) => r.Type === 'AWS::IAM::Role').length,
        bytes: JSON.stringify(template).length,
      };
    });
  });
}

describe('Scale: 300 models', () => {
  it('synthesizes every stack within CloudFormation limits, with IAM roles independent of the model count', () => {
    const few = census(2);
    const many = census(300);
    for (const st of many) {
      expect(st.resources, `${st.stack}: resources`).toBeLessThanOrEqual(MAX_RESOURCES);
      expect(st.bytes, `${st.stack}: template bytes`).toBeLessThanOrEqual(MAX_TEMPLATE_BYTES);
    }
    const roles = (c: typeof few) => c.reduce((n, st) => n + st.roles, 0);
    expect(roles(many)).toBe(roles(few));
  }, 600_000);
});
