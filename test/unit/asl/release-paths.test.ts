import '../../../bin/polyfills';
import { StateMachine } from 'aws-local-stepfunctions';
import { describe, expect, it } from 'vitest';
import { renderAsl } from '../../../lib/asl';
import { prepareDefinition } from '../../../lib/local/services/sfn/definition';
import { TASKS, WORKFLOWS } from '../../../lib/tasks';

/**
 * Every branch of both workflows, run in aws-local-stepfunctions with canned task results
 * (the tasks themselves are tested in test/unit/lambdas; the real local cloud runs in
 * test/workflow). What is asserted is the path: which states ran and which end state was
 * reached, and what RecordOutcome was told. The definition is prepared as the local cloud
 * prepares it (lib/local/services/sfn/definition.ts), which evens out where the engine and Step
 * Functions disagree, e.g. what TimeoutSecondsPath is evaluated against.
 */

type Results = Record<string, (payload: Record<string, unknown>) => unknown>;

const named = (name: string, message = name): Error => Object.assign(new Error(message), { name });

function machine(workflow: keyof typeof WORKFLOWS): StateMachine {
  const subs = Object.fromEntries(
    WORKFLOWS[workflow].tasks.map((t) => [TASKS[t].placeholder, `arn:aws:lambda:us-east-1:000000000000:function:${t}`]),
  );
  return new StateMachine(prepareDefinition(JSON.parse(renderAsl(WORKFLOWS[workflow].file, subs)), 1).engine as never);
}

const RECORD_STATES = [
  'RecordBuildFailure',
  'RecordTrainingFailure',
  'RecordStagingFailure',
  'RecordQualityGateFailure',
  'RecordLoadTestFailure',
  'RecordShadowTestFailure',
  'RecordAbTestFailure',
  'RecordRejection',
  'RecordApprovalTimeout',
  'RecordRollback',
  'RecordProductionFailure',
  'NotifySuccess',
  'RecordInvalidRelease',
  'RecordReleaseFailure',
  'RecordEvaluationFailure',
  'RecordSuperseded',
  'RecordDriftOutcome',
  'RecordDriftFailure',
];

async function run(sm: StateMachine, input: unknown, results: Results, retryStates: string[] = []) {
  const visited: string[] = [];
  const recorded: { state: string; outcome: unknown; workflow: unknown }[] = [];
  const handlers: Record<string, (input: unknown) => Promise<unknown>> = {};
  for (const [state, fn] of Object.entries(results)) {
    handlers[state] = async (i) => {
      visited.push(state);
      const params = i as { FunctionName: string; Payload: Record<string, unknown> };
      const out = await fn(params.Payload);
      // waitForTaskToken tasks resume with the token's output, not a Lambda response; a
      // createTrainingJob.sync task with DescribeTrainingJob's answer
      return state === 'RequestApproval' || state === 'TrainModel' ? out : { Payload: out, StatusCode: 200 };
    };
  }
  for (const state of RECORD_STATES.filter((s) => !(s in results))) {
    handlers[state] = async (i) => {
      visited.push(state);
      const p = (i as { Payload: { outcome: unknown; workflow: unknown } }).Payload;
      recorded.push({ state, outcome: p.outcome, workflow: p.workflow });
      return { Payload: { outcome: p.outcome, notified: true, cause: `cause of ${state}` } };
    };
  }
  const execution = sm.run(input as never, {
    overrides: { taskResourceLocalHandlers: handlers as never, retryIntervalOverrides: Object.fromEntries(retryStates.map((s) => [s, 0])) },
    context: {
      Execution: { Id: 'arn:aws:states:us-east-1:000000000000:execution:release:e1', Name: 'e1' },
      Task: { Token: 'token-1' },
    } as never,
  });
  try {
    const output = await execution.result;
    return { visited, recorded, end: 'Succeeded', output: output as Record<string, unknown> };
  } catch (err) {
    const cause = (err as { cause?: Error }).cause;
    return { visited, recorded, end: cause?.name ?? String(err), failCause: cause?.message, output: undefined };
  }
}

const releaseInput = {
  model: 'delivery-time',
  commitId: 'abcdef1234567',
  sourceUri: 's3://b/source/delivery-time/abcdef1234567.zip',
  trigger: 'push',
};

/** A release where every task succeeds; a scenario overrides some. */
function happy(over: Results = {}): Results {
  return {
    PrepareRelease: () => ({
      version: 'abcdef1-0a0b',
      stagingEndpoint: 's',
      productionEndpoint: 'p',
      buildProject: 'b',
      pollSeconds: 0,
      approvalTimeoutSeconds: 1,
    }),
    AcquireLease: () => ({ status: 'acquired', holder: null, detail: 'took the free lease' }),
    ClaimProduction: () => ({ status: 'held', holder: null, detail: 'deploying to production' }),
    BuildImage: () => ({ buildId: 'b:1' }),
    CheckBuild: () => ({ status: 'SUCCEEDED', failedPhase: null, logLink: null, imageUri: 'img' }),
    PrepareTraining: () => ({ mode: 'build', request: null, timeoutSeconds: 3600 }),
    DeployStaging: () => ({ endpointName: 's', endpointConfigName: 'c', action: 'created' }),
    CheckStaging: () => ({ status: 'InService', failureReason: null }),
    EvaluateModel: () => ({ validationOk: true, metrics: { rmse: 1 }, failures: [], reportUri: 's3://b/r' }),
    LoadTest: () => ({ ok: true, p50Ms: 1, p95Ms: 2, p99Ms: 3, errorRate: 0, achievedRps: 10, failures: [], reportUri: 's3://b/l' }),
    RequestApproval: () => ({ approved: true, by: 'alice', at: '2026-11-27T00:00:00Z', comment: null }),
    DeployProduction: () => ({ endpointName: 'p', endpointConfigName: 'c2', action: 'updated' }),
    CheckProduction: () => ({ status: 'InService', failureReason: null }),
    PromoteVersion: () => ({ production: 'abcdef1-0a0b', previous: null }),
    DeleteStagingEndpoint: () => ({ endpointName: 's', action: 'deleted', detail: 'deleted s' }),
    PruneVersions: () => ({ deletedConfigs: [], deletedModels: [], failures: [] }),
    PruneRolledBackVersion: () => ({ deletedConfigs: [], deletedModels: [], failures: [] }),
    StartShadowTest: () => ({ status: 'skipped', reason: 'first release', placement: null, startedAt: null, pollSeconds: 0 }),
    RemoveShadowVariant: () => ({ action: 'absent', detail: 'no shadow' }),
    ClearLeftoverExperiment: () => ({ action: 'absent', detail: 'no shadow of another release' }),
    StartAbTest: () => ({ status: 'skipped', reason: 'first release', placement: null, startedAt: null, pollSeconds: 0 }),
    RemoveAbVariant: () => ({ action: 'absent', detail: 'no candidate variant' }),
    ...over,
  };
}

describe('Workflow: release paths', () => {
  const sm = machine('release');

  it('succeeds through build, staging, evaluation, load test, approval, production and promotion', async () => {
    // Prepare
    let polls = 0;
    const results = happy({
      CheckBuild: () => ({ status: ++polls < 3 ? 'IN_PROGRESS' : 'SUCCEEDED', failedPhase: null, logLink: null, imageUri: 'img' }),
    });

    // Act
    const r = await run(sm, releaseInput, results);

    // Assess
    expect(r.end).toBe('Succeeded');
    expect(r.visited.filter((s) => s === 'CheckBuild')).toHaveLength(3);
    expect(r.visited).toEqual(
      expect.arrayContaining([
        'DeployStaging',
        'EvaluateModel',
        'LoadTest',
        'RequestApproval',
        'DeployProduction',
        'PromoteVersion',
        'NotifySuccess',
      ]),
    );
    expect(r.recorded).toEqual([{ state: 'NotifySuccess', outcome: 'succeeded', workflow: 'release' }]);
    expect(r.output).toMatchObject({ RequestApprovalResult: { by: 'alice' }, PromoteVersionResult: { production: 'abcdef1-0a0b' } });
  });

  it.each(['FAILED', 'FAULT', 'STOPPED', 'TIMED_OUT'])('ends in BuildFailed when the build is %s', async (status) => {
    const r = await run(sm, releaseInput, happy({ CheckBuild: () => ({ status, failedPhase: 'BUILD', logLink: null, imageUri: null }) }));
    expect(r.end).toBe('BuildFailed');
    expect(r.recorded).toEqual([{ state: 'RecordBuildFailure', outcome: 'build-failed', workflow: 'release' }]);
    expect(r.visited).not.toContain('DeployStaging');
  });

  describe('with training.mode sagemaker', () => {
    // Every field TrainModel's Parameters read by path.
    const request = {
      TrainingJobName: 'mlship-delivery-time-abcdef1-0a0b',
      RoleArn: 'r',
      AlgorithmSpecification: { TrainingImage: 'img' },
      HyperParameters: {},
      InputDataConfig: [],
      OutputDataConfig: { S3OutputPath: 's3://b/training/' },
      ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 1 },
      StoppingCondition: { MaxRuntimeInSeconds: 60 },
      EnableManagedSpotTraining: false,
      CheckpointConfig: { S3Uri: 's3://b/c/' },
      Environment: {},
      Tags: [],
    };
    const sagemaker = (over: Results = {}) =>
      happy({
        PrepareTraining: () => ({ mode: 'sagemaker', request, timeoutSeconds: 7200 }),
        TrainModel: () => ({ TrainingJobName: request.TrainingJobName, TrainingJobStatus: 'Completed' }),
        RecordTraining: () => ({
          jobName: request.TrainingJobName,
          artifactUri: 's3://b/m.tar.gz',
          artifactDigest: 'sha256:0',
          billableSeconds: 5,
        }),
        ...over,
      });

    it('trains after the build and before staging, and records the job', async () => {
      const r = await run(sm, releaseInput, sagemaker());
      expect(r.end, `${r.failCause} ${r.visited.join('>')}`).toBe('Succeeded');
      const at = (s: string) => r.visited.indexOf(s);
      expect(at('CheckBuild')).toBeLessThan(at('TrainModel'));
      expect(at('TrainModel')).toBeLessThan(at('RecordTraining'));
      expect(at('RecordTraining')).toBeLessThan(at('DeployStaging'));
    });

    it('ends in TrainingFailed, recorded as training-failed, when the job fails, without deploying', async () => {
      const r = await run(
        sm,
        releaseInput,
        sagemaker({
          TrainModel: () => {
            throw named('States.TaskFailed', JSON.stringify({ TrainingJobName: request.TrainingJobName, TrainingJobStatus: 'Failed' }));
          },
        }),
      );
      expect(r.end).toBe('TrainingFailed');
      expect(r.recorded).toEqual([{ state: 'RecordTrainingFailure', outcome: 'training-failed', workflow: 'release' }]);
      expect(r.visited).not.toContain('RecordTraining');
      expect(r.visited).not.toContain('DeployStaging');
    });

    it('does not train in build mode', async () => {
      const r = await run(sm, releaseInput, happy());
      expect(r.visited).toContain('PrepareTraining');
      expect(r.visited).not.toContain('TrainModel');
    });
  });

  it('ends in ReleaseFailed on a build status it does not know instead of polling forever', async () => {
    const r = await run(
      sm,
      releaseInput,
      happy({ CheckBuild: () => ({ status: 'MYSTERY', failedPhase: null, logLink: null, imageUri: null }) }),
    );
    expect(r.end).toBe('ReleaseFailed');
  });

  it.each([
    ['Failed', 'StagingDeployFailed'],
    ['RolledBack', 'StagingDeployFailed'],
  ])('ends in %s -> %s when staging does not come into service', async (status, end) => {
    const r = await run(sm, releaseInput, happy({ CheckStaging: () => ({ status, failureReason: 'boom' }) }));
    expect(r.end).toBe(end);
    expect(r.recorded[0]!.outcome).toBe('failed');
    expect(r.visited).not.toContain('EvaluateModel');
  });

  it('ends in QualityGateFailed when the evaluation fails its gate', async () => {
    const r = await run(
      sm,
      releaseInput,
      happy({ EvaluateModel: () => ({ validationOk: false, metrics: {}, failures: ['rmse too high'], reportUri: 'x' }) }),
    );
    expect(r.end).toBe('QualityGateFailed');
    expect(r.recorded[0]).toMatchObject({ outcome: 'gate-failed' });
    expect(r.visited).not.toContain('LoadTest');
  });

  it('ends in LoadTestFailed when the load test fails its bounds', async () => {
    const r = await run(
      sm,
      releaseInput,
      happy({
        LoadTest: () => ({ ok: false, p50Ms: 1, p95Ms: 2, p99Ms: 900, errorRate: 0, achievedRps: 1, failures: ['p99'], reportUri: 'x' }),
      }),
    );
    expect(r.end).toBe('LoadTestFailed');
    expect(r.recorded[0]).toMatchObject({ outcome: 'load-test-failed' });
    expect(r.visited).not.toContain('RequestApproval');
  });

  it('ends in ApprovalRejected when the approver rejects', async () => {
    const r = await run(
      sm,
      releaseInput,
      happy({ RequestApproval: () => Promise.reject(named('ApprovalRejectedError', 'Rejected by bob')) }),
    );
    expect(r.end).toBe('ApprovalRejected');
    expect(r.recorded[0]).toMatchObject({ outcome: 'rejected' });
    expect(r.visited).not.toContain('DeployProduction');
  });

  it("ends in ApprovalTimedOut after the manifest's approval timeout", async () => {
    const r = await run(sm, releaseInput, happy({ RequestApproval: () => new Promise(() => undefined) }));
    expect(r.end).toBe('ApprovalTimedOut');
    expect(r.recorded[0]).toMatchObject({ outcome: 'approval-timed-out' });
  });

  it('hands RequestApproval its token and the timeout', async () => {
    let payload: Record<string, unknown> = {};
    await run(sm, releaseInput, happy({ RequestApproval: (p) => ((payload = p), { approved: true, by: 'a', at: 'now', comment: null }) }));
    expect(payload).toMatchObject({
      taskToken: 'token-1',
      timeoutSeconds: 1,
      model: 'delivery-time',
      version: 'abcdef1-0a0b',
      executionName: 'e1',
    });
  });

  it('ends in DeploymentRolledBack when production rolls back, without promoting', async () => {
    let polls = 0;
    const r = await run(
      sm,
      releaseInput,
      happy({ CheckProduction: () => ({ status: ++polls < 2 ? 'Updating' : 'RolledBack', failureReason: 'alarm' }) }),
    );
    expect(r.end).toBe('DeploymentRolledBack');
    expect(r.recorded[0]).toMatchObject({ state: 'RecordRollback', outcome: 'rolled-back' });
    expect(r.visited).not.toContain('PromoteVersion');
  });

  it('prunes superseded SageMaker models and configs after the promotion, and succeeds even when pruning fails', async () => {
    // Prepare
    let payload: Record<string, unknown> = {};
    const pruned = await run(
      sm,
      releaseInput,
      happy({ PruneVersions: (p) => ((payload = p), { deletedConfigs: ['c'], deletedModels: [], failures: [] }) }),
    );
    // Act
    const failing = await run(sm, releaseInput, happy({ PruneVersions: () => Promise.reject(named('AccessDeniedException')) }), [
      'PruneVersions',
    ]);
    // Assess
    expect(pruned.visited.slice(-6)).toEqual([
      'PromoteVersion',
      'DeleteStagingEndpoint',
      'RemoveShadowVariant',
      'RemoveAbVariant',
      'PruneVersions',
      'NotifySuccess',
    ]);
    expect(payload).toMatchObject({ model: 'delivery-time', version: 'abcdef1-0a0b', outcome: 'promoted' });
    expect(pruned.output).toMatchObject({ PruneVersionsResult: { deletedConfigs: ['c'] } });
    expect(failing.end).toBe('Succeeded');
    expect(failing.recorded).toEqual([{ state: 'NotifySuccess', outcome: 'succeeded', workflow: 'release' }]);
    expect(failing.output).toMatchObject({ pruneError: { Error: 'AccessDeniedException' } });
    expect(failing.output).not.toHaveProperty('error');
  });

  it('prunes the rolled-back version before recording the rollback, which a pruning failure does not change', async () => {
    const r = await run(
      sm,
      releaseInput,
      happy({
        CheckProduction: () => ({ status: 'RolledBack', failureReason: 'alarm' }),
        PruneRolledBackVersion: () => Promise.reject(named('AccessDeniedException')),
      }),
      ['PruneRolledBackVersion'],
    );
    expect(r.end).toBe('DeploymentRolledBack');
    expect(r.visited.slice(-5)).toEqual([
      'DeleteStagingEndpoint',
      'RemoveShadowVariant',
      'RemoveAbVariant',
      'PruneRolledBackVersion',
      'RecordRollback',
    ]);
    expect(r.failCause).toBe('cause of RecordRollback');
  });

  it('ends in ProductionDeployFailed when production fails', async () => {
    const r = await run(sm, releaseInput, happy({ CheckProduction: () => ({ status: 'Failed', failureReason: 'no capacity' }) }));
    expect(r.end).toBe('ProductionDeployFailed');
  });

  it('waits for the lease, polling, then builds once it holds the model', async () => {
    let polls = 0;
    const r = await run(
      sm,
      releaseInput,
      happy({
        AcquireLease: () =>
          ++polls < 3 ? { status: 'waiting', holder: 'h', detail: 'waiting for h' } : { status: 'acquired', holder: null, detail: 'took' },
      }),
    );
    expect(r.end).toBe('Succeeded');
    expect(r.visited.filter((s) => s === 'AcquireLease')).toHaveLength(3);
    expect(r.visited.indexOf('BuildImage')).toBeGreaterThan(r.visited.lastIndexOf('AcquireLease'));
  });

  it("takes a stopped release's shadow off production once the lease is held, and builds even when that fails", async () => {
    let payload: Record<string, unknown> = {};
    const cleared = await run(
      sm,
      releaseInput,
      happy({ ClearLeftoverExperiment: (p) => ((payload = p), { action: 'removed', detail: 'p goes back to c from x' }) }),
    );
    const failing = await run(sm, releaseInput, happy({ ClearLeftoverExperiment: () => Promise.reject(named('AccessDeniedException')) }));
    expect(cleared.visited.slice(1, 4)).toEqual(['AcquireLease', 'ClearLeftoverExperiment', 'BuildImage']);
    expect(payload).toMatchObject({ action: 'clear', model: 'delivery-time', version: 'abcdef1-0a0b' });
    expect(failing.end).toBe('Succeeded');
    expect(failing.output).toMatchObject({ ClearLeftoverExperimentResult: { Error: 'AccessDeniedException' } });
  });

  it('ends in ReleaseSuperseded, recorded, when a newer release holds the model, touching no endpoint', async () => {
    const r = await run(
      sm,
      releaseInput,
      happy({ AcquireLease: () => ({ status: 'superseded', holder: 'newer', detail: 'superseded by newer' }) }),
    );
    expect(r.end).toBe('ReleaseSuperseded');
    expect(r.visited).toEqual(['PrepareRelease', 'AcquireLease', 'DeleteStagingEndpoint', 'RecordSuperseded']);
    expect(r.recorded).toEqual([{ state: 'RecordSuperseded', outcome: 'superseded', workflow: 'release' }]);
  });

  it('ends in ReleaseSuperseded without deploying production when the lease was taken before the approval landed', async () => {
    const r = await run(
      sm,
      releaseInput,
      happy({ ClaimProduction: () => ({ status: 'superseded', holder: 'newer', detail: 'superseded by newer' }) }),
    );
    expect(r.end).toBe('ReleaseSuperseded');
    expect(r.visited).not.toContain('DeployProduction');
    expect(r.recorded[0]).toMatchObject({ state: 'RecordSuperseded', outcome: 'superseded' });
  });

  it('ends in ReleaseFailed, recorded, when waiting for the lease exceeds its bound', async () => {
    const r = await run(sm, releaseInput, happy({ AcquireLease: () => Promise.reject(named('LeaseWaitTimeoutError', 'waited too long')) }));
    expect(r.end).toBe('ReleaseFailed');
    expect(r.visited).not.toContain('BuildImage');
  });

  it('ends in ReleaseInvalid on a broken manifest', async () => {
    const r = await run(
      sm,
      releaseInput,
      happy({ PrepareRelease: () => Promise.reject(named('InvalidManifestError', 'models/x/model.yaml: task: ...')) }),
    );
    expect(r.end).toBe('ReleaseInvalid');
    expect(r.visited).toEqual(['PrepareRelease', 'RecordInvalidRelease']);
  });

  it.each<[string, Results, string, string]>([
    ['promoted', {}, 'NotifySuccess', 'Succeeded'],
    [
      'rejected',
      { RequestApproval: () => Promise.reject(named('ApprovalRejectedError', 'Rejected by bob')) },
      'RecordRejection',
      'ApprovalRejected',
    ],
    [
      'gate failed',
      { EvaluateModel: () => ({ validationOk: false, metrics: {}, failures: ['rmse'], reportUri: 'x' }) },
      'RecordQualityGateFailure',
      'QualityGateFailed',
    ],
    [
      'load test failed',
      { LoadTest: () => ({ ok: false, p50Ms: 1, p95Ms: 2, p99Ms: 900, errorRate: 0, achievedRps: 1, failures: ['p99'], reportUri: 'x' }) },
      'RecordLoadTestFailure',
      'LoadTestFailed',
    ],
    [
      'evaluation failed',
      { EvaluateModel: () => Promise.reject(named('ModelAnswerError', 'NaN')) },
      'RecordEvaluationFailure',
      'EvaluationFailed',
    ],
    [
      'rolled back',
      { CheckProduction: () => ({ status: 'RolledBack', failureReason: 'alarm' }) },
      'RecordRollback',
      'DeploymentRolledBack',
    ],
    [
      'build failed',
      { CheckBuild: () => ({ status: 'FAILED', failedPhase: 'BUILD', logLink: null, imageUri: null }) },
      'RecordBuildFailure',
      'BuildFailed',
    ],
    ['failed', { PromoteVersion: () => Promise.reject(named('ConcurrentUpdateError')) }, 'RecordReleaseFailure', 'ReleaseFailed'],
  ])(
    'deletes the staging endpoint when the release ends %s, before recording it, then ends as it was going to',
    async (_, over, record, end) => {
      // Prepare
      let seen: Record<string, unknown> = {};
      const results = happy({
        ...over,
        DeleteStagingEndpoint: (p) => ((seen = p), { endpointName: 's', action: 'deleted', detail: 'deleted s' }),
      });

      // Act
      const r = await run(sm, releaseInput, results);

      // Assess
      expect(r.end).toBe(end);
      expect(r.visited.filter((s) => s === 'DeleteStagingEndpoint')).toHaveLength(1);
      // A promotion and a rollback prune the versions no endpoint needs in between.
      const between = r.visited.slice(r.visited.indexOf('DeleteStagingEndpoint') + 1, r.visited.indexOf(record));
      // Every ending past the load test takes this release's shadow variant off production (there may be none).
      // Every ending after the approval also takes its A/B candidate variant off (there may be none).
      const shadow = [
        ...(r.visited.includes('LoadTest') ? ['RemoveShadowVariant'] : []),
        ...(r.visited.includes('ClaimProduction') ? ['RemoveAbVariant'] : []),
      ];
      expect(between).toEqual(
        record === 'NotifySuccess'
          ? [...shadow, 'PruneVersions']
          : record === 'RecordRollback'
            ? [...shadow, 'PruneRolledBackVersion']
            : shadow,
      );
      expect(seen).toMatchObject({
        executionId: 'arn:aws:states:us-east-1:000000000000:execution:release:e1',
        state: { model: 'delivery-time', PrepareReleaseResult: { version: 'abcdef1-0a0b' } },
      });
    },
  );

  it('ends as it was going to when deleting the staging endpoint fails, keeping the cause of the failure', async () => {
    // Prepare
    const results = happy({
      RequestApproval: () => Promise.reject(named('ApprovalRejectedError', 'Rejected by bob')),
      DeleteStagingEndpoint: () => Promise.reject(named('AccessDeniedException', 'no DeleteEndpoint')),
    });
    let state: Record<string, unknown> = {};
    results.RecordRejection = (p) => (
      (state = p.state as Record<string, unknown>),
      { outcome: 'rejected', notified: true, cause: 'rejected by bob' }
    );

    // Act
    const r = await run(sm, releaseInput, results);

    // Assess
    expect(r.end).toBe('ApprovalRejected');
    expect(state.error).toMatchObject({ Error: 'ApprovalRejectedError' });
    expect(state.DeleteStagingEndpointResult).toMatchObject({ Error: 'AccessDeniedException' });
  });

  it('retries a TransientError and carries on', async () => {
    let calls = 0;
    const r = await run(
      sm,
      releaseInput,
      happy({
        EvaluateModel: () =>
          ++calls < 3 ? Promise.reject(named('TransientError')) : { validationOk: true, metrics: {}, failures: [], reportUri: 'x' },
      }),
      ['EvaluateModel'],
    );
    expect(calls).toBe(3);
    expect(r.end).toBe('Succeeded');
  });

  it('waits out a busy production endpoint (EndpointBusyError) and carries on', async () => {
    let calls = 0;
    const deploy = () =>
      ++calls < 3 ? Promise.reject(named('EndpointBusyError')) : { endpointName: 'p', endpointConfigName: 'c2', action: 'updated' };
    const r = await run(sm, releaseInput, happy({ DeployProduction: deploy }), ['DeployProduction']);
    expect(calls).toBe(3);
    expect(r.end).toBe('Succeeded');
  });

  it('ends in ReleaseFailed on an unexpected error, recording it', async () => {
    const r = await run(sm, releaseInput, happy({ PromoteVersion: () => Promise.reject(named('ConcurrentUpdateError')) }));
    expect(r.end).toBe('ReleaseFailed');
    expect(r.recorded[0]).toMatchObject({ state: 'RecordReleaseFailure', outcome: 'failed' });
  });

  it('still ends in the outcome state when recording the outcome fails, with that failure as the cause', async () => {
    const results = happy({
      EvaluateModel: () => ({ validationOk: false, metrics: {}, failures: [], reportUri: 'x' }),
      RecordQualityGateFailure: () => Promise.reject(named('AccessDeniedException', 'no PutObject on registry/')),
    });
    const r = await run(sm, releaseInput, results);
    expect(r.visited).toContain('RecordQualityGateFailure');
    expect(r.end).toBe('QualityGateFailed');
    expect(r.failCause).toContain('no PutObject on registry/');
  });

  it('ends every failure with the cause RecordOutcome recorded', async () => {
    const r = await run(
      sm,
      releaseInput,
      happy({ CheckProduction: () => ({ status: 'RolledBack', failureReason: 'model server exited' }) }),
    );
    expect(r.end).toBe('DeploymentRolledBack');
    expect(r.failCause).toBe('cause of RecordRollback');
  });

  it.each([
    ['EvaluateModel', 'ModelAnswerError'],
    ['EvaluateModel', 'ModelInvocationError'],
    ['EvaluateModel', 'InvalidDataError'],
    ['LoadTest', 'InvalidDataError'],
  ])('ends in EvaluationFailed, recorded, when %s fails with %s', async (state, error) => {
    const r = await run(sm, releaseInput, happy({ [state]: () => Promise.reject(named(error, 'the model behind s answered NaN')) }));
    expect(r.end).toBe('EvaluationFailed');
    expect(r.recorded).toEqual([{ state: 'RecordEvaluationFailure', outcome: 'failed', workflow: 'release' }]);
    expect(r.failCause).toBe('cause of RecordEvaluationFailure');
    expect(r.visited).not.toContain('RequestApproval');
  });
});

describe('Workflow: drift-check paths', () => {
  const sm = machine('driftCheck');
  const check = (verdict: string, retrain: boolean) => () => ({
    verdict,
    retrain,
    reason: 'r',
    run: 'e1',
    reportUri: 'x',
    dataQuality: null,
    split: null,
  });
  const trigger = { TriggerRetraining: () => ({ started: true, executionArn: 'arn:x', skippedReason: null }) };

  it('triggers retraining on drift when retraining is wanted, then records', async () => {
    const r = await run(sm, { model: 'delivery-time' }, { CheckDrift: check('drift', true), ...trigger });
    expect(r.end).toBe('Succeeded');
    expect(r.visited).toEqual(['CheckDrift', 'TriggerRetraining', 'RecordDriftOutcome']);
    expect(r.recorded).toEqual([{ state: 'RecordDriftOutcome', outcome: 'checked', workflow: 'drift' }]);
  });

  it.each([
    ['drift', false],
    ['no-drift', false],
    ['insufficient-data', false],
    ['data-quality', false],
  ])('only records when the verdict is %s and retrain is %s', async (verdict, retrain) => {
    const r = await run(sm, { model: 'delivery-time' }, { CheckDrift: check(verdict, retrain), ...trigger });
    expect(r.visited).toEqual(['CheckDrift', 'RecordDriftOutcome']);
    expect(r.end).toBe('Succeeded');
  });

  it('maps pass 1 and then pass 2 over the batches of a split window, merging after each, then records the verdict', async () => {
    // Prepare: a window split into three batches whose merged pass 1 asks for pass 2
    const scanned: unknown[] = [];
    const merges: unknown[] = [];
    const split = (verdict: string, pass: number) => ({ ...check(verdict, false)(), reportUri: null, split: { pass, batches: [0, 1, 2] } });
    const results = {
      CheckDrift: () => split('split', 1),
      ScanCaptureBatch: (p: unknown) => (scanned.push((p as { input: unknown }).input), { batch: 0, pass: 1 }),
      MergeCaptureBatches: (p: unknown) => {
        merges.push((p as { input: unknown }).input);
        return merges.length === 1 ? split('refine', 2) : check('drift', true)();
      },
      ...trigger,
    };

    // Act
    const r = await run(sm, { model: 'delivery-time' }, results);

    // Assess
    expect(r.end).toBe('Succeeded');
    expect(r.visited.filter((s) => s === 'ScanCaptureBatch')).toHaveLength(6);
    expect(r.visited.filter((s) => s !== 'ScanCaptureBatch')).toEqual([
      'CheckDrift',
      'MergeCaptureBatches',
      'MergeCaptureBatches',
      'TriggerRetraining',
      'RecordDriftOutcome',
    ]);
    const byPass = (pass: number) =>
      scanned.filter((i) => (i as { pass: number }).pass === pass).map((i) => (i as { batch: number }).batch);
    expect(byPass(1).sort()).toEqual([0, 1, 2]);
    expect(byPass(2).sort()).toEqual([0, 1, 2]);
    expect(scanned[0]).toMatchObject({ model: 'delivery-time', phase: 'scan', run: 'e1' });
    expect(merges).toEqual([
      { model: 'delivery-time', phase: 'merge', pass: 1, run: 'e1' },
      { model: 'delivery-time', phase: 'merge', pass: 2, run: 'e1' },
    ]);
    expect((r.output as any).CheckDriftResult).toMatchObject({ verdict: 'drift', split: null });
  });

  it('ends in DriftCheckFailed, recorded, when a batch fails', async () => {
    const r = await run(
      sm,
      { model: 'delivery-time' },
      {
        CheckDrift: () => ({ ...check('split', false)(), split: { pass: 1, batches: [0, 1] } }),
        ScanCaptureBatch: () => Promise.reject(named('CorruptObjectError')),
        ...trigger,
      },
    );
    expect(r.end).toBe('DriftCheckFailed');
    expect(r.recorded).toEqual([{ state: 'RecordDriftFailure', outcome: 'failed', workflow: 'drift' }]);
  });

  it('ends in DriftCheckFailed, recorded, when the check fails', async () => {
    const r = await run(sm, { model: 'delivery-time' }, { CheckDrift: () => Promise.reject(named('SourceNotFoundError')), ...trigger });
    expect(r.end).toBe('DriftCheckFailed');
    expect(r.recorded).toEqual([{ state: 'RecordDriftFailure', outcome: 'failed', workflow: 'drift' }]);
    expect(r.failCause).toBe('cause of RecordDriftFailure');
  });
});

describe('Workflow: release paths through the shadow stage', () => {
  const sm = machine('release');
  const placement = { endpointName: 'p', productionConfigName: 'p-old', shadowConfigName: 'p-x', productionVariant: 'AllTraffic' };
  const started = () => ({ status: 'running', reason: 'shadowing 50 %', placement, startedAt: '2026-12-06T18:00:00.000Z', pollSeconds: 0 });
  const done = (verdict: string, proceed: boolean) => ({
    status: 'done',
    verdict,
    proceed,
    requests: 200,
    reason: `${verdict} because`,
    reportUri: 's3://b/shadow.json',
  });
  const collecting = { status: 'collecting', verdict: null, proceed: false, requests: 3, reason: '3 of 200', reportUri: null };

  it('skips the stage with its reason and goes on to the approval (a first release)', async () => {
    const r = await run(sm, releaseInput, happy());
    expect(r.end).toBe('Succeeded');
    expect(r.visited).not.toContain('CheckShadowTest');
    expect(r.visited.indexOf('StartShadowTest')).toBe(r.visited.indexOf('LoadTest') + 1);
    expect(r.visited.indexOf('RequestApproval')).toBe(r.visited.indexOf('StartShadowTest') + 1);
    expect(r.output).toMatchObject({ StartShadowTestResult: { status: 'skipped', reason: 'first release' } });
  });

  it('polls while the shadow collects requests, then a pass goes on to the approval and production', async () => {
    // Prepare
    let checks = 0;
    const seen: Record<string, unknown>[] = [];
    const results = happy({
      StartShadowTest: started,
      CheckShadowTest: (p) => (seen.push(p), ++checks < 3 ? collecting : done('pass', true)),
    });

    // Act
    const r = await run(sm, releaseInput, results);

    // Assess
    expect(r.end).toBe('Succeeded');
    expect(checks).toBe(3);
    expect(seen[0]).toMatchObject({ action: 'check', placement, startedAt: '2026-12-06T18:00:00.000Z', version: 'abcdef1-0a0b' });
    expect(r.visited.indexOf('RequestApproval')).toBeGreaterThan(r.visited.lastIndexOf('CheckShadowTest'));
    expect(r.output).toMatchObject({ CheckShadowTestResult: { verdict: 'pass' } });
  });

  it('ends in ShadowTestFailed, recorded as shadow-test-failed, when the candidate disagrees beyond the bounds', async () => {
    const r = await run(sm, releaseInput, happy({ StartShadowTest: started, CheckShadowTest: () => done('fail', false) }));
    expect(r.end).toBe('ShadowTestFailed');
    expect(r.recorded).toEqual([{ state: 'RecordShadowTestFailure', outcome: 'shadow-test-failed', workflow: 'release' }]);
    expect(r.visited).not.toContain('RequestApproval');
    expect(r.visited).toEqual(expect.arrayContaining(['DeleteStagingEndpoint', 'RemoveShadowVariant']));
  });

  it.each([
    [true, 'Succeeded'],
    [false, 'ShadowTestFailed'],
  ] as const)('with too little traffic (insufficient-data, proceed %s) ends in %s', async (proceed, end) => {
    const r = await run(sm, releaseInput, happy({ StartShadowTest: started, CheckShadowTest: () => done('insufficient-data', proceed) }));
    expect(r.end).toBe(end);
    expect(r.visited.includes('RequestApproval')).toBe(proceed);
  });

  it.each<[string, Results, string]>([
    ['an error while checking', { CheckShadowTest: () => Promise.reject(named('AccessDeniedException')) }, 'ReleaseFailed'],
    ['a rejection', { RequestApproval: () => Promise.reject(named('ApprovalRejectedError', 'no')) }, 'ApprovalRejected'],
    ['an approval timeout', { RequestApproval: () => Promise.reject(named('States.Timeout')) }, 'ApprovalTimedOut'],
  ])('takes the shadow variant off production after %s', async (_, over, end) => {
    // Prepare
    let removed: Record<string, unknown> | undefined;
    const results = happy({
      StartShadowTest: started,
      CheckShadowTest: () => done('pass', true),
      RemoveShadowVariant: (p) => ((removed = p), { action: 'removed', detail: 'p back on p-old' }),
      ...over,
    });

    // Act
    const r = await run(sm, releaseInput, results);

    // Assess
    expect(r.end).toBe(end);
    expect(removed).toMatchObject({ action: 'stop', model: 'delivery-time', version: 'abcdef1-0a0b' });
    expect(r.visited.indexOf('RemoveShadowVariant')).toBeLessThan(r.visited.length - 1);
  });

  it('still ends where it was going when removing the shadow variant fails', async () => {
    const results = happy({
      StartShadowTest: started,
      CheckShadowTest: () => done('fail', false),
      RemoveShadowVariant: () => Promise.reject(named('ValidationException')),
    });
    const r = await run(sm, releaseInput, results);
    expect(r.end).toBe('ShadowTestFailed');
  });
});

describe('Workflow: release A/B test after the approval', () => {
  const sm = machine('release');
  const placement = { endpointName: 'p', productionConfigName: 'p-old', abConfigName: 'p-a', productionVariant: 'AllTraffic' };
  const started = () => ({ status: 'running', reason: '10 %', placement, startedAt: '2026-12-06T18:00:00.000Z', pollSeconds: 0 });
  const collecting = {
    status: 'collecting',
    verdict: null,
    proceed: false,
    labelled: { production: 3, candidate: 1 },
    reason: '3 / 1 of 30',
    reportUri: null,
  };
  const done = (verdict: string, proceed: boolean) => ({
    status: 'done',
    verdict,
    proceed,
    labelled: { production: 30, candidate: 30 },
    reason: verdict,
    reportUri: 's3://b/ab.json',
  });

  it('skips the test with its reason and deploys production (no experiment.ab, a first release)', async () => {
    const r = await run(sm, releaseInput, happy());
    expect(r.end).toBe('Succeeded');
    expect(r.visited).not.toContain('CheckAbTest');
    expect(r.visited.indexOf('StartAbTest')).toBe(r.visited.indexOf('ClaimProduction') + 1);
    expect(r.visited.indexOf('DeployProduction')).toBe(r.visited.indexOf('StartAbTest') + 1);
  });

  it('polls until each arm has the planned n, then a pass deploys production', async () => {
    let checks = 0;
    const seen: Record<string, unknown>[] = [];
    const r = await run(
      sm,
      releaseInput,
      happy({ StartAbTest: started, CheckAbTest: (p) => (seen.push(p), ++checks < 3 ? collecting : done('pass', true)) }),
    );
    expect(r.end).toBe('Succeeded');
    expect(checks).toBe(3);
    expect(seen[0]).toMatchObject({ action: 'check', placement, startedAt: '2026-12-06T18:00:00.000Z' });
    expect(r.visited.indexOf('DeployProduction')).toBeGreaterThan(r.visited.lastIndexOf('CheckAbTest'));
  });

  it.each([
    ['fail', false, 'AbTestFailed'],
    ['insufficient-data', false, 'AbTestFailed'],
    ['insufficient-data', true, 'Succeeded'],
  ] as const)('a %s verdict with proceed %s ends in %s, the candidate variant removed on the way', async (verdict, proceed, end) => {
    let removed: Record<string, unknown> | undefined;
    const r = await run(
      sm,
      releaseInput,
      happy({
        StartAbTest: started,
        CheckAbTest: () => done(verdict, proceed),
        RemoveAbVariant: (p) => ((removed = p), { action: 'absent', detail: 'gone' }),
      }),
    );
    expect(r.end).toBe(end);
    expect(r.visited.includes('DeployProduction')).toBe(proceed);
    expect(removed).toMatchObject({ action: 'stop', version: 'abcdef1-0a0b' });
    if (!proceed) expect(r.recorded).toEqual([{ state: 'RecordAbTestFailure', outcome: 'ab-test-failed', workflow: 'release' }]);
  });

  it('takes the candidate variant off after an error while checking, and ends in ReleaseFailed', async () => {
    let removed = false;
    const r = await run(
      sm,
      releaseInput,
      happy({
        StartAbTest: started,
        CheckAbTest: () => Promise.reject(named('AccessDeniedException')),
        RemoveAbVariant: () => ((removed = true), { action: 'removed', detail: 'p back on p-old' }),
      }),
    );
    expect(r.end).toBe('ReleaseFailed');
    expect(removed).toBe(true);
  });
});
