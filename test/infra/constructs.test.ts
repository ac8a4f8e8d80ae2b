import { App, Duration, Stack } from 'aws-cdk-lib';
import { Capture, Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { ArtifactStorage } from '../../lib/infra/constructs/artifact-storage';
import { DeliveryPipeline, type DeliveryPipelineProps, type PipelineSource } from '../../lib/infra/constructs/delivery-pipeline';
import { DriftSchedule } from '../../lib/infra/constructs/drift-schedule';
import { RollbackAlarms } from '../../lib/infra/constructs/rollback-alarms';
import { minimumBakeSeconds, ROLLBACK_ALARM_TIMING, rollbackAlarmSpecs } from '../../lib/config';
import { resourceNames } from '../../lib/infra/naming';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { fixtureModels } from './helpers';

const models = fixtureModels();
const parcel = models.find((m) => m.manifest.name === 'parcel-eta')!;

function pipelineStack(source: PipelineSource, extra: Partial<DeliveryPipelineProps> = {}) {
  const stack = new Stack(new App(), 'S', { env: { account: '123456789012', region: 'us-east-1' } });
  const key = new kms.Key(stack, 'Key');
  new DeliveryPipeline(stack, 'Pipeline', {
    source,
    branches: [parcel.manifest.branch],
    artifactBucket: new s3.Bucket(stack, 'Artifacts', { encryptionKey: key }),
    encryptionKey: key,
    releaseStarter: lambda.Function.fromFunctionArn(stack, 'Starter', 'arn:aws:lambda:us-east-1:123456789012:function:starter'),
    pipelineName: 'mlship-delivery',
    modelsStackName: 'mlship-models',
    cdkContextArgs: '-c region=us-east-1',
    ...extra,
  });
  return Template.fromStack(stack);
}

describe('Class: DeliveryPipeline', () => {
  describe('Method: constructor', () => {
    it('reads the first branch in the source action and triggers on every branch given', () => {
      // Act
      const template = pipelineStack(
        {
          provider: 'codeconnections',
          connectionArn: 'arn:aws:codeconnections:us-east-1:123456789012:connection/abc',
          owner: 'acme',
          repo: 'ml',
        },
        { branches: ['develop', 'main'] },
      );
      // Assess
      template.hasResourceProperties('AWS::CodePipeline::Pipeline', {
        Triggers: [Match.objectLike({ GitConfiguration: Match.objectLike({ Push: [{ Branches: { Includes: ['develop', 'main'] } }] }) })],
        Stages: Match.arrayWith([
          Match.objectLike({
            Name: 'Source',
            Actions: [Match.objectLike({ Configuration: Match.objectLike({ BranchName: 'develop', FullRepositoryId: 'acme/ml' }) })],
          }),
        ]),
      });
      // A codeconnections ARN needs the new service prefix in IAM.
      template.hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Action: 'codeconnections:UseConnection',
              Resource: 'arn:aws:codeconnections:us-east-1:123456789012:connection/abc',
            }),
          ]),
        },
      });
      // The reconcile stage deploys where the stack is: the context is passed on.
      const spec = new Capture();
      template.hasResourceProperties('AWS::CodeBuild::Project', { Source: { BuildSpec: spec } });
      expect(JSON.parse(spec.asString()).phases.build.commands[0]).toMatch(/--require-approval never -c region=us-east-1; else/);
    });

    it('reads a CodeCommit repository when opted in, without trigger filters', () => {
      // Act
      const template = pipelineStack({ provider: 'codecommit', repositoryName: 'ml-models' });
      // Assess
      const pipeline = Object.values(template.findResources('AWS::CodePipeline::Pipeline'))[0]!;
      expect(pipeline.Properties.Triggers).toBeUndefined();
      expect(pipeline.Properties.Stages[0].Actions[0]).toMatchObject({
        ActionTypeId: { Provider: 'CodeCommit' },
        Configuration: { RepositoryName: 'ml-models', BranchName: 'release' },
      });
      template.resourceCountIs('AWS::Events::Rule', 1);
    });

    it('refuses an empty branch list', () => {
      // Act / Assess
      expect(() => pipelineStack({ provider: 'codecommit', repositoryName: 'r' }, { branches: [] })).toThrow(/branches/);
    });
  });
});

describe('Class: ArtifactStorage', () => {
  describe('Method: constructor', () => {
    it.each([
      [{ captureTransitionDays: 10 }, /captureTransitionDays must be >= 30/],
      [{ captureTransitionDays: 60, captureExpirationDays: 60 }, /captureExpirationDays \(60\) must be greater/],
      [{ noncurrentVersionDays: 0 }, /noncurrentVersionDays must be a whole number/],
    ])('rejects incompatible lifecycle props %j', (props, message) => {
      // Act / Assess
      expect(() => new ArtifactStorage(new Stack(new App(), 'S'), 'Storage', props)).toThrow(message);
    });
  });
});

describe('Class: DriftSchedule', () => {
  it('rejects an expression EventBridge would not accept', () => {
    // Prepare
    const stack = new Stack(new App(), 'S');
    const machine = sfn.StateMachine.fromStateMachineArn(stack, 'M', 'arn:aws:states:us-east-1:123456789012:stateMachine:m');
    // Act / Assess
    const role = iam.Role.fromRoleArn(stack, 'R', 'arn:aws:iam::123456789012:role/scheduler');
    expect(() => new DriftSchedule(stack, 'D', { model: 'm', schedule: 'every monday', stateMachine: machine, role })).toThrow(
      /not an EventBridge rate/,
    );
  });
});

describe('Function: resourceNames', () => {
  it('derives the names the tasks look up, and rejects a prefix that would break them', () => {
    // Act
    const names = resourceNames();
    // Assess
    expect([names.buildProject('m1x'), names.imageRepository('m1x'), names.rollbackAlarmPrefix]).toEqual([
      'mlship-build-m1x',
      'mlship/m1x',
      'mlship-rollback-',
    ]);
    expect(() => resourceNames('Bad_Prefix')).toThrow(/resource prefix "Bad_Prefix"/);
  });
});

describe('Class: RollbackAlarms', () => {
  const manifest = (bakeTime: number) => {
    const m = structuredClone(fixtureModels()[0]!.manifest);
    m.deployment.bakeTime = bakeTime;
    return m;
  };

  it('evaluates one 60 s period, so an alarm can fire within the shortest bake the manifest allows', () => {
    // Prepare
    const stack = new Stack(new App(), 'Alarms');

    // Act
    new RollbackAlarms(stack, 'Rollback', { manifest: manifest(minimumBakeSeconds()), alarmPrefix: 'mlship-rollback-' });

    // Assess
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ModelLatency',
      Period: ROLLBACK_ALARM_TIMING.periodSeconds,
      EvaluationPeriods: ROLLBACK_ALARM_TIMING.evaluationPeriods,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      EvaluationPeriods: 1,
      Metrics: Match.arrayWith([Match.objectLike({ Id: 'errors', MetricStat: Match.objectLike({ Period: 60 }) })]),
    });
    expect(minimumBakeSeconds()).toBe(180);
  });

  it.each([
    // strategy, step %, instances, the new fleet's smallest share of the traffic
    ['canary', 10, 4, 0.1],
    ['canary', 30, 2, 0.3],
    ['canary', 50, 2, 0.5],
    ['linear', 20, 10, 0.2],
    ['all-at-once', 10, 1, 1],
  ] as const)(
    "scales the 5xx threshold by the new fleet's traffic share, since the alarm sees both fleets: %s of %i percent, %i instances",
    (strategy, stepPercent, instances, share) => {
      // Prepare: parcel-eta rolls back above 2 % 5xx
      const m = manifest(minimumBakeSeconds());
      Object.assign(m.deployment, { strategy, stepPercent });
      m.serve.instanceCount = instances;
      const stack = new Stack(new App(), 'Alarms');

      // Act
      new RollbackAlarms(stack, 'Rollback', { manifest: m, alarmPrefix: 'mlship-rollback-' });

      // Assess: a canary failing just above 2 % moves the mixed rate just above share × 2 %
      const template = Template.fromStack(stack);
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: 'mlship-rollback-parcel-eta-5xx',
        Threshold: Match.anyValue(),
        Metrics: Match.arrayWith([
          Match.objectLike({
            Id: 'invocations',
            MetricStat: Match.objectLike({
              Metric: Match.objectLike({ Dimensions: Match.arrayWith([{ Name: 'VariantName', Value: 'AllTraffic' }]) }),
            }),
          }),
        ]),
      });
      const [alarm] = Object.values(
        template.findResources('AWS::CloudWatch::Alarm', { Properties: { AlarmName: 'mlship-rollback-parcel-eta-5xx' } }),
      );
      expect(alarm!.Properties.Threshold).toBeCloseTo(0.02 * share, 10);
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'mlship-rollback-parcel-eta-p99-latency', Threshold: 250_000 });
    },
  );

  it('creates exactly the alarms the local cloud evaluates (rollbackAlarmSpecs): period, M out of N, missing data, comparison, threshold', () => {
    // Prepare
    const m = manifest(minimumBakeSeconds());
    const stack = new Stack(new App(), 'Alarms');

    // Act
    new RollbackAlarms(stack, 'Rollback', { manifest: m, alarmPrefix: 'mlship-rollback-' });

    // Assess
    const template = Template.fromStack(stack);
    const specs = rollbackAlarmSpecs(m, 'mlship-rollback-');
    expect(specs.map((s) => s.name)).toEqual(['mlship-rollback-parcel-eta-5xx', 'mlship-rollback-parcel-eta-p99-latency']);
    for (const spec of specs) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: spec.name,
        AlarmDescription: spec.description,
        ComparisonOperator: spec.comparisonOperator,
        Threshold: spec.threshold,
        EvaluationPeriods: spec.evaluationPeriods,
        DatapointsToAlarm: spec.datapointsToAlarm,
        TreatMissingData: spec.treatMissingData,
      });
    }
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: specs[1]!.name,
      Period: specs[1]!.periodSeconds,
      ExtendedStatistic: 'p99',
    });
  });

  it("refuses a period that cannot fire within the model's bake time", () => {
    // Prepare
    const stack = new Stack(new App(), 'Alarms');

    // Act + Assess: 5 minutes × 1 + 120 s = 420 s > a 300 s bake
    expect(
      () => new RollbackAlarms(stack, 'Rollback', { manifest: manifest(300), alarmPrefix: 'p-', period: Duration.minutes(5) }),
    ).toThrow(/bake time 300s is shorter than the 420s its rollback alarms need to fire \(period 300s × 1 \+ 120s\)/);
  });
});
