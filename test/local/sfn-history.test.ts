import { describe, expect, it } from 'vitest';
import { toAwsEvent, type HistoryEvent } from '../../lib/local/services/sfn/history';

const context = { model: 'm', build: { image: 'sha256:1', notes: 'a "quoted"\nline' }, skipped: undefined, list: [1, null, { x: 2 }] };
const events: HistoryEvent[] = [
  {
    id: 1,
    previousEventId: 0,
    timestamp: 10,
    type: 'ExecutionStarted',
    executionStartedEventDetails: { input: '{"model":"m"}', inputDetails: { truncated: false }, roleArn: 'arn:r' },
  },
  {
    id: 2,
    previousEventId: 1,
    timestamp: 11,
    type: 'TaskStateExited',
    stateExitedEventDetails: { name: 'Build', output: { $json: context }, outputDetails: { truncated: false } },
  },
  {
    id: 3,
    previousEventId: 2,
    timestamp: 12,
    type: 'ChoiceStateEntered',
    stateEnteredEventDetails: { name: 'Ok?', input: { $sameAs: 2 }, inputDetails: { truncated: false } },
  },
  {
    id: 4,
    previousEventId: 3,
    timestamp: 13,
    type: 'TaskFailed',
    taskFailedEventDetails: { resourceType: 'lambda', resource: 'invoke', error: 'E', cause: 'why "not"' },
  },
  { id: 5, previousEventId: 4, timestamp: 14, type: 'PassStateExited', stateExitedEventDetails: { name: 'P', output: { $json: 'text' } } },
];

describe('Function: toAwsEvent', () => {
  it('turns recorded values, and inputs recorded as an earlier output, into the JSON text Step Functions returns; text fields stay', () => {
    // Act
    const aws: HistoryEvent[] = [];
    for (const e of events)
      aws.push(
        toAwsEvent(
          JSON.parse(JSON.stringify(e)) as HistoryEvent,
          (id) => (aws[id - 1]!.stateExitedEventDetails as { output: string }).output,
        ),
      );

    // Assess
    expect(aws[0]).toEqual(events[0]);
    expect(aws[1]!.stateExitedEventDetails).toEqual({
      name: 'Build',
      output: JSON.stringify(context),
      outputDetails: { truncated: false },
    });
    expect(JSON.parse((aws[2]!.stateEnteredEventDetails as { input: string }).input)).toEqual({
      model: 'm',
      build: context.build,
      list: context.list,
    });
    expect((aws[4]!.stateExitedEventDetails as { output: string }).output).toBe('"text"');
  });
});
