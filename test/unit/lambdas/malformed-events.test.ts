import './task-env';
import { describe, expect, it } from 'vitest';
import { TASKS, TASK_NAMES, type TaskName } from '../../../lib/tasks';
import { releaseEvent } from './fixtures';

/**
 * Every task refuses an event that breaks its contract before any I/O, with an
 * InvalidEventError that names the offending field (the state machine routes it to a
 * recorded failure instead of retrying it).
 */
const BROKEN: Record<TaskName, [event: unknown, field: string]> = {
  PrepareRelease: [
    { input: { model: 'delivery-time', commitId: 'abcdef1', trigger: 'push' }, executionId: 'x', executionName: 'e1' },
    'input.sourceUri',
  ],
  ModelLease: [{ ...releaseEvent(), action: 'take', commitId: 'abcdef1', trigger: 'push' }, 'action'],
  StartBuild: [{ ...releaseEvent(), projectName: 7 }, 'projectName'],
  CheckBuild: [{ ...releaseEvent(), buildId: '' }, 'buildId'],
  PrepareTraining: [{ ...releaseEvent(), version: 'latest' }, 'version'],
  RecordTraining: [{ ...releaseEvent(), job: { TrainingJobName: 'mlship-x-1', TrainingJobStatus: 'Failed' } }, 'job.TrainingJobStatus'],
  DeployEndpoint: [{ ...releaseEvent(), stage: 'staging', endpointName: 'has spaces' }, 'endpointName'],
  CheckEndpoint: [{ ...releaseEvent('v1'), stage: 'staging', endpointName: 'e' }, 'version'],
  EvaluateModel: [{ ...releaseEvent(), model: 'Delivery Time', endpointName: 'e' }, 'model'],
  LoadTest: [{ ...releaseEvent(), executionName: 'a:b', endpointName: 'e' }, 'executionName'],
  ShadowTest: [
    { ...releaseEvent(), action: 'check', placement: { endpointName: 'e' }, startedAt: 'now' },
    'placement.productionConfigName',
  ],
  AbTest: [
    { ...releaseEvent(), action: 'check', placement: { endpointName: 'e', productionConfigName: 'p' }, startedAt: 'now' },
    'placement.abConfigName',
  ],
  RequestApproval: [
    { ...releaseEvent(), taskToken: 't', timeoutSeconds: 0, evaluation: { validationOk: true, metrics: {} }, loadTest: { ok: true } },
    'timeoutSeconds',
  ],
  DecideApproval: [
    { requestContext: { http: { method: 'POST' }, authorizer: { iam: {} } }, body: '{}' },
    'requestContext.authorizer.iam.userArn',
  ],
  PromoteVersion: [{ ...releaseEvent() }, 'endpointName'],
  DeleteStagingEndpoint: [
    { state: { model: 'delivery-time', PrepareReleaseResult: { version: 5 } }, executionId: 'x', executionName: 'e1' },
    'state.PrepareReleaseResult.version',
  ],
  PruneVersions: [{ ...releaseEvent(), outcome: 'failed' }, 'outcome'],
  RecordOutcome: [{ workflow: 'drift', outcome: 'succeeded', state: {}, executionId: 'x', executionName: 'e1' }, 'outcome'],
  CheckDrift: [{ input: { model: 'delivery-time', window: -5 }, executionId: 'x', executionName: 'e1' }, 'input.window'],
  TriggerRetraining: [{ model: 'delivery-time', reason: 'r', executionId: 'x', executionName: 'e1' }, 'run'],
};

describe('Handlers: malformed events', () => {
  it.each(TASK_NAMES)('%s refuses a malformed event, naming the field', async (task) => {
    // Prepare
    const { handler } = (await import(`../../../${TASKS[task].entry}`)) as { handler: (e: unknown) => Promise<unknown> };
    const [event, field] = BROKEN[task];

    // Act: DecideApproval answers its function URL with a 400 instead of throwing
    const asError = (out: unknown) => {
      const r = out as { statusCode?: number; body?: string } | undefined;
      if (r?.statusCode === undefined) return undefined;
      const body = JSON.parse(r.body ?? '{}') as { error: string; message: string };
      return Object.assign(new Error(body.message), { name: body.error });
    };
    const error = (await handler(event).then(asError, (e: unknown) => e)) as Error;

    // Assess
    expect(error?.name).toBe('InvalidEventError');
    expect(error.message).toContain(`${task}: invalid event: `);
    expect(error.message).toContain(`${field}: `);
    expect(
      (await handler(null).then(
        (out) => asError(out)?.name,
        (e: Error) => e.name,
      )) as string,
    ).toBe('InvalidEventError');
  });
});
