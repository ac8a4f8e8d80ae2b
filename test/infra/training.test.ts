import { beforeAll, describe, expect, it } from 'vitest';
import { synthesize, type Synthesized } from './helpers';

/**
 * The training stage's IAM: the release machine may create only `mlship-*` training jobs and
 * pass only the SageMaker role; that role reads only the declared channels (the fixture
 * parcel-eta trains on s3://team-datasets/parcel-eta/train/ and the build output).
 */
type Resources = Record<string, { Type: string; Properties: Record<string, any> }>;
type Statement = { Action: string | string[]; Resource: unknown; Condition?: Record<string, unknown> };

let s: Synthesized;
let platform: Resources;

beforeAll(() => {
  s = synthesize();
  platform = s.platformTemplate.toJSON().Resources;
});

const policyStatements = (prefix: string): Statement[] =>
  Object.entries(platform)
    .filter(([id, r]) => r.Type === 'AWS::IAM::Policy' && id.startsWith(prefix))
    .flatMap(([, r]) => r.Properties.PolicyDocument.Statement as Statement[]);
const withAction = (statements: Statement[], action: string) => statements.filter((st) => [st.Action].flat().includes(action));
const text = (v: unknown) => JSON.stringify(v);

describe('Class: PlatformStack', () => {
  describe('Method: constructor (training jobs)', () => {
    it('lets the release machine create, describe and stop only mlship-* training jobs', () => {
      // Act
      const release = policyStatements('ReleaseStateMachineRoleDefaultPolicy');
      const create = withAction(release, 'sagemaker:CreateTrainingJob');

      // Assess
      expect(create).toHaveLength(1);
      expect([create[0]!.Action].flat().sort()).toEqual([
        'sagemaker:AddTags',
        'sagemaker:CreateTrainingJob',
        'sagemaker:DescribeTrainingJob',
        'sagemaker:StopTrainingJob',
      ]);
      expect([create[0]!.Resource].flat()).toHaveLength(1);
      expect(text(create[0]!.Resource)).toMatch(/:training-job\/mlship-\*"/);
      // The .sync integration's EventBridge rule, and nothing broader.
      const events = withAction(release, 'events:PutRule');
      expect(text(events[0]!.Resource)).toContain('rule/StepFunctionsGetEventsForSageMakerTrainingJobsRule');
    });

    it('lets the release machine pass only the SageMaker role, and only to SageMaker', () => {
      // Act
      const pass = withAction(policyStatements('ReleaseStateMachineRoleDefaultPolicy'), 'iam:PassRole');

      // Assess
      expect(pass).toHaveLength(1);
      const roleId = Object.keys(platform).find((id) => id.startsWith('SageMakerRole') && platform[id]!.Type === 'AWS::IAM::Role')!;
      expect(pass[0]!.Resource).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
      expect(pass[0]!.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } });
    });

    it('lets the training job read only the declared channels and write only its output and checkpoints', () => {
      // Act
      const role = policyStatements('SageMakerRoleDefaultPolicy');
      const reads = withAction(role, 's3:GetObject').flatMap((st) => [st.Resource].flat());
      const lists = withAction(role, 's3:ListBucket');
      const writes = withAction(role, 's3:PutObject').flatMap((st) => [st.Resource].flat());

      // Assess: outside the artifact bucket, only the declared S3 channel and the checkpoints
      const external = reads.filter((r) => typeof r === 'string') as string[];
      expect(external.sort()).toEqual(['arn:aws:s3:::team-checkpoints/parcel-eta/*', 'arn:aws:s3:::team-datasets/parcel-eta/train/*']);
      expect(text(reads)).toContain('/builds/*');
      expect(text(reads)).toContain('/training/*');
      expect(text(lists)).toContain('arn:aws:s3:::team-datasets');
      expect(text(lists)).toContain('parcel-eta/train/*');
      expect(text(lists)).not.toContain('support-triage');
      expect(text(writes)).toContain('/training/*');
      expect(writes).toContain('arn:aws:s3:::team-checkpoints/parcel-eta/*');
      expect(text(writes)).not.toContain('team-datasets');
    });
  });
});
