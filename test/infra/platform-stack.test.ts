import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NestedStack } from 'aws-cdk-lib';
import { Annotations, Capture, Match, Template } from 'aws-cdk-lib/assertions';
import { PLACEHOLDERS } from '../../lib/infra/app-config';
import { beforeAll, describe, expect, it } from 'vitest';
import { TASKS, TASK_ENV, TASK_NAMES, WORKFLOWS, type TaskName } from '../../lib/tasks';
import { REPO_ROOT, nagFindings, parseDefinition, synthesize, type Synthesized } from './helpers';

type Resources = Record<string, { Type: string; Properties: Record<string, any> }>;

let s: Synthesized;
let platform: Resources;

beforeAll(() => {
  // Prepare + Act, once for the file: one synthesis of both stacks with the fixture models.
  s = synthesize();
  platform = s.platformTemplate.toJSON().Resources;
});

/** The models stack's nested stacks (its shards) as one template. */
const modelsTemplate = () => {
  const resources = s.modelsStack.node
    .findAll()
    .filter((c): c is NestedStack => c instanceof NestedStack)
    .flatMap((n) => Object.entries(Template.fromStack(n).toJSON().Resources as Resources));
  return Template.fromJSON({ Resources: Object.fromEntries(resources) });
};
const ofType = (resources: Resources, type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const logicalIdOf = (task: TaskName) => {
  const ids = ofType(platform, 'AWS::Lambda::Function')
    .map(([id]) => id)
    .filter((id) => id.startsWith(`Tasks${task}Function`));
  expect(ids).toHaveLength(1);
  return ids[0]!;
};

describe('Class: PlatformStack', () => {
  describe('Method: constructor (delivery pipeline)', () => {
    it('creates one V2 pipeline for every model, started by a push to any branch a manifest names, with no file-path filter', () => {
      // Assess
      expect(ofType(platform, 'AWS::CodePipeline::Pipeline')).toHaveLength(1);
      s.platformTemplate.hasResourceProperties('AWS::CodePipeline::Pipeline', {
        Name: 'mlship-delivery',
        PipelineType: 'V2',
        ExecutionMode: 'QUEUED',
        Triggers: [
          {
            ProviderType: 'CodeStarSourceConnection',
            // The release stage matches each manifest's paths (CodePipeline allows 8 globs per filter).
            GitConfiguration: { SourceActionName: 'Source', Push: [{ Branches: { Includes: ['main', 'release'] } }] },
          },
        ],
      });
    });

    it('starts the releases through a Lambda action that passes commit and branch, then deploys the models stack when a manifest changed', () => {
      // Prepare
      const stages = new Capture();
      s.platformTemplate.hasResourceProperties('AWS::CodePipeline::Pipeline', { Stages: stages });
      const byName = Object.fromEntries(stages.asArray().map((st: any) => [st.Name, st.Actions[0]]));
      // Assess
      expect(Object.keys(byName)).toEqual(['Source', 'Release', 'Reconcile']);
      expect(byName.Source.ActionTypeId.Provider).toBe('CodeStarSourceConnection');
      expect(byName.Source.Namespace).toBe('SourceVariables');
      expect(byName.Release.ActionTypeId.Provider).toBe('Lambda');
      expect(byName.Release.Namespace).toBe('Release');
      expect(byName.Release.InputArtifacts).toEqual([{ Name: 'Source' }]);
      expect(JSON.parse(byName.Release.Configuration.UserParameters)).toEqual({
        commitId: '#{SourceVariables.CommitId}',
        branch: '#{SourceVariables.BranchName}',
        pipelineExecutionId: '#{codepipeline.PipelineExecutionId}',
        pipelineName: 'mlship-delivery',
      });
      expect(byName.Reconcile.ActionTypeId.Provider).toBe('CodeBuild');
      expect(JSON.parse(byName.Reconcile.Configuration.EnvironmentVariables)).toEqual([
        { name: 'MANIFESTS_CHANGED', type: 'PLAINTEXT', value: '#{Release.manifestsChanged}' },
      ]);
      const spec = new Capture();
      s.platformTemplate.hasResourceProperties('AWS::CodeBuild::Project', {
        Description: Match.stringLikeRegexp('deploy the models stack'),
        Source: { Type: 'CODEPIPELINE', BuildSpec: spec },
      });
      expect(JSON.parse(spec.asString()).phases.build.commands[0]).toMatch(
        /"\$MANIFESTS_CHANGED" = "true" \]; then npm ci .* && npx cdk deploy mlship-models --exclusively --require-approval never/,
      );
    });

    it('lets the reconcile stage assume only the CDK bootstrap roles', () => {
      // Prepare
      const statements = ofType(platform, 'AWS::IAM::Policy')
        .filter(([id]) => id.startsWith('DeliveryReconcileRole'))
        .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]);
      const assume = statements.filter((st) => [st.Action].flat().includes('sts:AssumeRole'));
      // Assess
      expect(assume).toHaveLength(1);
      const roles = [assume[0]!.Resource].flat().map((r) => JSON.stringify(r));
      expect(roles).toHaveLength(3);
      for (const [i, kind] of ['deploy', 'file-publishing', 'lookup'].entries())
        expect(roles[i]).toMatch(new RegExp(`:role/cdk-hnb659fds-${kind}-role-`));
    });

    it('names the pipeline, and lets the release function read executions of exactly it and the trees under pipeline/trees/', () => {
      // Prepare
      const statements = ofType(platform, 'AWS::IAM::Policy')
        .filter(([id]) => id.startsWith('ReleaseStarterRole'))
        .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]);
      const reads = statements.filter((st) => [st.Action].flat().some((a) => a.startsWith('codepipeline:Get')));
      const trees = statements.filter((st) => JSON.stringify(st.Resource).includes('/pipeline/trees/*'));
      // Assess
      expect(reads).toHaveLength(1);
      expect(reads[0]!.Action).toBe('codepipeline:GetPipelineExecution');
      expect(JSON.stringify(reads[0]!.Resource)).toMatch(/:codepipeline:.*:mlship-delivery"\]\]}$/);
      expect(trees).toHaveLength(1);
      expect(trees[0]!.Action).toEqual(['s3:GetObject', 's3:PutObject']);
    });

    it('has one privileged build project for every model; PrepareRelease names it, StartBuild sets the buildspec and image repository', () => {
      // Assess
      s.platformTemplate.hasResourceProperties('AWS::CodeBuild::Project', {
        Name: 'mlship-build-models',
        Source: { Type: 'S3', BuildSpec: 'buildspec.yml' },
        Environment: Match.objectLike({
          PrivilegedMode: true,
          EnvironmentVariables: [{ Name: 'IMAGE_BUILDER', Type: 'PLAINTEXT', Value: 'docker' }],
        }),
        EncryptionKey: Match.anyValue(),
        LogsConfig: { CloudWatchLogs: Match.objectLike({ Status: 'ENABLED' }) },
      });
      expect(ofType(platform, 'AWS::CodeBuild::Project')).toHaveLength(2);
      s.platformTemplate.hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: Match.objectLike({ BUILD_PROJECT_NAME: 'mlship-build-models' }) },
      });
      const push = ofType(platform, 'AWS::IAM::Policy')
        .filter(([id]) => id.startsWith('BuildProjectRole'))
        .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[])
        .find((st) => [st.Action].flat().includes('ecr:PutImage'))!;
      expect([push.Action].flat()).toContain('ecr:CreateRepository');
      expect(JSON.stringify(push.Resource)).toMatch(/:repository\/mlship\/\*"\]\]}$/);
    });
  });

  describe('Method: constructor (state machines)', () => {
    const machines = () => ofType(platform, 'AWS::StepFunctions::StateMachine');
    const machine = (name: 'release' | 'driftCheck') => {
      const prefix = name === 'release' ? 'ReleaseStateMachine' : 'DriftCheckStateMachine';
      const found = machines().filter(([id]) => id.startsWith(prefix));
      expect(found).toHaveLength(1);
      return found[0]![1];
    };

    it('creates two Standard state machines with ALL logging and X-Ray tracing', () => {
      // Assess
      expect(machines()).toHaveLength(2);
      for (const [, sm] of machines()) {
        expect(sm.Properties.StateMachineType).toBe('STANDARD');
        expect(sm.Properties.LoggingConfiguration).toMatchObject({ Level: 'ALL', IncludeExecutionData: true });
        expect(sm.Properties.TracingConfiguration).toEqual({ Enabled: true });
        const logGroupId = sm.Properties.LoggingConfiguration.Destinations[0].CloudWatchLogsLogGroup.LogGroupArn['Fn::GetAtt'][0];
        expect(platform[logGroupId]!.Properties.LogGroupName).toMatch(/^\/aws\/vendedlogs\/states\//);
      }
    });

    for (const name of ['release', 'driftCheck'] as const) {
      it(`renders ${WORKFLOWS[name].file} with every state, each Lambda task wired to its function`, () => {
        // Prepare
        const file = JSON.parse(readFileSync(join(REPO_ROOT, WORKFLOWS[name].file), 'utf8'));
        // Act
        const def = parseDefinition(machine(name).Properties.DefinitionString);
        // Assess
        expect(Object.keys(def.States)).toEqual(Object.keys(file.States));
        expect(def.StartAt).toBe(file.StartAt);
        // Lambda tasks; TrainModel (createTrainingJob.sync) is a service integration (test/infra/training.test.ts).
        const tasks = Object.entries(def.States).filter(
          ([, st]) => st.Type === 'Task' && st.Resource !== 'arn:aws:states:::sagemaker:createTrainingJob.sync',
        );
        expect(tasks.length).toBeGreaterThan(0);
        for (const [stateName, st] of tasks) {
          expect(st.Resource, stateName).toMatch(/^arn:aws:states:::lambda:invoke(\.waitForTaskToken)?$/);
          const fn = (st.Parameters as Record<string, string>)['FunctionName'];
          const placeholder = /^\$\{(\w+)FunctionArn\}$/.exec(
            (file.States[stateName].Parameters as Record<string, string>).FunctionName,
          )![1] as TaskName;
          expect(fn, stateName).toBe(`<<${logicalIdOf(placeholder)}>>`);
          expect(st.Retry, `${stateName} has Retry`).toEqual(
            expect.arrayContaining([expect.objectContaining({ ErrorEquals: expect.arrayContaining(['Lambda.ServiceException']) })]),
          );
        }
      });
    }

    it('catches failures of every release task that can fail the release, and waits for approval with the manifest timeout', () => {
      // Prepare
      const def = parseDefinition(machine('release').Properties.DefinitionString);
      // Assess
      const approval = def.States['RequestApproval']!;
      expect(approval.Resource).toBe('arn:aws:states:::lambda:invoke.waitForTaskToken');
      expect(approval.TimeoutSecondsPath).toEqual(expect.stringMatching(/^\$\./));
      const withCatch = Object.entries(def.States).filter(([, st]) => st.Type === 'Task' && Array.isArray(st.Catch));
      expect(withCatch.map(([n]) => n)).toEqual(
        expect.arrayContaining(['PrepareRelease', 'EvaluateModel', 'LoadTest', 'RequestApproval', 'DeployProduction']),
      );
      for (const [stateName, st] of withCatch) {
        const catches = st.Catch as { ErrorEquals: string[]; ResultPath?: string }[];
        // A failed RecordOutcome before a Fail state leaves its error where its result goes,
        // so the Fail state's CausePath still finds a Cause.
        // A failed staging or shadow cleanup keeps its error in its own result, never over $.error.
        const beforeFail = def.States[String(st.Next)]?.Type === 'Fail';
        const allowed = beforeFail
          ? /^\$\.RecordOutcomeResult$/
          : ['DeleteStagingEndpoint', 'RemoveShadowVariant', 'ClearLeftoverExperiment', 'RemoveAbVariant'].includes(stateName)
            ? new RegExp(`^\\$\\.${stateName}Result$`)
            : /^\$\.\w*[eE]rror$/;
        for (const c of catches) expect(c.ResultPath, stateName).toMatch(allowed);
        // Specific errors first: States.ALL may only be the last, catch-all entry.
        catches.slice(0, -1).forEach((c) => expect(c.ErrorEquals, stateName).not.toContain('States.ALL'));
      }
    });

    it('grants each state machine lambda:InvokeFunction on exactly its own functions', () => {
      for (const name of ['release', 'driftCheck'] as const) {
        // Prepare
        const prefix = name === 'release' ? 'ReleaseStateMachineRoleDefaultPolicy' : 'DriftCheckStateMachineRoleDefaultPolicy';
        const [, policy] = ofType(platform, 'AWS::IAM::Policy').find(([id]) => id.startsWith(prefix))!;
        // Act
        const invoke = policy.Properties.PolicyDocument.Statement.filter((st: any) => st.Action === 'lambda:InvokeFunction');
        // Assess
        expect(invoke).toHaveLength(1);
        const expected = [...new Set(WORKFLOWS[name].tasks)].map((t) => ({ 'Fn::GetAtt': [logicalIdOf(t), 'Arn'] }));
        expect(invoke[0].Resource).toEqual(expect.arrayContaining(expected));
        expect(invoke[0].Resource).toHaveLength(expected.length);
      }
    });

    it('alarms on failed, timed-out and aborted executions of both machines to the topic', () => {
      for (const metric of ['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted']) {
        // Assess
        const alarms = ofType(platform, 'AWS::CloudWatch::Alarm').filter(([, a]) => a.Properties.MetricName === metric);
        expect(alarms, metric).toHaveLength(2);
        for (const [, a] of alarms) {
          expect(a.Properties.Namespace).toBe('AWS/States');
          expect(a.Properties.AlarmActions).toEqual([{ 'Fn::ImportValue': 'mlship-stateful-topicArn' }]);
        }
      }
    });
  });

  describe('Method: constructor (task functions)', () => {
    it('creates one Node.js 22 arm64 function per task with tracing, its log group and the task environment', () => {
      for (const task of TASK_NAMES) {
        // Prepare
        const fn = platform[logicalIdOf(task)]!.Properties;
        // Assess
        expect(fn.Runtime).toBe('nodejs22.x');
        expect(fn.Architectures).toEqual(['arm64']);
        expect(fn.TracingConfig).toEqual({ Mode: 'Active' });
        expect(fn.Timeout).toBe(TASKS[task].timeoutSeconds);
        expect(fn.MemorySize).toBe(TASKS[task].memoryMiB);
        expect(fn.LoggingConfig.LogGroup).toEqual({ Ref: expect.stringMatching(new RegExp(`^Tasks${task}Logs`)) });
        expect(Object.keys(fn.Environment.Variables)).toEqual(expect.arrayContaining(Object.values(TASK_ENV)));
      }
      const logGroups = ofType(platform, 'AWS::Logs::LogGroup').filter(([id]) => id.startsWith('Tasks'));
      expect(logGroups).toHaveLength(TASK_NAMES.length);
      for (const [, lg] of logGroups) expect(lg.Properties.RetentionInDays).toBe(30);
    });

    it('lets EvaluateModel invoke only the staging and production endpoints, read the bundle under builds/ and write under reports/', () => {
      // Prepare
      const roleId = ofType(platform, 'AWS::IAM::Policy').find(([id]) => id.startsWith('TasksEvaluateModelRoleDefaultPolicy'))!;
      const statements = roleId[1].Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[];
      const of = (action: string) => statements.filter((st) => [st.Action].flat().includes(action)).flatMap((st) => [st.Resource].flat());
      // Assess
      expect(JSON.stringify(of('sagemaker:InvokeEndpoint'))).toContain(':endpoint/mlship-*-staging');
      expect(JSON.stringify(of('sagemaker:InvokeEndpoint'))).toContain(':endpoint/mlship-*-production');
      expect(of('sagemaker:InvokeEndpoint')).toHaveLength(2);
      const puts = JSON.stringify(of('s3:PutObject'));
      expect(puts).toContain('/reports/*');
      expect(puts).toContain('/registry/*');
      expect(puts).not.toMatch(/builds|approvals|capture|source/);
      expect(JSON.stringify(of('s3:GetObject'))).toContain('/builds/*');
      expect(statements.flatMap((st) => [st.Action].flat())).not.toContain('sagemaker:CreateEndpoint');
    });
  });

  describe('Method: constructor (model lease)', () => {
    const statementsOf = (task: TaskName) =>
      ofType(platform, 'AWS::IAM::Policy')
        .filter(([id]) => id.startsWith(`Tasks${task}RoleDefaultPolicy`))
        .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]);
    const resourcesOf = (task: TaskName, action: string) =>
      statementsOf(task)
        .filter((st) => [st.Action].flat().includes(action))
        .flatMap((st) => [st.Resource].flat());

    it("lets ModelLease describe and stop only the release state machine's executions, and read and write the lease under registry/", () => {
      // Assess: exactly one statement for the two Step Functions actions, on the release executions
      const sfnStatements = statementsOf('ModelLease').filter((st) => [st.Action].flat().some((a) => a.startsWith('states:')));
      expect(sfnStatements).toHaveLength(1);
      expect([sfnStatements[0]!.Action].flat().sort()).toEqual(['states:DescribeExecution', 'states:StopExecution']);
      expect(JSON.stringify(sfnStatements[0]!.Resource)).toMatch(/:execution:mlship-release:\*/);
      expect(JSON.stringify(sfnStatements[0]!.Resource)).not.toContain('drift');
      expect(JSON.stringify(resourcesOf('ModelLease', 's3:PutObject'))).toContain('/registry/*');
      expect(JSON.stringify(resourcesOf('ModelLease', 's3:GetObject'))).toContain('/registry/*');
      expect(statementsOf('ModelLease').flatMap((st) => [st.Action].flat())).not.toContain('states:StartExecution');
    });

    it('grants StopExecution to no other task, and RecordOutcome (which releases the lease) no Step Functions action at all', () => {
      for (const task of TASK_NAMES.filter((t) => t !== 'ModelLease')) expect(resourcesOf(task, 'states:StopExecution'), task).toEqual([]);
      expect(
        statementsOf('RecordOutcome')
          .flatMap((st) => [st.Action].flat())
          .filter((a) => a.startsWith('states:')),
      ).toEqual([]);
      expect(JSON.stringify(resourcesOf('RecordOutcome', 's3:PutObject'))).toContain('/registry/*');
    });
  });

  describe('Method: constructor (shadow stage metrics)', () => {
    it('lets ShadowTest, and no other task, read CloudWatch metric data (GetMetricData has no resource-level permission)', () => {
      const holders = ofType(platform, 'AWS::IAM::Policy')
        .filter(([, p]) =>
          (p.Properties.PolicyDocument.Statement as { Action: string | string[] }[]).some((st) =>
            [st.Action].flat().includes('cloudwatch:GetMetricData'),
          ),
        )
        .map(([id]) => id.replace(/RoleDefaultPolicy.*$/, ''));
      expect(holders.filter((h) => h.startsWith('Tasks'))).toEqual(['TasksShadowTest']);
      const statement = ofType(platform, 'AWS::IAM::Policy')
        .filter(([id]) => id.startsWith('TasksShadowTestRoleDefaultPolicy'))
        .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[])
        .find((st) => [st.Action].flat().includes('cloudwatch:GetMetricData'))!;
      expect([statement.Action].flat()).toEqual(['cloudwatch:GetMetricData']);
      expect(statement.Resource).toBe('*');
    });
  });

  describe('Method: constructor (A/B test after the approval)', () => {
    const statementsOf = (task: TaskName) =>
      ofType(platform, 'AWS::IAM::Policy')
        .filter(([id]) => id.startsWith(`Tasks${task}RoleDefaultPolicy`))
        .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]);

    it('lets AbTest update the production endpoints only, never invoke, delete or read metrics, and write only reports/ and registry/', () => {
      const statements = statementsOf('AbTest');
      const actions = statements.flatMap((st) => [st.Action].flat());
      expect(actions).toEqual(expect.arrayContaining(['sagemaker:UpdateEndpoint', 'sagemaker:CreateEndpointConfig']));
      for (const a of ['sagemaker:InvokeEndpoint', 'sagemaker:DeleteEndpoint', 'sagemaker:CreateEndpoint', 'cloudwatch:GetMetricData'])
        expect(actions, a).not.toContain(a);
      const update = statements
        .filter((st) => [st.Action].flat().includes('sagemaker:UpdateEndpoint'))
        .flatMap((st) => [st.Resource].flat());
      const endpoints = JSON.stringify(update.filter((r) => JSON.stringify(r).includes(':endpoint/')));
      expect(endpoints).toMatch(/endpoint\/mlship-\*-production/);
      expect(endpoints).not.toMatch(/endpoint\/mlship-\*"/);
      const writes = JSON.stringify(
        statements.filter((st) => [st.Action].flat().includes('s3:PutObject')).flatMap((st) => [st.Resource].flat()),
      );
      expect(writes).toContain('/reports/*');
      expect(writes).toContain('/registry/*');
      expect(writes).not.toContain('/capture/*');
    });
  });

  describe('Method: constructor (staging cleanup)', () => {
    it('lets DeleteStagingEndpoint delete the staging endpoints only, read registry/ and write nothing', () => {
      // Prepare
      const statements = ofType(platform, 'AWS::IAM::Policy')
        .filter(([id]) => id.startsWith('TasksDeleteStagingEndpointRoleDefaultPolicy'))
        .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]);
      const actions = statements.flatMap((st) => [st.Action].flat());
      const deletes = statements.filter((st) => [st.Action].flat().includes('sagemaker:DeleteEndpoint'));

      // Assess
      expect(actions.filter((a) => a.startsWith('sagemaker:'))).toEqual(['sagemaker:DeleteEndpoint']);
      expect(deletes).toHaveLength(1);
      const resources = [deletes[0]!.Resource].flat();
      expect(resources).toHaveLength(1);
      expect(JSON.stringify(resources[0])).toMatch(/:endpoint\/mlship-\*-staging"/);
      expect(JSON.stringify(statements)).not.toContain('production');
      expect(actions).not.toContain('s3:PutObject');
      expect(JSON.stringify(statements.filter((st) => [st.Action].flat().includes('s3:GetObject')))).toContain('/registry/*');
    });

    it('grants sagemaker:DeleteEndpoint to DeleteStagingEndpoint, DeployEndpoint (which recreates a Failed endpoint) and the teardown at stack deletion only', () => {
      const holders = ofType(platform, 'AWS::IAM::Policy')
        .filter(([, p]) =>
          (p.Properties.PolicyDocument.Statement as { Action: string | string[] }[]).some((st) =>
            [st.Action].flat().includes('sagemaker:DeleteEndpoint'),
          ),
        )
        .map(([id]) => id.replace(/RoleDefaultPolicy.*$/, ''))
        .sort();
      expect(holders).toEqual(['SageMakerTeardown', 'TasksDeleteStagingEndpoint', 'TasksDeployEndpoint']);
    });
  });

  describe('Method: constructor (pruning)', () => {
    it('lets PruneVersions delete only mlship-* models and configs, and no endpoint; only it and the teardown may delete them', () => {
      // Prepare
      const statements = ofType(platform, 'AWS::IAM::Policy')
        .filter(([id]) => id.startsWith('TasksPruneVersionsRoleDefaultPolicy'))
        .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]);
      const of = (action: string) => statements.filter((st) => [st.Action].flat().includes(action)).flatMap((st) => [st.Resource].flat());
      // Assess
      expect(JSON.stringify(of('sagemaker:DeleteModel'))).toContain(':model/mlship-*');
      expect(of('sagemaker:DeleteModel')).toHaveLength(1);
      expect(of('sagemaker:DeleteEndpointConfig')).toHaveLength(1);
      expect(JSON.stringify(of('sagemaker:DeleteEndpointConfig'))).toContain(':endpoint-config/mlship-*');
      expect(of('sagemaker:ListModels')).toEqual(['*']);
      const actions = statements.flatMap((st) => [st.Action].flat());
      for (const forbidden of ['sagemaker:DeleteEndpoint', 'sagemaker:UpdateEndpoint', 'sagemaker:CreateEndpoint'])
        expect(actions).not.toContain(forbidden);
      const deleters = ofType(platform, 'AWS::IAM::Policy')
        .filter(([, p]) => JSON.stringify(p.Properties.PolicyDocument).includes('sagemaker:DeleteModel'))
        .map(([id]) => id.replace(/[0-9A-F]{8}$/, ''));
      expect(deleters.sort()).toEqual(['SageMakerTeardownRoleDefaultPolicy', 'TasksPruneVersionsRoleDefaultPolicy']);
    });
  });

  describe('Method: constructor (drift and rollback, in the models stack)', () => {
    it("starts the drift check on each model's schedule with the model as input", () => {
      // Assess
      for (const [model, expression] of [
        ['parcel-eta', 'cron(0 6 ? * MON *)'],
        ['support-triage', 'rate(7 days)'],
      ]) {
        modelsTemplate().hasResourceProperties('AWS::Scheduler::Schedule', {
          ScheduleExpression: expression,
          ScheduleExpressionTimezone: 'UTC',
          State: 'ENABLED',
          FlexibleTimeWindow: { Mode: 'OFF' },
          Target: Match.objectLike({
            Arn: { 'Fn::ImportValue': 'mlship-platform-driftCheckStateMachineArn' },
            Input: JSON.stringify({ model }),
            RoleArn: { Ref: Match.stringLikeRegexp('ScheduleRole') },
          }),
        });
      }
      // No drift rule on an event bus (300 rules by default): the platform stack's rules start scheduled functions
      // (test/infra/weekly-report.test.ts), and the models stack has Scheduler schedules.
      expect(ofType(platform, 'AWS::Events::Rule').filter(([, r]) => JSON.stringify(r).includes('DriftCheck'))).toHaveLength(0);
      expect(ofType(modelsTemplate().toJSON().Resources, 'AWS::Events::Rule')).toHaveLength(0);
      expect(ofType(modelsTemplate().toJSON().Resources, 'AWS::Scheduler::Schedule')).toHaveLength(2);
    });

    it('creates the rollback alarms with the manifest thresholds, latency in microseconds', () => {
      // Assess
      modelsTemplate().hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: 'mlship-rollback-parcel-eta-5xx',
        Threshold: 0.02,
        ComparisonOperator: 'GreaterThanThreshold',
        Metrics: Match.arrayWith([
          Match.objectLike({ Expression: 'IF(invocations > 0, errors / invocations, 0)' }),
          Match.objectLike({
            Id: 'errors',
            MetricStat: Match.objectLike({
              Metric: {
                Namespace: 'AWS/SageMaker',
                MetricName: 'Invocation5XXErrors',
                Dimensions: Match.arrayWith([{ Name: 'EndpointName', Value: 'mlship-parcel-eta-production' }]),
              },
            }),
          }),
        ]),
      });
      modelsTemplate().hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: 'mlship-rollback-parcel-eta-p99-latency',
        MetricName: 'ModelLatency',
        ExtendedStatistic: 'p99',
        Threshold: 250_000,
      });
      modelsTemplate().hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: 'mlship-rollback-support-triage-p99-latency',
        Threshold: 1_000_000,
      });
    });
  });

  describe('Method: constructor (approver policy)', () => {
    type Statement = {
      Sid?: string;
      Effect: string;
      Action: string | string[];
      Resource: unknown;
      Condition?: Record<string, Record<string, unknown>>;
    };
    const approverStatements = () => {
      const policies = ofType(platform, 'AWS::IAM::ManagedPolicy');
      expect(policies).toHaveLength(1);
      return { logicalId: policies[0]![0], statements: policies[0]![1].Properties.PolicyDocument.Statement as Statement[] };
    };
    const decideFunctionId = () => logicalIdOf('DecideApproval');

    it('grants exactly the approval, report, registry and execution reads plus the decision function URL, and outputs its ARN', () => {
      // Prepare
      const { logicalId, statements } = approverStatements();
      // Act
      const bySid = Object.fromEntries(statements.map((st) => [st.Sid, [st.Action].flat().sort()]));
      // Assess
      expect(bySid).toEqual({
        ReadApprovalsAndReports: ['s3:GetObject'],
        ListApprovalsAndReports: ['s3:ListBucket'],
        DecideThroughFunctionUrl: ['lambda:InvokeFunctionUrl'],
        InvokeOnlyViaFunctionUrl: ['lambda:InvokeFunction'],
        FollowReleases: ['states:DescribeStateMachine', 'states:ListExecutions'],
        ReadReleaseExecutions: ['states:DescribeExecution', 'states:GetExecutionHistory'],
        UseArtifactKey: ['kms:Decrypt'],
        ReadEndpointMetrics: ['cloudwatch:GetMetricData'],
      });
      // GetMetricData has no resource-level permission: "*" is its only Resource (acknowledged to cdk-nag: nag.test.ts stays clean).
      expect(statements.find((st) => st.Sid === 'ReadEndpointMetrics')!.Resource).toBe('*');
      const list = statements.find((st) => st.Sid === 'ListApprovalsAndReports')!;
      expect(list.Condition).toEqual({
        StringLike: { 's3:prefix': ['approvals/*', 'reports/*', 'registry/*', 'monitoring/*', 'checks/*'] },
      });
      expect(JSON.stringify(statements.find((st) => st.Sid === 'ReadApprovalsAndReports')!.Resource)).not.toMatch(
        /capture|ground-truth|source|builds/,
      );
      s.platformTemplate.hasOutput('ApproverPolicyArn', { Value: { Ref: logicalId } });
    });

    it('grants approvers no states:SendTask* and no read of the task tokens; only DecideApproval holds both', () => {
      // Prepare
      const { statements } = approverStatements();
      const allows = statements.filter((st) => st.Effect === 'Allow');
      const actions = allows.flatMap((st) => [st.Action].flat());
      const readResources = allows
        .filter((st) => [st.Action].flat().some((a) => /^s3:(GetObject|\*)|^s3:Get/.test(a)))
        .flatMap((st) => [st.Resource].flat());
      const roleStatements = (task: string) =>
        ofType(platform, 'AWS::IAM::Policy')
          .filter(([id]) => id.startsWith(`Tasks${task}RoleDefaultPolicy`))
          .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Statement[]);
      const decideActions = roleStatements('DecideApproval').flatMap((st) => [st.Action].flat());
      const tokenReaders = TASK_NAMES.filter((task) =>
        roleStatements(task).some(
          (st) => [st.Action].flat().includes('s3:GetObject') && JSON.stringify(st.Resource).includes('/approval-tokens/'),
        ),
      );
      const sendTaskHolders = TASK_NAMES.filter((task) =>
        roleStatements(task).some((st) => [st.Action].flat().some((a) => /^states:SendTask/.test(a))),
      );

      // Assess: approvers cannot answer a task or read a token, whatever they read
      expect(actions.filter((a) => /^states:(SendTask|\*)|^\*$/.test(a))).toEqual([]);
      expect(actions).not.toContain('s3:PutObject');
      for (const r of readResources) {
        const text = JSON.stringify(r);
        expect(text).not.toContain('approval-tokens');
        // A read of the whole bucket (`<bucket>/*`) would include the tokens too.
        expect(text).not.toContain('"/*"');
      }
      expect(JSON.stringify(readResources)).toMatch(/\/approvals\/\*/);
      // ... and decide only through DecideApproval's function URL, authenticated by IAM
      const url = allows.find((st) => st.Sid === 'DecideThroughFunctionUrl')!;
      expect(url.Resource).toEqual({ 'Fn::GetAtt': [decideFunctionId(), 'Arn'] });
      expect(url.Condition).toEqual({ StringEquals: { 'lambda:FunctionUrlAuthType': 'AWS_IAM' } });
      expect(allows.find((st) => st.Sid === 'InvokeOnlyViaFunctionUrl')!.Condition).toEqual({
        Bool: { 'lambda:InvokedViaFunctionUrl': 'true' },
      });
      s.platformTemplate.hasResourceProperties('AWS::Lambda::Url', {
        AuthType: 'AWS_IAM',
        TargetFunctionArn: { 'Fn::GetAtt': [decideFunctionId(), 'Arn'] },
      });
      s.platformTemplate.hasOutput('DecideApprovalUrl', {
        Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^TasksDecideApprovalFunctionFunctionUrl'), 'FunctionUrl'] },
      });
      // The token's only reader and the only SendTask* holder is the decision function.
      expect(tokenReaders).toEqual(['DecideApproval']);
      expect(sendTaskHolders).toEqual(['DecideApproval']);
      expect(decideActions).toEqual(expect.arrayContaining(['states:SendTaskSuccess', 'states:SendTaskFailure']));
    });
  });

  describe('Method: constructor (IAM)', () => {
    it('has no statement whose action is * or <service>:* in any policy of either stack', () => {
      // Prepare: every policy document, managed, attached or inline on a role.
      const documents: { where: string; doc: { Statement: { Effect: string; Action?: string | string[]; NotAction?: unknown }[] } }[] = [];
      for (const [stack, template] of [
        ['stateful', s.statefulTemplate],
        ['platform', s.platformTemplate],
      ] as const) {
        for (const [id, r] of Object.entries(template.toJSON().Resources as Resources)) {
          if (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy')
            documents.push({ where: `${stack}/${id}`, doc: r.Properties.PolicyDocument });
          if (r.Type === 'AWS::IAM::Role') {
            for (const p of r.Properties.Policies ?? []) documents.push({ where: `${stack}/${id}/${p.PolicyName}`, doc: p.PolicyDocument });
          }
        }
      }
      // Act
      const offending = documents.flatMap(({ where, doc }) =>
        doc.Statement.filter((st) => st.Effect === 'Allow')
          .flatMap((st) => [st.Action ?? []].flat())
          .filter((a) => a === '*' || /^[a-z0-9-]+:\*$/.test(a))
          .map((a) => `${where}: ${a}`),
      );
      // Assess
      expect(documents.length).toBeGreaterThan(20);
      expect(documents.some(({ doc }) => doc.Statement.some((st) => st.NotAction))).toBe(false);
      expect(offending).toEqual([]);
    });
  });

  describe('Method: constructor (missing deployment values)', () => {
    it('warns once per missing value and fails a deployment through a template rule on its placeholder', () => {
      // Prepare: synthesized without any context.
      const annotations = Annotations.fromStack(s.platform);
      const template = s.platformTemplate.toJSON();
      // Assess
      expect(annotations.findWarning('*', Match.stringLikeRegexp('connectionArn is not set'))).toHaveLength(1);
      expect(annotations.findWarning('*', Match.stringLikeRegexp('repository is not set'))).toHaveLength(1);
      expect(template.Parameters.ConnectionArn.Default).toBe(PLACEHOLDERS.connectionArn);
      expect(template.Rules.ConnectionArnIsSet.Assertions).toEqual([
        {
          Assert: { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'ConnectionArn' }, PLACEHOLDERS.connectionArn] }] },
          AssertDescription: expect.stringContaining('connectionArn is missing: deploy with -c connectionArn='),
        },
      ]);
      expect(template.Rules.RepositoryIsSet.Assertions[0].Assert).toEqual({
        'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'Repository' }, PLACEHOLDERS.repository] }],
      });
      // The pipelines use the parameter, so the rule guards exactly what they deploy with.
      s.platformTemplate.hasResourceProperties('AWS::CodePipeline::Pipeline', {
        Stages: Match.arrayWith([
          Match.objectLike({
            Name: 'Source',
            Actions: [Match.objectLike({ Configuration: Match.objectLike({ ConnectionArn: { Ref: 'ConnectionArn' } }) })],
          }),
        ]),
      });
    });
  });

  describe('Method: validation (cdk-nag)', () => {
    it('leaves no unacknowledged AwsSolutions finding in either stack', () => {
      // Act
      const findings = nagFindings(s.app);
      // Assess
      expect(findings.map((f) => `${f.ruleName} ${f.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
    });
  });
});
