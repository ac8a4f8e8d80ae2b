import { describe, expect, it } from 'vitest';
import { census, generatedModels, nagFindings, synthesize } from './helpers';

/**
 * Issue 17: a repository of hundreds of models deploys as one CloudFormation app. Every
 * stack must stay within CloudFormation's limits (500 resources; a template of at most
 * 1,000,000 bytes when deployed through S3, as `cdk deploy` does), with room to spare (400),
 * and the number of IAM roles must not depend on the number of models (IAM's 1,000 roles per
 * account).
 */
const MAX_RESOURCES = 400;
const MAX_TEMPLATE_BYTES = 1_000_000;

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

  it('gives every model a pull-request check with GitHub through CodeConnections, still with one role for all of them', () => {
    const github = { connectionArn: 'arn:aws:codeconnections:us-east-1:123456789012:connection/abc', repository: 'acme/ml' };
    const few = census(2, github);
    const many = census(300, github);
    for (const st of many) expect(st.resources, `${st.stack}: resources`).toBeLessThanOrEqual(MAX_RESOURCES);
    const sum = (c: typeof few, k: 'roles' | 'projects') => c.reduce((n, st) => n + st[k], 0);
    // The shared projects (build, reconcile) plus a check project per model.
    expect(sum(many, 'projects')).toBe(sum(census(300), 'projects') + 300);
    expect(sum(many, 'roles')).toBe(sum(few, 'roles'));
    // The shared check role is one more than a deployment without checks.
    expect(sum(few, 'roles')).toBe(sum(census(2), 'roles') + 1);
    expect(nagFindings(synthesize(github, generatedModels(3)).app)).toEqual([]);
  }, 600_000);

  it("puts no model's drift schedule on an event bus, whose default quota is 300 rules: EventBridge Scheduler allows 1,000,000 schedules", () => {
    const rules = (c: ReturnType<typeof census>) => c.reduce((n, st) => n + st.rules, 0);
    // The rules that exist whatever the count (the weekly report's), the same at 2 and at 300 models.
    expect(rules(census(300))).toBe(rules(census(2)));
    expect(rules(census(300))).toBeLessThan(10);
  }, 600_000);
});
