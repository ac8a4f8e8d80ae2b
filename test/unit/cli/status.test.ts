import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { formatTable, listExecutionRows } from '../../../lib/cli/commands/status';

const RELEASE = 'arn:aws:states:us-east-1:000000000000:stateMachine:mlship-release';
const EXEC = 'arn:aws:states:us-east-1:000000000000:execution:mlship-release:delivery-time-abc1234';
const BUILD = 'mlship-build-delivery-time:0b0e2a6c-5d5e-4a8e-9d7e-2f1b8c3d4e5f';

describe('Function: listExecutionRows', () => {
  const sfn = mockClient(SFNClient);
  afterEach(() => sfn.reset());

  it("shows a release's build id, the one `mlship logs <build>` takes", async () => {
    // Prepare: a release that failed after BuildImage recorded its build
    sfn
      .on(ListStateMachinesCommand)
      .resolves({ stateMachines: [{ name: 'mlship-release', stateMachineArn: RELEASE, type: 'STANDARD', creationDate: new Date() }] });
    sfn.on(ListExecutionsCommand).resolves({
      executions: [
        {
          name: 'delivery-time-abc1234',
          executionArn: EXEC,
          stateMachineArn: RELEASE,
          status: 'FAILED',
          startDate: new Date('2026-12-06T10:00:00Z'),
          stopDate: new Date('2026-12-06T10:01:00Z'),
        },
      ],
    });
    sfn.on(DescribeExecutionCommand).resolves({ error: 'BuildFailed' });
    sfn.on(GetExecutionHistoryCommand).resolves({
      events: [
        { id: 1, type: 'ExecutionStarted', timestamp: new Date() },
        {
          id: 5,
          type: 'TaskStateExited',
          timestamp: new Date(),
          stateExitedEventDetails: {
            name: 'BuildImage',
            output: JSON.stringify({ model: 'delivery-time', BuildImageResult: { buildId: BUILD } }),
          },
        },
      ],
    });
    const client = new SFNClient({ region: 'us-east-1' });

    // Act
    const rows = await listExecutionRows(client, 20);
    const table = formatTable(rows);

    // Assess
    expect(rows[0]).toMatchObject({ name: 'delivery-time-abc1234', status: 'FAILED', state: 'BuildFailed', buildId: BUILD });
    expect(table.split('\n')[0]).toMatch(/\bBUILD\b/);
    expect(table).toContain(BUILD);
  });

  it("shows the cause a failed release's Fail state recorded, under its row", async () => {
    // Prepare: one failed release whose Fail state carries the recorded cause
    const cause =
      'ModelAnswerError: the model behind mlship-tiny-staging answered predictions that are NaN or Infinity, which JSON cannot carry: {"predictions": [{"value": NaN}]}; model log: /d/sagemaker/logs/mlship-tiny-staging/';
    const arn = 'arn:aws:states:us-east-1:000000000000:execution:mlship-release:tiny-abc12345';
    sfn.on(ListStateMachinesCommand).resolves({
      stateMachines: [
        {
          stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:mlship-release',
          name: 'mlship-release',
          type: 'STANDARD',
          creationDate: new Date(),
        },
      ],
    });
    sfn.on(ListExecutionsCommand).resolves({
      executions: [
        {
          executionArn: arn,
          stateMachineArn: 'sm',
          name: 'tiny-abc12345',
          status: 'FAILED',
          startDate: new Date('2026-12-06T10:00:00Z'),
          stopDate: new Date('2026-12-06T10:01:05Z'),
        },
      ],
    });
    sfn
      .on(DescribeExecutionCommand)
      .resolves({ executionArn: arn, stateMachineArn: 'sm', status: 'FAILED', startDate: new Date(), error: 'EvaluationFailed', cause });
    sfn.on(GetExecutionHistoryCommand).resolves({ events: [] });

    // Act
    const rows = await listExecutionRows(new SFNClient({ region: 'us-east-1' }), 20);
    const table = formatTable(rows);

    // Assess
    expect(rows[0]).toMatchObject({ status: 'FAILED', state: 'EvaluationFailed', cause });
    expect(table.split('\n')).toEqual([
      expect.stringMatching(/^EXECUTION\s+WORKFLOW\s+STATUS\s+STATE\s+ELAPSED\s+STARTED\s+BUILD$/),
      expect.stringMatching(/^tiny-abc12345\s+release\s+FAILED\s+EvaluationFailed\s+1m05s\s+2026-12-06 10:00:00\s+-$/),
      `  cause: ${cause}`,
      '',
    ]);
  });
});
