import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Annotations, Capture, Match } from 'aws-cdk-lib/assertions';
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

const ofType = (resources: Resources, type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const logicalIdOf = (task: TaskName) => {
  const ids = ofType(platform, 'AWS::Lambda::Function')
    .map(([id]) => id)
    .filter((id) => id.startsWith(`Tasks${task}Function`));
  expect(ids).toHaveLength(1);
  return ids[0]!;
};

describe('Class: PlatformStack', () => {
  describe('Method: constructor (pipelines)', () => {
    it('creates one V2 pipeline per model whose push trigger filters on the manifest paths and branch', () => {
      // Assess
      const pipelines = ofType(platform, 'AWS::CodePipeline::Pipeline');
      expect(pipelines).toHaveLength(s.models.length);
      for (const model of s.models) {
        s.platformTemplate.hasResourceProperties('AWS::CodePipeline::Pipeline', {
          PipelineType: 'V2',
          ExecutionMode: 'QUEUED',
          Triggers: [
            {
              ProviderType: 'CodeStarSourceConnection',
              GitConfiguration: {
                SourceActionName: 'Source',
                Push: [{ Branches: { Includes: [model.manifest.branch] }, FilePaths: { Includes: model.manifest.paths } }],
              },
            },
          ],
        });
      }
      const paths = pipelines.map(([, p]) => p.Properties.Triggers[0].GitConfiguration.Push[0].FilePaths.Includes);
      expect(paths).toEqual(expect.arrayContaining([['models/parcel-eta/**', 'shared/features/*.py'], ['models/support-triage/**']]));
    });

    it('runs the model tests, then starts the release through a Lambda action that passes the commit', () => {
      // Prepare
      const stages = new Capture();
      // Act
      s.platformTemplate.hasResourceProperties('AWS::CodePipeline::Pipeline', {
        Triggers: [
          Match.objectLike({ GitConfiguration: Match.objectLike({ Push: [Match.objectLike({ Branches: { Includes: ['release'] } })] }) }),
        ],
        Stages: stages,
      });
      // Assess
      const byName = Object.fromEntries(stages.asArray().map((st: any) => [st.Name, st.Actions[0]]));
      expect(Object.keys(byName)).toEqual(['Source', 'Test', 'Release']);
      expect(byName.Source.ActionTypeId.Provider).toBe('CodeStarSourceConnection');
      expect(byName.Source.Namespace).toBe('SourceVariables');
      expect(byName.Test.ActionTypeId.Provider).toBe('CodeBuild');
      expect(byName.Release.ActionTypeId.Provider).toBe('Lambda');
      expect(byName.Release.InputArtifacts).toEqual([{ Name: 'Source' }]);
      expect(JSON.parse(byName.Release.Configuration.UserParameters)).toEqual({
        model: 'parcel-eta',
        commitId: '#{SourceVariables.CommitId}',
        pipelineExecutionId: '#{codepipeline.PipelineExecutionId}',
        pipelineName: 'mlship-release-parcel-eta',
      });
    });

    it('names each pipeline, and lets the release function read executions of exactly those pipelines (to skip the one their creation starts)', () => {
      // Prepare
      const names = ofType(platform, 'AWS::CodePipeline::Pipeline')
        .map(([, p]) => p.Properties.Name as string)
        .sort();
      const statements = ofType(platform, 'AWS::IAM::Policy')
        .filter(([id]) => id.startsWith('ReleaseStarterRole'))
        .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]);
      const reads = statements.filter((st) => [st.Action].flat().some((a) => a.startsWith('codepipeline:Get')));

      // Assess
      expect(names).toEqual(s.models.map((m) => `mlship-release-${m.manifest.name}`).sort());
      expect(reads).toHaveLength(1);
      expect(reads[0]!.Action).toBe('codepipeline:GetPipelineExecution');
      const arns = [reads[0]!.Resource].flat().map((r) => JSON.stringify(r));
      expect(arns).toHaveLength(names.length);
      for (const [i, name] of names.entries()) expect(arns[i]).toMatch(new RegExp(`:codepipeline:.*:${name}"\\]\\]}$`));
    });

    it('gives each model a test project that runs the tests under models/<name>/test', () => {
      // Assess
      const spec = new Capture();
      s.platformTemplate.hasResourceProperties('AWS::CodeBuild::Project', { Name: 'mlship-test-parcel-eta', Source: { BuildSpec: spec } });
      expect(spec.asString()).toContain('node --test test/infra/fixtures/models/parcel-eta/test/*.test.mjs');
    });

    it('gives each model a privileged build project with its buildspec, image repository and key', () => {
      // Assess
      s.platformTemplate.hasResourceProperties('AWS::CodeBuild::Project', {
        Name: 'mlship-build-parcel-eta',
        Source: { Type: 'S3', BuildSpec: 'test/infra/fixtures/models/parcel-eta/ci/buildspec.yml' },
        Environment: Match.objectLike({
          PrivilegedMode: true,
          ComputeType: 'BUILD_GENERAL1_MEDIUM',
          EnvironmentVariables: Match.arrayWith([
            { Name: 'IMAGE_BUILDER', Type: 'PLAINTEXT', Value: 'docker' },
            Match.objectLike({ Name: 'IMAGE_REPOSITORY_URI' }),
          ]),
        }),
        EncryptionKey: Match.anyValue(),
        TimeoutInMinutes: 45,
        LogsConfig: { CloudWatchLogs: Match.objectLike({ Status: 'ENABLED' }) },
      });
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
        const tasks = Object.entries(def.States).filter(([, st]) => st.Type === 'Task');
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
          : stateName === 'DeleteStagingEndpoint' || stateName === 'RemoveShadowVariant'
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

  describe('Method: constructor (drift and rollback)', () => {
    it("starts the drift check on each model's schedule with the model as input", () => {
      // Assess
      for (const [model, expression] of [
        ['parcel-eta', 'cron(0 6 ? * MON *)'],
        ['support-triage', 'rate(7 days)'],
      ]) {
        s.platformTemplate.hasResourceProperties('AWS::Events::Rule', {
          ScheduleExpression: expression,
          State: 'ENABLED',
          Targets: [
            Match.objectLike({ Arn: { Ref: Match.stringLikeRegexp('^DriftCheckStateMachine') }, Input: JSON.stringify({ model }) }),
          ],
        });
      }
      expect(ofType(platform, 'AWS::Events::Rule')).toHaveLength(2);
    });

    it('creates the rollback alarms with the manifest thresholds, latency in microseconds', () => {
      // Assess
      s.platformTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', {
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
      s.platformTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: 'mlship-rollback-parcel-eta-p99-latency',
        MetricName: 'ModelLatency',
        ExtendedStatistic: 'p99',
        Threshold: 250_000,
      });
      s.platformTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', {
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
      });
      const list = statements.find((st) => st.Sid === 'ListApprovalsAndReports')!;
      expect(list.Condition).toEqual({ StringLike: { 's3:prefix': ['approvals/*', 'reports/*', 'registry/*', 'monitoring/*'] } });
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
