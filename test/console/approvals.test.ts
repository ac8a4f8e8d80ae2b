import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { decide, type ApprovalDeps } from '../../lib/console/approvals';
import type { DecisionResponse } from '../../lib/console/decision-client';

const ID = 'delivery-time/release-1';
/** Deps whose decision function answers `response`; nothing else is reached by decide(). */
const answering = (response: DecisionResponse): ApprovalDeps => ({
  s3: new S3Client({ region: 'us-east-1' }),
  sfn: new SFNClient({ region: 'us-east-1' }),
  bucket: 'mlship-artifacts',
  decider: async () => response,
});

describe('Function: decide', () => {
  it('reports the author deciding as own-change by its error class, whatever the message says', async () => {
    // Act
    const outcome = await decide(
      answering({ status: 403, ok: false, error: 'SeparationOfDutiesError', message: 'Dana may not approve her own commit' }),
      {
        id: ID,
        decision: 'approve',
        by: 'dana',
      },
    );

    // Assess
    expect(outcome).toEqual({ ok: false, kind: 'refused', reason: 'own-change', message: 'Dana may not approve her own commit' });
  });

  it('reports an expired or already decided request as decided', async () => {
    for (const error of ['ApprovalExpiredError', 'ApprovalAlreadyDecidedError']) {
      const outcome = await decide(answering({ status: 409, ok: false, error, message: 'no' }), { id: ID, decision: 'approve', by: 'x' });
      expect(outcome).toMatchObject({ ok: false, kind: 'refused', reason: 'decided' });
    }
  });

  it('refuses a rejection without a comment before asking the decision function', async () => {
    const outcome = await decide(answering({ status: 500, ok: false }), { id: ID, decision: 'reject', by: 'x', comment: '  ' });
    expect(outcome).toMatchObject({ ok: false, kind: 'invalid', reason: 'comment-required' });
  });

  it('returns the recorded approval typed, and none when the answer is not a record', async () => {
    // Prepare
    const record = {
      id: ID,
      model: 'delivery-time',
      version: 'v1',
      executionArn: 'arn:aws:states:us-east-1:000000000000:execution:mlship-release:release-1',
      requestedAt: '2026-11-27T00:00:00.000Z',
      expiresAt: '2026-11-28T00:00:00.000Z',
      reportLinks: { html: 'h', json: 'j', validation: 'v', loadTest: 'l' },
      summary: { metrics: { rmse: 1 }, validationOk: true, loadTestOk: true },
      status: 'approved',
      decision: { by: 'x', at: '2026-11-27T01:00:00.000Z', comment: null, delivered: true, deliveringSince: null },
    };

    // Act
    const typed = await decide(answering({ status: 200, ok: true, approval: record }), { id: ID, decision: 'approve', by: 'x' });
    const odd = await decide(answering({ status: 200, ok: true, approval: { model: 'delivery-time' } }), {
      id: ID,
      decision: 'approve',
      by: 'x',
    });

    // Assess
    expect(typed).toMatchObject({
      ok: true,
      repeated: false,
      approval: { id: ID, status: 'approved', author: null, decision: { by: 'x' } },
    });
    expect(odd).toEqual({ ok: true, repeated: false, approval: undefined });
  });
});
