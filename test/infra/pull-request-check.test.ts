import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { PullRequestCheck } from '../../lib/infra/constructs/pull-request-check';
import { fixtureModels } from './helpers';

const parcel = fixtureModels().find((m) => m.manifest.name === 'parcel-eta')!;
const CONNECTION = 'arn:aws:codeconnections:us-east-1:123456789012:connection/abc';

function checkStack() {
  const app = new App();
  const stack = new Stack(app, 'S', { env: { account: '123456789012', region: 'us-east-1' } });
  const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
  new PullRequestCheck(stack, 'Check', {
    model: parcel,
    source: { provider: 'codeconnections', connectionArn: CONNECTION, owner: 'acme', repo: 'ml' },
    artifactBucket: s3.Bucket.fromBucketAttributes(stack, 'Artifacts', { bucketName: 'mlship-artifacts', encryptionKey: key }),
    encryptionKey: key,
    projectName: 'mlship-check-parcel-eta',
  });
  return { app, stack, template: Template.fromStack(stack) };
}

describe('Class: PullRequestCheck', () => {
  describe('Method: constructor', () => {
    it("triggers on pull requests into the model's release branch that touch the model's paths, and reports the status on the pull request", () => {
      // Act
      const { template } = checkStack();

      // Assess
      const project = Object.values(template.findResources('AWS::CodeBuild::Project'))[0]!.Properties;
      expect(project.Source).toMatchObject({
        Type: 'GITHUB',
        Location: 'https://github.com/acme/ml.git',
        ReportBuildStatus: true,
        Auth: { Type: 'CODECONNECTIONS', Resource: CONNECTION },
      });
      expect(project.Triggers.Webhook).toBe(true);
      const [group] = project.Triggers.FilterGroups as { Type: string; Pattern: string }[][];
      expect(group).toEqual(
        expect.arrayContaining([
          { Type: 'EVENT', Pattern: 'PULL_REQUEST_CREATED, PULL_REQUEST_UPDATED, PULL_REQUEST_REOPENED' },
          { Type: 'BASE_REF', Pattern: '^refs/heads/release$' },
          expect.objectContaining({ Type: 'FILE_PATH' }),
        ]),
      );
      // The path filter is the manifest's globs: models/parcel-eta/** and shared/features/*.py.
      const paths = new RegExp(group!.find((f) => f.Type === 'FILE_PATH')!.Pattern);
      for (const file of ['models/parcel-eta/train.py', 'models/parcel-eta/lib/a/b.py', 'shared/features/geo.py'])
        expect(paths.test(file), file).toBe(true);
      for (const file of ['models/support-triage/train.py', 'shared/features/deep/geo.py', 'README.md', 'xmodels/parcel-eta/a'])
        expect(paths.test(file), file).toBe(false);
    });

    it('gives the check no SageMaker permission at all, no wildcard action, and passes cdk-nag', () => {
      // Act
      const { app, template } = checkStack();

      // Assess
      const actions = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p) =>
        (p.Properties.PolicyDocument.Statement as { Action: string | string[] }[]).flatMap((s) => [s.Action].flat()),
      );
      expect(actions.length).toBeGreaterThan(0);
      expect(actions.filter((a) => a.toLowerCase().startsWith('sagemaker:'))).toEqual([]);
      expect(actions.filter((a) => a === '*' || a.endsWith(':*'))).toEqual([]);
      const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
        (p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[],
      );
      // It writes only its own model's reports.
      const writes = statements.filter((s) => [s.Action].flat().includes('s3:PutObject'));
      expect(writes.map((s) => JSON.stringify(s.Resource))).toEqual([expect.stringContaining(':::mlship-artifacts/checks/parcel-eta/*')]);
      expect(new AwsSolutionsChecks().validateScope(app).violations).toEqual([]);
    });
  });
});
