import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { RequiredValues } from '../../lib/infra/constructs/required-values';

const PLACEHOLDER = 'arn:aws:codeconnections:us-east-1:000000000000:connection/MISSING-connectionArn';
const hint = 'deploy with -c connectionArn=<arn>';

function make(value?: string) {
  const stack = new Stack(new App(), 'S');
  const required = new RequiredValues(stack, 'Required', { values: [{ name: 'connectionArn', value, placeholder: PLACEHOLDER, hint }] });
  // Something that uses the value, as a pipeline would.
  new sns.Topic(stack, 'User', { displayName: required.value('connectionArn') });
  return { stack, required, template: Template.fromStack(stack) };
}

describe('Class: RequiredValues', () => {
  describe('Method: constructor', () => {
    it('stands in a parameter with the placeholder for a missing value, guarded by a rule, with one warning', () => {
      // Act
      const { stack, required, template } = make(undefined);
      // Assess
      expect(required.missing).toEqual(['connectionArn']);
      template.hasParameter('ConnectionArn', { Type: 'String', Default: PLACEHOLDER });
      expect(template.toJSON().Rules.ConnectionArnIsSet).toEqual({
        Assertions: [
          {
            Assert: { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'ConnectionArn' }, PLACEHOLDER] }] },
            AssertDescription: expect.stringMatching(/^connectionArn is missing: deploy with -c connectionArn=/),
          },
        ],
      });
      template.hasResourceProperties('AWS::SNS::Topic', { DisplayName: { Ref: 'ConnectionArn' } });
      Annotations.fromStack(stack).hasWarning(
        '/S',
        Match.stringLikeRegexp(`connectionArn is not set; using the placeholder "${PLACEHOLDER}"`),
      );
    });

    it('uses a given value literally, with no parameter, rule or warning', () => {
      // Act
      const given = 'arn:aws:codeconnections:eu-west-1:123456789012:connection/abc-123';
      const { stack, required, template } = make(given);
      // Assess
      expect(required.missing).toEqual([]);
      expect(template.toJSON().Rules ?? {}).not.toHaveProperty('ConnectionArnIsSet');
      expect(template.toJSON().Parameters ?? {}).not.toHaveProperty('ConnectionArn');
      template.hasResourceProperties('AWS::SNS::Topic', { DisplayName: given });
      expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('connectionArn'))).toEqual([]);
    });

    it('refuses the placeholder itself as a value', () => {
      // Act / Assess
      expect(() => make(PLACEHOLDER)).toThrow(/connectionArn: .* is the placeholder/);
    });
  });
});
