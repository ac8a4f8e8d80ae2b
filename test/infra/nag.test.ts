import { App, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { allow } from '../../lib/infra/iam';
import { acknowledge } from '../../lib/infra/nag';
import { nagFindings } from './helpers';

// The platform test asserts that the app has no finding; these show that the same check
// does find one, and that a finding fails the synthesis, so that "no finding" means something.
describe('Function: nagFindings', () => {
  it('reports an unencrypted, unlogged bucket', () => {
    // Prepare
    const app = new App();
    new s3.Bucket(new Stack(app, 'Bare'), 'Bucket');
    // Act
    const rules = nagFindings(app).map((f) => f.ruleName);
    // Assess
    expect(rules).toEqual(expect.arrayContaining(['AwsSolutions-S1', 'AwsSolutions-S10']));
  });

  it('fails the synthesis when the checks are a validation plugin', () => {
    // Prepare
    const app = new App();
    new s3.Bucket(new Stack(app, 'Bare'), 'Bucket');
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    // Act / Assess
    expect(() => app.synth()).toThrow(/AwsSolutions-S1/);
  });
});

describe('Function: acknowledge', () => {
  it('refuses a blanket AwsSolutions-IAM5 and a reason that says nothing', () => {
    // Prepare
    const stack = new Stack(new App(), 'S');
    // Act / Assess
    expect(() => acknowledge(stack, { 'AwsSolutions-IAM5': 'a long enough reason for the test' })).toThrow(/per finding/);
    expect(() => acknowledge(stack, { 'AwsSolutions-S1': 'because' })).toThrow(/must say why/);
  });
});

describe('Function: allow', () => {
  it('acknowledges exactly the wildcard resources it adds, and refuses wildcard actions', () => {
    // Prepare
    const app = new App();
    const stack = new Stack(app, 'S');
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    const bucket = new s3.Bucket(stack, 'Bucket', { enforceSSL: true, serverAccessLogsPrefix: 'logs/' });
    // Act
    allow(role, { actions: ['s3:GetObject'], resources: [`${bucket.bucketArn}/reports/*`] }, 'objects under reports/ have run-time keys');
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [`${bucket.bucketArn}/other/*`] }));
    // Assess
    const iam5 = nagFindings(app)
      .filter((f) => f.ruleName.startsWith('AwsSolutions-IAM5'))
      .map((f) => f.ruleName);
    expect(iam5).toEqual([`AwsSolutions-IAM5[Resource::<${stack.getLogicalId(bucket.node.defaultChild as s3.CfnBucket)}.Arn>/other/*]`]);
    expect(() => allow(role, { actions: ['s3:Get*'], resources: ['*'] }, 'a long enough reason for the test')).toThrow(/spell out/);
  });
});
