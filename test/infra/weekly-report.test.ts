import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { SCHEDULED_FUNCTIONS } from '../../lib/tasks';
import { nagFindings, synthesize, type Synthesized } from './helpers';

/**
 * The weekly report on AWS: a scheduled Lambda function (EventBridge rule, Mondays 08:00 UTC)
 * that reads the registry, the drift reports and the data capture, writes reports/weekly/,
 * and publishes to the notification topic — and may do nothing else.
 */
let s: Synthesized;
type Statement = { Action: string | string[]; Resource: unknown };

beforeAll(() => {
  s = synthesize();
}, 120_000);

function weeklyFunctionLogicalId(): string {
  const fns = s.platformTemplate.findResources('AWS::Lambda::Function', {
    Properties: { Description: SCHEDULED_FUNCTIONS.WeeklyReport.description },
  });
  expect(Object.keys(fns)).toHaveLength(1);
  return Object.keys(fns)[0]!;
}

function statementsOfWeeklyRole(): Statement[] {
  const fnId = weeklyFunctionLogicalId();
  const role = (s.platformTemplate.toJSON().Resources[fnId].Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  const policies = s.platformTemplate.findResources('AWS::IAM::Policy', {
    Properties: { Roles: Match.arrayWith([{ Ref: role }]) },
  });
  return Object.values(policies).flatMap(
    (p) => (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument.Statement,
  );
}

const actionsOf = (st: Statement[]) => st.flatMap((x) => (Array.isArray(x.Action) ? x.Action : [x.Action]));
const resourcesOf = (st: Statement[], action: string) =>
  JSON.stringify(st.filter((x) => (Array.isArray(x.Action) ? x.Action : [x.Action]).includes(action)).map((x) => x.Resource));

describe('Construct: ScheduledFunctions (weekly report)', () => {
  it('runs the weekly report function from an EventBridge rule on its schedule', () => {
    // Assess
    const fnId = weeklyFunctionLogicalId();
    s.platformTemplate.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: SCHEDULED_FUNCTIONS.WeeklyReport.schedule,
      State: 'ENABLED',
      Targets: Match.arrayWith([Match.objectLike({ Arn: { 'Fn::GetAtt': [fnId, 'Arn'] } })]),
    });
    s.platformTemplate.hasResourceProperties('AWS::Lambda::Permission', {
      FunctionName: { 'Fn::GetAtt': [fnId, 'Arn'] },
      Principal: 'events.amazonaws.com',
    });
  });

  it('grants least privilege: reads registry, monitoring and capture, writes only reports/weekly/, publishes to the topic', () => {
    // Assess
    const st = statementsOfWeeklyRole();
    const actions = actionsOf(st);
    expect(actions.filter((a) => a.includes('*'))).toEqual([]);
    expect(new Set(actions)).toEqual(
      new Set([
        's3:GetObject',
        's3:PutObject',
        's3:ListBucket',
        'kms:Decrypt',
        'kms:GenerateDataKey',
        'sns:Publish',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'xray:PutTraceSegments',
        'xray:PutTelemetryRecords',
      ]),
    );
    const puts = resourcesOf(st, 's3:PutObject');
    expect(puts).toContain('/reports/weekly/*');
    expect(puts).not.toMatch(/\/(registry|monitoring|capture|approvals)\//);
    const gets = resourcesOf(st, 's3:GetObject');
    for (const prefix of ['registry/', 'monitoring/', 'capture/']) expect(gets).toContain(`/${prefix}*`);
    expect(gets).not.toContain('approval-tokens/');
  });

  it('leaves no unacknowledged cdk-nag finding', () => {
    expect(nagFindings(s.app).map((f) => f.ruleName)).toEqual([]);
  });
});
