import { DescribeExecutionCommand, ListExecutionsCommand, ListStateMachinesCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { formatTable, listExecutionRows } from '../../../lib/cli/commands/status';

describe('Command: mlship status', () => {
  const sfn = mockClient(SFNClient);
  afterEach(() => sfn.reset());

  it("shows the cause a failed release's Fail state recorded, under its row", async () => {
    // Prepare: one failed release whose Fail state carries the recorded cause
    const cause = 'ModelAnswerError: the model behind mlship-tiny-staging answered predictions that are NaN or Infinity, which JSON cannot carry: {"predictions": [{"value": NaN}]}; model log: /d/sagemaker/logs/mlship-tiny-staging/';
    const arn = 'arn:aws:states:us-east-1:000000000000:execution:mlship-release:tiny-abc12345';
    sfn.on(ListStateMachinesCommand).resolves({ stateMachines: [{ stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:mlship-release', name: 'mlship-release', type: 'STANDARD', creationDate: new Date() }] });
    sfn.on(ListExecutionsCommand).resolves({ executions: [{ executionArn: arn, stateMachineArn: 'sm', name: 'tiny-abc12345', status: 'FAILED', startDate: new Date('2026-12-06T10:00:00Z'), stopDate: new Date('2026-12-06T10:01:05Z') }] });
    sfn.on(DescribeExecutionCommand).resolves({ executionArn: arn, stateMachineArn: 'sm', status: 'FAILED', startDate: new Date(), error: 'EvaluationFailed', cause });

    // Act
    const rows = await listExecutionRows(new SFNClient({ region: 'us-east-1' }), 20);
    const table = formatTable(rows);

    // Assess
    expect(rows[0]).toMatchObject({ status: 'FAILED', state: 'EvaluationFailed', cause });
    expect(table.split('\n')).toEqual([
      expect.stringMatching(/^EXECUTION\s+WORKFLOW\s+STATUS\s+STATE\s+ELAPSED\s+STARTED$/),
      expect.stringMatching(/^tiny-abc12345\s+release\s+FAILED\s+EvaluationFailed\s+1m05s\s+2026-12-06 10:00:00$/),
      `  cause: ${cause}`,
      '',
    ]);
  });
});
