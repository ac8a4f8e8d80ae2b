import { describe, expect, it } from 'vitest';
import { census } from './helpers';

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
});
