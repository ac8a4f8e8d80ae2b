import './task-env';
import { S3Client } from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { makeHandler } from '../../../lambdas/weekly-report/handler';
import type { WeeklyReport } from '../../../lambdas/weekly-report/report';
import { fakeS3, type FakeBucket } from './fake-s3';

/**
 * The weekly report from a seeded history: two models, releases inside and outside the week,
 * a production version, drift runs and captured traffic. Its numbers are checked one by one.
 */
const NOW = new Date('2026-12-07T08:00:00.000Z');
const daysAgo = (d: number) => new Date(NOW.getTime() - d * 86_400_000).toISOString();

function version(model: string, v: string, createdDaysAgo: number, outcome: string | null, trigger = 'push', cause?: string) {
  return {
    model,
    version: v,
    status: outcome === 'succeeded' ? 'production' : (outcome ?? 'awaiting-approval'),
    createdAt: daysAgo(createdDaysAgo),
    updatedAt: daysAgo(createdDaysAgo),
    commitId: `${v}0000`,
    trigger,
    manifest: { name: model, task: 'regression' },
    deployments: [],
    outcome: outcome ? { state: outcome, at: daysAgo(createdDaysAgo - 0.1), error: null, ...(cause ? { cause } : {}) } : null,
  };
}

function captureKey(model: string, at: string, file: string): string {
  const [y, m, d] = at.slice(0, 10).split('-');
  return `capture/${model}/mlship-${model}-production/AllTraffic/${y}/${m}/${d}/${at.slice(11, 13)}/${file}.jsonl`;
}

function seed(b: FakeBucket): void {
  b.put('registry/delivery-time/versions/v1.json', version('delivery-time', 'v1', 10, 'succeeded'));
  b.put('registry/delivery-time/versions/v2.json', version('delivery-time', 'v2', 3, 'succeeded', 'drift'));
  b.put(
    'registry/delivery-time/versions/v3.json',
    version('delivery-time', 'v3', 2, 'gate-failed', 'push', 'rmse 5.1 is above the bound 4'),
  );
  b.put('registry/delivery-time/versions/v4.json', version('delivery-time', 'v4', 1, 'rejected', 'push', 'Rejected by dana: wait'));
  b.put('registry/delivery-time/production.json', { model: 'delivery-time', version: 'v2', since: daysAgo(2.5) });
  b.put('monitoring/delivery-time/r-old/drift-report.json', {
    generatedAt: daysAgo(8),
    verdict: 'no-drift',
    data: { verdict: 'no-drift', driftShare: 0.1 },
  });
  b.put('monitoring/delivery-time/r-new/drift-report.json', {
    generatedAt: daysAgo(4),
    verdict: 'drift',
    data: { verdict: 'drift', driftShare: 0.6 },
    concept: { verdict: 'drift', metric: 'mae', value: 30.5, baseline: 4.5, limit: 5.9 },
  });
  b.put('monitoring/delivery-time/latest.json', { run: 'r-new' });
  const lines = (n: number) =>
    `${Array.from({ length: n }, (_, i) => JSON.stringify({ eventMetadata: { eventId: String(i) } })).join('\n')}\n`;
  b.put(captureKey('delivery-time', daysAgo(6), 'a'), lines(10));
  b.put(captureKey('delivery-time', daysAgo(2), 'b'), lines(20));
  b.put(captureKey('delivery-time', daysAgo(0.5), 'c'), lines(5));
  b.put(captureKey('delivery-time', daysAgo(9), 'old'), lines(7));
  b.put('registry/ticket-triage/versions/t1.json', version('ticket-triage', 't1', 1, null));
}

describe('Function: weekly report', () => {
  const sns = mockClient(SNSClient);
  let bucket: FakeBucket;

  beforeEach(() => {
    sns.reset();
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
    bucket = fakeS3();
    seed(bucket);
  });

  it('counts each model’s releases of the week by outcome, its production version and age, drift verdicts and traffic', async () => {
    // Prepare
    const handler = makeHandler({
      s3: new S3Client({}),
      sns: new SNSClient({}),
      bucket: 'mlship-artifacts',
      topicArn: 'arn:aws:sns:us-east-1:000000000000:mlship-notifications',
      deployment: 'local cloud',
      now: () => NOW,
    });

    // Act
    const result = await handler({});

    // Assess
    const report = bucket.json<WeeklyReport>(result.key);
    expect(result.key).toBe('reports/weekly/2026-12-07.json');
    expect(report.from).toBe(daysAgo(7));
    expect(report.to).toBe(NOW.toISOString());
    const dt = report.models.find((m) => m.model === 'delivery-time')!;
    expect(dt.releases.total).toBe(3);
    expect(dt.releases.byOutcome).toEqual({ succeeded: 1, 'gate-failed': 1, rejected: 1 });
    expect(dt.releases.items.map((r) => r.version)).toEqual(['v2', 'v3', 'v4']);
    expect(dt.releases.items.find((r) => r.version === 'v3')!.cause).toBe('rmse 5.1 is above the bound 4');
    expect(dt.production).toEqual({ version: 'v2', since: daysAgo(2.5), ageDays: 2.5 });
    expect(dt.drift.runs).toBe(1);
    expect(dt.drift.drifted).toBe(1);
    expect(dt.drift.latest).toMatchObject({
      run: 'r-new',
      verdict: 'drift',
      driftShare: 0.6,
      concept: { verdict: 'drift', metric: 'mae', value: 30.5 },
    });
    expect(dt.traffic.requests).toBe(35);
    const tt = report.models.find((m) => m.model === 'ticket-triage')!;
    expect(tt.releases).toMatchObject({ total: 1, byOutcome: { running: 1 } });
    expect(tt.production).toBeNull();
    expect(tt.drift.runs).toBe(0);
    expect(tt.traffic.requests).toBe(0);
    expect(report.totals).toEqual({ models: 2, releases: 4, succeeded: 1, failed: 2, requests: 35 });

    // The same numbers go out through SNS.
    const message = String(sns.commandCalls(PublishCommand)[0]!.args[0].input.Message);
    expect(sns.commandCalls(PublishCommand)[0]!.args[0].input.TopicArn).toBe('arn:aws:sns:us-east-1:000000000000:mlship-notifications');
    expect(message).toContain('delivery-time: 3 releases (1 succeeded, 1 gate-failed, 1 rejected)');
    expect(message).toContain('production v2, 2.5 days old');
    expect(message).toContain('drift: 1 check, 1 drifted; latest drift (share 60%), concept drift (mae 30.5)');
    expect(message).toContain('traffic: 35 requests');
  });

  it('reports the rest of the week when one record is corrupt, and names it', async () => {
    // Prepare
    bucket.put('registry/delivery-time/versions/v5.json', '{"version": "v5", "createdAt": ');
    bucket.put('monitoring/delivery-time/r-bad/drift-report.json', { generatedAt: daysAgo(1), verdict: 7 });
    const handler = makeHandler({
      s3: new S3Client({}),
      sns: new SNSClient({}),
      bucket: 'mlship-artifacts',
      topicArn: 'arn:aws:sns:us-east-1:000000000000:mlship-notifications',
      deployment: 'local cloud',
      now: () => NOW,
    });

    // Act
    const result = await handler({});

    // Assess
    const report = bucket.json<WeeklyReport>(result.key);
    expect(report.totals.releases).toBe(4);
    expect(report.models.find((m) => m.model === 'delivery-time')!.drift.runs).toBe(1);
    expect(report.notes).toEqual([
      // Sorted, so the report reads the same whatever order the reads finished in.
      expect.stringContaining('s3://mlship-artifacts/monitoring/delivery-time/r-bad/drift-report.json: verdict'),
      expect.stringContaining('s3://mlship-artifacts/registry/delivery-time/versions/v5.json: not valid JSON'),
    ]);
    expect(String(sns.commandCalls(PublishCommand)[0]!.args[0].input.Message)).toContain(
      'left out: s3://mlship-artifacts/registry/delivery-time/versions/v5.json',
    );
  });
});
