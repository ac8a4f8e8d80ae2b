import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TASKS, WORKFLOWS, type TaskName } from '../../../lib/tasks';

/**
 * The conventions of DESIGN.md "ASL conventions", checked on the raw files. The branches
 * themselves run in release-paths.test.ts (and against the local cloud in test/workflow).
 */

interface State {
  Type: string;
  Resource?: string;
  Parameters?: { FunctionName?: string; Payload?: Record<string, unknown> };
  ResultSelector?: Record<string, string>;
  ResultPath?: string | null;
  TimeoutSeconds?: number;
  TimeoutSecondsPath?: string;
  Retry?: { ErrorEquals: string[]; BackoffRate?: number; IntervalSeconds?: number; MaxAttempts?: number }[];
  Catch?: { ErrorEquals: string[]; ResultPath?: string; Next: string }[];
  Choices?: Record<string, unknown>[];
  Default?: string;
  Next?: string;
  End?: boolean;
  Result?: unknown;
}
interface Definition {
  Comment?: string;
  StartAt: string;
  States: Record<string, State>;
}

const load = (file: string): Definition => JSON.parse(readFileSync(file, 'utf8')) as Definition;
/**
 * Where a route ends up recorded: a release's ends first pass DeleteStagingEndpoint, through
 * a Pass state that marks which record the release goes on to (`$.releaseEnding`).
 */
const recordOf = (def: Definition, next: string | undefined): string | undefined => {
  const state = def.States[next ?? ''];
  return state?.Type === 'Pass' && state.ResultPath === '$.releaseEnding' ? (state.Result as string) : next;
};
const byPlaceholder = new Map(Object.entries(TASKS).map(([name, t]) => [`\${${t.placeholder}}`, name as TaskName]));
const RETRIED = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'TransientError',
];

for (const [workflow, { file, tasks }] of Object.entries(WORKFLOWS)) {
  const definition = load(file);
  // The Lambda tasks; the service integrations (TrainModel: createTrainingJob.sync) have their own test below.
  const lambdaStates = Object.entries(definition.States).filter(
    ([, s]) => s.Type === 'Task' && s.Resource?.startsWith('arn:aws:states:::lambda:'),
  );

  describe(`Workflow: ${workflow} (${file})`, () => {
    it('has a top-level Comment and only JSONPath', () => {
      expect(definition.Comment?.length).toBeGreaterThan(20);
      expect(readFileSync(file, 'utf8')).not.toMatch(/JSONata|"Assign"|\{%/);
    });

    it('calls exactly the tasks lib/tasks.ts lists for it, through the fixed lambda:invoke resources', () => {
      const called = new Set<TaskName>();
      for (const [name, state] of lambdaStates) {
        expect(['arn:aws:states:::lambda:invoke', 'arn:aws:states:::lambda:invoke.waitForTaskToken'], name).toContain(state.Resource);
        const task = byPlaceholder.get(state.Parameters?.FunctionName ?? '');
        expect(task, `${name}: FunctionName ${state.Parameters?.FunctionName}`).toBeDefined();
        called.add(task!);
        expect(state.Parameters?.Payload, `${name} passes a Payload`).toBeTypeOf('object');
      }
      expect([...called].sort()).toEqual([...tasks].sort());
    });

    it('retries the Lambda service errors and TransientError with backoff on every task', () => {
      for (const [name, state] of lambdaStates) {
        const retry = state.Retry?.find((r) => RETRIED.every((e) => r.ErrorEquals.includes(e)));
        expect(retry, name).toBeDefined();
        expect(retry!.BackoffRate, name).toBeGreaterThan(1);
        expect(retry!.MaxAttempts, name).toBeGreaterThan(1);
      }
    });

    it('catches specific errors before States.ALL, always into $.error (a failed record into its result)', () => {
      for (const [name, state] of lambdaStates) {
        const catches = state.Catch ?? [];
        expect(catches.length, name).toBeGreaterThan(0);
        expect(catches.at(-1)!.ErrorEquals, name).toEqual(['States.ALL']);
        for (const c of catches.slice(0, -1)) expect(c.ErrorEquals, name).not.toContain('States.ALL');
        // A RecordOutcome that failed leaves its {Error, Cause} where its result would be, so
        // the Fail state after it still finds a Cause (CausePath) and says why.
        const beforeFail = definition.States[state.Next ?? '']?.Type === 'Fail';
        const recordOutcome = byPlaceholder.get(state.Parameters!.FunctionName!) === 'RecordOutcome';
        // A failed cleanup is kept in its own result: $.error still says why the release failed
        // (or, for ClearLeftoverExperiment, stays unset: the release goes on).
        const prune = byPlaceholder.get(state.Parameters!.FunctionName!) === 'PruneVersions';
        const allowed =
          recordOutcome && beforeFail
            ? ['$.RecordOutcomeResult']
            : ['DeleteStagingEndpoint', 'RemoveShadowVariant', 'ClearLeftoverExperiment', 'RemoveAbVariant'].includes(name)
              ? [`$.${name}Result`]
              : prune
                ? ['$.pruneError']
                : ['$.error', '$.recordError'];
        for (const c of catches) expect(allowed, name).toContain(c.ResultPath);
      }
    });

    it('puts each result at $.<State>Result and bounds every invoke by more than the Lambda timeout', () => {
      for (const [name, state] of lambdaStates) {
        const task = byPlaceholder.get(state.Parameters!.FunctionName!)!;
        if (task === 'RecordOutcome') expect(state.ResultPath).toBe('$.RecordOutcomeResult');
        // A split window's merge answers what CheckDrift would have, in its place.
        else if (name === 'MergeCaptureBatches') expect(state.ResultPath, name).toBe('$.CheckDriftResult');
        else expect(state.ResultPath, name).toBe(`$.${name}Result`);
        if (state.Resource!.endsWith('.waitForTaskToken')) continue;
        expect(state.TimeoutSeconds, name).toBeGreaterThan(TASKS[task].timeoutSeconds);
        for (const path of Object.values(state.ResultSelector ?? {})) expect(path, name).toMatch(/^\$\.Payload\./);
      }
    });

    it('passes the execution id and name into every task payload', () => {
      for (const [name, state] of lambdaStates) {
        expect(state.Parameters!.Payload!['executionId.$'], name).toBe('$$.Execution.Id');
        expect(state.Parameters!.Payload!['executionName.$'], name).toBe('$$.Execution.Name');
      }
    });

    it('gives every Fail state the cause RecordOutcome recorded as its Cause', () => {
      const fails = Object.entries(definition.States).filter(([, s]) => s.Type === 'Fail');
      for (const [name, fail] of fails) expect(fail, name).toMatchObject({ CausePath: '$.RecordOutcomeResult.Cause' });
      for (const [name, state] of lambdaStates) {
        const beforeFail = definition.States[state.Next ?? '']?.Type === 'Fail';
        if (byPlaceholder.get(state.Parameters!.FunctionName!) === 'RecordOutcome' && beforeFail)
          expect(state.ResultSelector!['Cause.$'], name).toBe('$.Payload.cause');
      }
    });

    it.runIf(workflow === 'release')('routes model faults to their own end before States.ALL', () => {
      for (const name of ['EvaluateModel', 'LoadTest']) {
        const route = definition.States[name]!.Catch!.find((c) => c.ErrorEquals.includes('ModelAnswerError'));
        expect(route, name).toMatchObject({ ErrorEquals: expect.arrayContaining(['ModelInvocationError', 'InvalidDataError']) });
        expect(recordOf(definition, route!.Next), name).toBe('RecordEvaluationFailure');
      }
    });

    it('records and notifies before every Fail state', () => {
      const fails = Object.entries(definition.States)
        .filter(([, s]) => s.Type === 'Fail')
        .map(([n]) => n);
      expect(fails.length).toBeGreaterThan(0);
      for (const fail of fails) {
        const into = Object.entries(definition.States).filter(([, s]) => s.Next === fail || s.Catch?.some((c) => c.Next === fail));
        expect(into.length, fail).toBeGreaterThan(0);
        for (const [name, s] of into) expect(s.Parameters?.FunctionName, `${name} -> ${fail}`).toBe('${RecordOutcomeFunctionArn}');
      }
    });
  });
}

describe('Workflow: release, specifics', () => {
  const release = load(WORKFLOWS.release.file);
  const { States } = release;
  const choiceValues = (state: string) => JSON.stringify(States[state]!.Choices);

  it('ends the build loop on every terminal CodeBuild status and never loops on an unknown one', () => {
    for (const status of ['SUCCEEDED', 'FAILED', 'FAULT', 'STOPPED', 'TIMED_OUT', 'IN_PROGRESS'])
      expect(choiceValues('IsBuildDone')).toContain(`"${status}"`);
    expect(recordOf(release, States.IsBuildDone!.Default)).toBe('RecordReleaseFailure');
    expect(States.WaitForBuild!).toMatchObject({ Type: 'Wait', SecondsPath: '$.PrepareReleaseResult.pollSeconds' });
  });

  it('maps every endpoint state in both deployment loops', () => {
    for (const choice of ['IsStagingReady', 'IsProductionReady']) {
      for (const status of ['InService', 'Updating', 'Failed', 'RolledBack']) expect(choiceValues(choice)).toContain(`"${status}"`);
      expect(States[choice]!.Default).toBeDefined();
    }
    const rolledBack = States.IsProductionReady!.Choices!.find((c) => c.StringEquals === 'RolledBack')!;
    expect(recordOf(release, rolledBack.Next as string)).toBe('RecordRollback');
    expect(States.PruneRolledBackVersion!.Next).toBe('RecordRollback');
    expect(States.RecordRollback!.Next).toBe('DeploymentRolledBack');
  });

  it('retries a busy endpoint on the scale of a SageMaker update in both deploy states', () => {
    for (const state of ['DeployStaging', 'DeployProduction']) {
      const busy = States[state]!.Retry!.find((r) => r.ErrorEquals.includes('EndpointBusyError'));
      expect(busy, state).toMatchObject({ IntervalSeconds: 30, MaxAttempts: 20 });
    }
  });

  it('deploys staging and production through the same task with their own stage', () => {
    expect(States.DeployStaging!.Parameters!.Payload).toMatchObject({
      stage: 'staging',
      'endpointName.$': '$.PrepareReleaseResult.stagingEndpoint',
    });
    expect(States.DeployProduction!.Parameters!.Payload).toMatchObject({
      stage: 'production',
      'endpointName.$': '$.PrepareReleaseResult.productionEndpoint',
    });
  });

  it('waits for the approval with a task token, the manifest timeout, and routes rejection and timeout', () => {
    const approval = States.RequestApproval!;
    expect(approval.Resource).toBe('arn:aws:states:::lambda:invoke.waitForTaskToken');
    expect(approval.Parameters!.Payload!['taskToken.$']).toBe('$$.Task.Token');
    expect(approval.TimeoutSecondsPath).toBe('$.PrepareReleaseResult.approvalTimeoutSeconds');
    expect(approval.Parameters!.Payload!['timeoutSeconds.$']).toBe('$.PrepareReleaseResult.approvalTimeoutSeconds');
    // A passed load test goes through the shadow stage, which goes on to the approval when it is skipped or passes.
    expect(States.LoadTestGate!.Choices).toEqual([expect.objectContaining({ Next: 'StartShadowTest' })]);
    expect(States.IsShadowTestRunning!.Default).toBe('RequestApproval');
    expect(States.IsShadowTestDone!.Choices).toContainEqual(expect.objectContaining({ Next: 'RequestApproval' }));
    const routes = Object.fromEntries(approval.Catch!.map((c) => [c.ErrorEquals.join(), recordOf(release, c.Next)]));
    expect(routes).toEqual({
      ApprovalRejectedError: 'RecordRejection',
      'States.Timeout': 'RecordApprovalTimeout',
      'States.ALL': 'RecordReleaseFailure',
    });
    expect(approval.Retry!.flatMap((r) => r.ErrorEquals)).not.toContain('States.Timeout');
  });

  it('passes every end of a release through DeleteStagingEndpoint before its record, and back to that record', () => {
    // Prepare: the records of the ends; an invalid release input names no model to clean up after
    const records = Object.entries(States)
      .filter(([, s]) => s.Parameters?.FunctionName === '${RecordOutcomeFunctionArn}')
      .map(([n]) => n)
      .filter((n) => n !== 'RecordInvalidRelease');
    const marks = Object.entries(States).filter(([, s]) => s.Type === 'Pass' && s.ResultPath === '$.releaseEnding');
    const route = States.RouteEnding!;

    // Assess: only RouteEnding enters a record (a promotion's and a rollback's through their
    // pruning, after the staging endpoint is gone), each mark names one, and every mark leads
    // to the cleanup
    const prunedBefore: Record<string, string> = { NotifySuccess: 'PruneVersions', RecordRollback: 'PruneRolledBackVersion' };
    const into = (target: string) =>
      Object.entries(States)
        .filter(
          ([, s]) =>
            s.Next === target ||
            s.Default === target ||
            s.Catch?.some((c) => c.Next === target) ||
            s.Choices?.some((c) => c.Next === target),
        )
        .map(([n]) => n);
    for (const record of records) {
      const prune = prunedBefore[record];
      expect(into(record), record).toEqual([prune ?? 'RouteEnding']);
      if (prune) expect(into(prune), prune).toEqual(['RouteEnding']);
    }
    expect(marks.map(([, s]) => s.Result).sort()).toEqual([...records].sort());
    for (const [name, s] of marks) expect(s.Next, name).toBe('DeleteStagingEndpoint');
    for (const [, s] of marks) {
      const result = String(s.Result);
      expect(route.Choices, result).toContainEqual({
        Variable: '$.releaseEnding',
        StringEquals: result,
        Next: prunedBefore[result] ?? result,
      });
    }
    // The staging cleanup, then the shadow variant's (for a release that got past its load test), then the record.
    const cleanup = States.DeleteStagingEndpoint!;
    expect(cleanup.Next).toBe('ReachedShadowStage');
    expect(cleanup.Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.DeleteStagingEndpointResult', Next: 'ReachedShadowStage' },
    ]);
    expect(States.ReachedShadowStage!.Default).toBe('RouteEnding');
    expect(States.ReachedShadowStage!.Choices).toEqual([{ Variable: '$.LoadTestResult', IsPresent: true, Next: 'RemoveShadowVariant' }]);
    expect(States.RemoveShadowVariant!.Next).toBe('ReachedAbStage');
    expect(States.RemoveShadowVariant!.Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.RemoveShadowVariantResult', Next: 'ReachedAbStage' },
    ]);
    // Then the A/B candidate variant's, for a release that claimed production after its approval.
    expect(States.ReachedAbStage!.Default).toBe('RouteEnding');
    expect(States.ReachedAbStage!.Choices).toEqual([{ Variable: '$.ClaimProductionResult', IsPresent: true, Next: 'RemoveAbVariant' }]);
    expect(States.RemoveAbVariant!.Next).toBe('RouteEnding');
    expect(States.RemoveAbVariant!.Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.RemoveAbVariantResult', Next: 'RouteEnding' },
    ]);
  });

  it('has a distinct Fail state per failure', () => {
    const fails = Object.entries(States)
      .filter(([, s]) => s.Type === 'Fail')
      .map(([n]) => n)
      .sort();
    expect(fails).toEqual([
      'AbTestFailed',
      'ApprovalRejected',
      'ApprovalTimedOut',
      'BuildFailed',
      'DeploymentRolledBack',
      'EvaluationFailed',
      'LoadTestFailed',
      'ProductionDeployFailed',
      'QualityGateFailed',
      'ReleaseFailed',
      'ReleaseInvalid',
      'ReleaseSuperseded',
      'ShadowTestFailed',
      'StagingDeployFailed',
      'TrainingFailed',
    ]);
  });

  it('trains with the createTrainingJob.sync integration, and a failed or stopped job ends in TrainingFailed', () => {
    const train = States.TrainModel!;
    expect(train.Resource).toBe('arn:aws:states:::sagemaker:createTrainingJob.sync');
    expect(train.ResultPath).toBe('$.TrainModelResult');
    expect(train.TimeoutSecondsPath).toBe('$.PrepareTrainingResult.timeoutSeconds');
    expect(train.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'MarkTrainingFailed' }]);
    expect(recordOf(release, 'MarkTrainingFailed')).toBe('RecordTrainingFailure');
    expect(States.RecordTrainingFailure!.Parameters!.Payload).toMatchObject({ outcome: 'training-failed' });
    expect(States.RecordTrainingFailure!.Next).toBe('TrainingFailed');
    expect(States.IsBuildDone!.Choices!.find((c) => c.StringEquals === 'SUCCEEDED')!.Next).toBe('PrepareTraining');
    expect(train.Next).toBe('RecordTraining');
    expect(States.RecordTraining!.Next).toBe('DeployStaging');
  });
});
