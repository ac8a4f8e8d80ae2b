import { readFileSync } from 'node:fs';
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { buildReleaseGraph, DefinitionParseError, mainPath, parseDefinition } from '../../lib/console/release-graph';

// The real release workflow: the graph must follow whatever the ASL file says.
const RELEASE = readFileSync(new URL('../../statemachines/release.asl.json', import.meta.url), 'utf8');

let id = 0;
const at = (s: number) => new Date(Date.UTC(2026, 10, 27, 1, 0, s));
const enter = (name: string, s: number, input = '{}'): HistoryEvent => ({
  id: ++id,
  type: 'TaskStateEntered',
  timestamp: at(s),
  stateEnteredEventDetails: { name, input },
});
const exit = (name: string, s: number, output = '{}'): HistoryEvent => ({
  id: ++id,
  type: 'TaskStateExited',
  timestamp: at(s),
  stateExitedEventDetails: { name, output },
});

describe('Class: ReleaseGraph', () => {
  describe('Method: mainPath', () => {
    it('follows the happy path of release.asl.json from StartAt to the Succeed state', () => {
      // Act
      const path = mainPath(parseDefinition(RELEASE));
      // Assess
      expect(path[0]).toBe('PrepareRelease');
      expect(path.at(-1)).toBe('ReleaseSucceeded');
      expect(path).toEqual(
        expect.arrayContaining([
          'BuildImage',
          'CheckBuild',
          'EvaluateModel',
          'LoadTest',
          'RequestApproval',
          'DeployProduction',
          'PromoteVersion',
        ]),
      );
      expect(path.indexOf('RequestApproval')).toBeLessThan(path.indexOf('DeployProduction'));
      expect(path).not.toContain('ApprovalRejected');
      expect(path).not.toContain('RecordReleaseFailure');
    });
  });

  describe('Method: buildReleaseGraph', () => {
    it('marks a release waiting for approval, with visits, timings and the build log of CheckBuild only', () => {
      // Prepare
      const withLog = JSON.stringify({
        CheckBuildResult: { status: 'SUCCEEDED', logLink: 'https://console.aws.amazon.com/codesuite/codebuild/build/1' },
      });
      const events = [
        enter('PrepareRelease', 0),
        exit('PrepareRelease', 1),
        enter('CheckBuild', 2),
        exit('CheckBuild', 3, JSON.stringify({ CheckBuildResult: { status: 'IN_PROGRESS', logLink: null } })),
        enter('CheckBuild', 5),
        exit('CheckBuild', 8, withLog),
        enter('EvaluateModel', 9, withLog),
        exit('EvaluateModel', 12, withLog),
        enter('RequestApproval', 13, withLog),
      ];
      // Act
      const g = buildReleaseGraph(RELEASE, events, 'RUNNING');
      const byName = Object.fromEntries(g.states.map((s) => [s.name, s]));
      // Assess
      expect(g.currentState).toBe('RequestApproval');
      expect(byName.RequestApproval).toMatchObject({ status: 'waiting', current: true });
      expect(byName.CheckBuild!.visits).toHaveLength(2);
      expect(byName.CheckBuild!.durationMs).toBe(4000);
      expect(byName.CheckBuild!.logLink).toBe('https://console.aws.amazon.com/codesuite/codebuild/build/1');
      expect(byName.EvaluateModel!.logLink).toBeUndefined();
      expect(byName.DeployProduction!.status).toBe('not-reached');
      expect(byName.ApprovalRejected!.onMainPath).toBe(false);
    });

    it('marks a rejected release: the approval task caught, the Fail state failed and current', () => {
      // Prepare
      const events: HistoryEvent[] = [
        enter('RequestApproval', 0),
        {
          id: ++id,
          type: 'TaskFailed',
          timestamp: at(5),
          taskFailedEventDetails: {
            resourceType: 'lambda',
            resource: 'invoke.waitForTaskToken',
            error: 'ApprovalRejectedError',
            cause: 'Rejected by bob: too slow',
          },
        },
        exit('RequestApproval', 5),
        enter('RecordRejection', 6),
        exit('RecordRejection', 7),
        { id: ++id, type: 'FailStateEntered', timestamp: at(8), stateEnteredEventDetails: { name: 'ApprovalRejected', input: '{}' } },
        { id: ++id, type: 'ExecutionFailed', timestamp: at(8), executionFailedEventDetails: { error: 'ApprovalRejected' } },
      ];
      // Act
      const g = buildReleaseGraph(RELEASE, events, 'FAILED');
      const byName = Object.fromEntries(g.states.map((s) => [s.name, s]));
      // Assess
      expect(byName.RequestApproval!.status).toBe('caught');
      expect(byName.RequestApproval!.visits[0]!.error).toEqual({ error: 'ApprovalRejectedError', cause: 'Rejected by bob: too slow' });
      expect(byName.ApprovalRejected).toMatchObject({ status: 'failed', current: true });
      expect(g.currentState).toBe('ApprovalRejected');
    });

    it('names the problem when the definition is not ASL', () => {
      // Act + Assess
      expect(() => buildReleaseGraph('{"StartAt": "A"}', [], 'RUNNING')).toThrow(DefinitionParseError);
      expect(() => buildReleaseGraph('not json', [], 'RUNNING')).toThrow(/not valid ASL JSON/);
    });
  });
});
