import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  GetExecutionHistoryCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
} from '@aws-sdk/client-sfn';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConsoleData } from '../../lib/console/data';
import { ConsoleAuth, sessionCookieName } from '../../lib/console/security';
import { buildServer } from '../../lib/console/server';
import { BUCKET, EXEC_ARN, EXEC_NAME, FakeBucket, SM_ARN, fakeTarget, installSfn, seedPending, TASK_TOKEN, waitingHistory } from './fakes';

const ID = `delivery-time/${EXEC_NAME}`;
const APPROVAL_KEY = `approvals/${ID}.json`;

describe('Class: ConsoleServer', () => {
  let bucket: FakeBucket;
  let s3mock: ReturnType<FakeBucket['install']>;
  let sfnmock: ReturnType<typeof installSfn>;
  let app: FastifyInstance;
  let auth: ConsoleAuth;
  let host: string;
  let leaks: string[];

  beforeEach(async () => {
    // Prepare
    bucket = new FakeBucket();
    s3mock = bucket.install();
    sfnmock = installSfn();
    seedPending(bucket);
    bucket.put('registry/delivery-time/production.json', {
      model: 'delivery-time',
      version: 'fff0000-0000',
      since: '2026-11-20T00:00:00Z',
      executionArn: EXEC_ARN,
      endpointName: 'e',
      previous: null,
    });
    bucket.put('registry/delivery-time/versions/fff0000-0000.json', {
      model: 'delivery-time',
      version: 'fff0000-0000',
      status: 'production',
      commitId: 'fff0000',
      createdAt: '2026-11-20T00:00:00Z',
      deployments: [],
    });
    // The shape lambdas/check-drift writes: the data-drift report under `data`, concept drift under `concept`.
    bucket.put('monitoring/delivery-time/2026-11-27T00-00-00Z/drift-report.json', {
      model: 'delivery-time',
      version: 'fff0000-0000',
      run: '2026-11-27T00-00-00Z',
      generatedAt: '2026-11-27T00:00:00Z',
      verdict: 'drift',
      reason: 'data drift: 1 of 2 features drifted (distance_km); concept drift: rmse 2.1 > limit 1.43',
      concept: {
        verdict: 'drift',
        metric: 'rmse',
        value: 2.1,
        baseline: 1.3,
        limit: 1.43,
        direction: 'lower',
        joined: 380,
        unlabeled: 20,
        withoutInferenceId: 0,
        orphanLabels: 0,
        misaligned: 0,
        message: 'rmse 2.1 is worse than the limit 1.43',
      },
      data: {
        verdict: 'drift',
        datasetDrift: true,
        driftShare: 0.5,
        driftedColumns: ['distance_km'],
        driftedCritical: [],
        referenceRows: 1000,
        currentRows: 400,
        message: '1 of 2 features drifted',
        columns: [
          {
            column: 'distance_km',
            feature: 'distance_km',
            kind: 'numeric',
            method: 'ks',
            statistic: 0.31,
            pValue: 0.0001,
            score: 0.0001,
            threshold: 0.05,
            testDrifted: true,
            psi: 0.42,
            psiDrifted: true,
            drifted: true,
            critical: false,
            referenceCount: 1000,
            currentCount: 400,
            currentCompleteness: 1,
            referenceCompleteness: 1,
            distribution: { labels: ['a', 'b'], reference: [0.5, 0.5], current: [0.2, 0.8] },
          },
          {
            column: 'weekday',
            feature: 'weekday',
            kind: 'categorical',
            method: 'chisquare',
            statistic: 2.1,
            pValue: 0.7,
            score: 0.7,
            threshold: 0.05,
            testDrifted: false,
            psi: 0.01,
            psiDrifted: false,
            drifted: false,
            critical: false,
            referenceCount: 1000,
            currentCount: 400,
            currentCompleteness: 1,
            referenceCompleteness: 1,
            distribution: { labels: ['mon'], reference: [1], current: [1] },
          },
        ],
      },
    });
    bucket.put('monitoring/delivery-time/2026-11-27T00-00-00Z/constraint_violations.json', {
      violations: [
        { feature_name: 'distance_km', constraint_check_type: 'baseline_drift_check', description: 'KS p-value 0.0001 below 0.05' },
      ],
    });
    auth = new ConsoleAuth();
    leaks = [];
    app = buildServer({ data: new ConsoleData(fakeTarget()), auth, approver: 'alice', onLeak: (m) => leaks.push(m) });
    await app.listen({ host: '127.0.0.1', port: 0 });
    host = `127.0.0.1:${(app.server.address() as { port: number }).port}`;
  });

  afterEach(async () => {
    await app.close();
    s3mock.restore();
    sfnmock.restore();
  });

  /** Log in with the token; returns the session cookie header. */
  async function login(): Promise<string> {
    const res = await app.inject({ method: 'GET', url: `/?token=${encodeURIComponent(auth.token)}`, headers: { host } });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/');
    const set = String(res.headers['set-cookie']);
    expect(set).toMatch(/HttpOnly/i);
    expect(set).toMatch(/SameSite=Strict/i);
    return set.split(';')[0]!;
  }

  function req(cookie: string, o: InjectOptions) {
    return app.inject({ ...o, headers: { host, cookie, ...(o.headers ?? {}) } });
  }

  async function csrfOf(cookie: string): Promise<string> {
    const page = await req(cookie, { method: 'GET', url: `/approvals/${ID}` });
    const m = /name="csrf" value="([^"]+)"/.exec(page.body);
    expect(m).not.toBeNull();
    return m![1]!;
  }

  function post(cookie: string, form: Record<string, string>, headers: Record<string, string> = {}) {
    return req(cookie, {
      method: 'POST',
      url: `/approvals/${ID}/decision`,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: `http://${host}`,
        'sec-fetch-site': 'same-origin',
        ...headers,
      },
      payload: new URLSearchParams(form).toString(),
    });
  }

  describe('Method: authentication', () => {
    it.each([
      '/',
      '/approvals',
      `/approvals/${ID}`,
      `/releases?arn=${encodeURIComponent(EXEC_ARN)}`,
      '/models/delivery-time',
      '/notifications',
      '/api/approvals',
      `/api/approvals/${ID}`,
      '/api/models',
      `/api/watch?arn=${encodeURIComponent(EXEC_ARN)}`,
      '/artifacts/reports/delivery-time/abc1234-0001/validation.json',
    ])('answers 401 without the token: GET %s', async (url) => {
      // Act
      const res = await app.inject({ method: 'GET', url, headers: { host } });
      // Assess
      expect(res.statusCode).toBe(401);
      expect(res.body).not.toContain('delivery-time/abc');
    });

    it('answers 401 to a POST without the token', async () => {
      // Act
      const res = await app.inject({
        method: 'POST',
        url: `/api/approvals/${ID}/decision`,
        headers: { host, 'content-type': 'application/json' },
        payload: { decision: 'approve' },
      });
      // Assess
      expect(res.statusCode).toBe(401);
      expect(sfnmock).not.toHaveReceivedCommand(SendTaskSuccessCommand);
    });

    it('answers 401 to a wrong token and to a forged cookie', async () => {
      // Act
      const wrong = await app.inject({ method: 'GET', url: '/?token=not-the-token', headers: { host } });
      const forged = await app.inject({
        method: 'GET',
        url: '/',
        headers: { host, cookie: `${sessionCookieName(Number(host.split(':')[1]))}=abc.def` },
      });
      // Assess
      expect(wrong.statusCode).toBe(401);
      expect(forged.statusCode).toBe(401);
    });

    it('exchanges the token for a session cookie and serves pages with it', async () => {
      // Prepare
      const cookie = await login();
      // Act
      const res = await req(cookie, { method: 'GET', url: '/' });
      // Assess
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain('delivery-time');
      expect(res.body).toContain('fff0000-0000');
    });

    it('accepts the token as a bearer header for the API', async () => {
      // Act
      const res = await app.inject({
        method: 'GET',
        url: '/api/approvals?status=pending',
        headers: { host, authorization: `Bearer ${auth.token}` },
      });
      // Assess
      expect(res.statusCode).toBe(200);
      expect(res.json().approvals).toHaveLength(1);
    });

    it('refuses a foreign Host header (DNS rebinding)', async () => {
      // Act
      const res = await app.inject({ method: 'GET', url: `/?token=${auth.token}`, headers: { host: 'evil.example:80' } });
      // Assess
      expect(res.statusCode).toBe(421);
    });

    it('sends the security headers', async () => {
      // Prepare
      const cookie = await login();
      // Act
      const res = await req(cookie, { method: 'GET', url: `/approvals/${ID}` });
      // Assess
      const csp = String(res.headers['content-security-policy']);
      expect(csp).toContain("default-src 'self'");
      expect(csp).toMatch(/style-src 'nonce-[A-Za-z0-9+/=]+'/);
      expect(csp).toContain("frame-ancestors 'none'");
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      const nonce = /'nonce-([^']+)'/.exec(csp)![1]!;
      expect(res.body).toContain(`<style nonce="${nonce}">`);
      expect(res.body).not.toMatch(/ style="/);
    });
  });

  describe('Method: decide (form)', () => {
    it('approves with a valid CSRF token: SendTaskSuccess with the token, recorded with who and when', async () => {
      // Prepare
      const cookie = await login();
      const csrf = await csrfOf(cookie);
      // Act
      const res = await post(cookie, { csrf, decision: 'approve', comment: 'looks good' });
      // Assess
      expect(res.statusCode).toBe(303);
      expect(res.headers.location).toBe(`/approvals/${ID}?outcome=approved`);
      expect(sfnmock).toHaveReceivedCommandWith(SendTaskSuccessCommand, { taskToken: TASK_TOKEN });
      const record = bucket.json(APPROVAL_KEY)!;
      expect(record.status).toBe('approved');
      expect(record.decision).toMatchObject({ by: 'alice', comment: 'looks good' });
      expect(Date.parse(String((record.decision as { at: string }).at))).not.toBeNaN();
      const page = await req(cookie, { method: 'GET', url: res.headers.location as string });
      expect(page.body).toContain('Approved');
      expect(page.body).toContain('alice');
      expect(page.body).not.toContain('id="approve-form"');
    });

    it('refuses a POST without the CSRF token', async () => {
      // Prepare
      const cookie = await login();
      // Act
      const res = await post(cookie, { decision: 'approve' });
      // Assess
      expect(res.statusCode).toBe(403);
      expect(sfnmock).not.toHaveReceivedCommand(SendTaskSuccessCommand);
      expect(bucket.json(APPROVAL_KEY)!.status).toBe('pending');
    });

    it('refuses a CSRF token of another session', async () => {
      // Prepare
      const cookie = await login();
      const other = await login();
      const csrf = await csrfOf(other);
      // Act
      const res = await post(cookie, { csrf, decision: 'approve' });
      // Assess
      expect(res.statusCode).toBe(403);
      expect(sfnmock).not.toHaveReceivedCommand(SendTaskSuccessCommand);
    });

    it.each([[{ origin: 'http://evil.example' }], [{ 'sec-fetch-site': 'cross-site' }], [{ origin: 'null' }]])(
      'refuses a cross-site POST even with a valid CSRF token: %j',
      async (headers) => {
        // Prepare
        const cookie = await login();
        const csrf = await csrfOf(cookie);
        // Act
        const res = await post(cookie, { csrf, decision: 'approve' }, headers);
        // Assess
        expect(res.statusCode).toBe(403);
        expect(sfnmock).not.toHaveReceivedCommand(SendTaskSuccessCommand);
      },
    );

    it('refuses a rejection without a comment and leaves the request pending', async () => {
      // Prepare
      const cookie = await login();
      const csrf = await csrfOf(cookie);
      // Act
      const res = await post(cookie, { csrf, decision: 'reject', comment: '   ' });
      // Assess
      expect(res.headers.location).toBe(`/approvals/${ID}?outcome=comment-required`);
      expect(sfnmock).not.toHaveReceivedCommand(SendTaskFailureCommand);
      expect(bucket.json(APPROVAL_KEY)!.status).toBe('pending');
      const page = await req(cookie, { method: 'GET', url: res.headers.location as string });
      expect(page.body).toContain('A rejection needs a comment');
    });

    it('rejects with a comment: SendTaskFailure ApprovalRejectedError, comment recorded', async () => {
      // Prepare
      const cookie = await login();
      const csrf = await csrfOf(cookie);
      // Act
      const res = await post(cookie, { csrf, decision: 'reject', comment: 'p99 too close to the bound' });
      // Assess
      expect(res.headers.location).toBe(`/approvals/${ID}?outcome=rejected`);
      expect(sfnmock).toHaveReceivedCommandWith(SendTaskFailureCommand, { taskToken: TASK_TOKEN, error: 'ApprovalRejectedError' });
      expect(bucket.json(APPROVAL_KEY)).toMatchObject({
        status: 'rejected',
        decision: { by: 'alice', comment: 'p99 too close to the bound' },
      });
    });

    it('refuses to decide a decided request again, and shows it', async () => {
      // Prepare
      const cookie = await login();
      const csrf = await csrfOf(cookie);
      await post(cookie, { csrf, decision: 'approve' });
      sfnmock.resetHistory();
      // Act
      const again = await post(cookie, { csrf, decision: 'reject', comment: 'changed my mind' });
      // Assess
      expect(again.headers.location).toBe(`/approvals/${ID}?outcome=refused`);
      expect(sfnmock).not.toHaveReceivedCommand(SendTaskFailureCommand);
      expect(sfnmock).not.toHaveReceivedCommand(SendTaskSuccessCommand);
      expect(bucket.json(APPROVAL_KEY)!.status).toBe('approved');
      const page = await req(cookie, { method: 'GET', url: again.headers.location as string });
      expect(page.body).toContain('cannot be decided again');
    });

    it('refuses to decide an expired request', async () => {
      // Prepare
      seedPending(bucket, { expiresAt: new Date(Date.now() - 1000).toISOString() });
      const cookie = await login();
      const page = await req(cookie, { method: 'GET', url: `/approvals/${ID}` });
      expect(page.body).toContain('expired');
      expect(page.body).not.toContain('id="approve-form"');
      // Act: post with the CSRF token of this session anyway
      const res = await post(cookie, { csrf: auth.csrfFor(auth.verifySession(cookie.split('=')[1])!), decision: 'approve' });
      // Assess
      expect(res.headers.location).toBe(`/approvals/${ID}?outcome=refused`);
      expect(sfnmock).not.toHaveReceivedCommand(SendTaskSuccessCommand);
    });

    it("refuses the change's author (separation of duties) and says why", async () => {
      // Prepare: alice, the console's approver, authored the commit
      seedPending(bucket, { author: { name: 'Alice', email: 'alice@example.com' } });
      const cookie = await login();
      // Act
      const res = await post(cookie, { csrf: auth.csrfFor(auth.verifySession(cookie.split('=')[1])!), decision: 'approve' });
      const page = await req(cookie, { method: 'GET', url: res.headers.location as string });
      // Assess
      expect(res.headers.location).toBe(`/approvals/${ID}?outcome=own-change`);
      expect(page.body).toContain('you authored this change');
      expect(sfnmock).not.toHaveReceivedCommand(SendTaskSuccessCommand);
      expect(bucket.json(`approvals/${ID}.json`)).toMatchObject({ status: 'pending' });
    });
  });

  describe('Method: decide (JSON API)', () => {
    it('needs the CSRF header with a cookie session; the same decision again is answered with the recorded one, another with 409', async () => {
      // Prepare
      const cookie = await login();
      const csrf = await csrfOf(cookie);
      const call = (headers: Record<string, string>, payload: unknown) =>
        req(cookie, {
          method: 'POST',
          url: `/api/approvals/${ID}/decision`,
          headers: { 'content-type': 'application/json', ...headers },
          payload: payload as Record<string, unknown>,
        });
      // Act
      const noCsrf = await call({}, { decision: 'approve' });
      const ok = await call({ 'x-csrf-token': csrf }, { decision: 'approve' });
      const again = await call({ 'x-csrf-token': csrf }, { decision: 'approve' });
      const otherwise = await call({ 'x-csrf-token': csrf }, { decision: 'reject', comment: 'changed my mind' });
      // Assess
      expect(noCsrf.statusCode).toBe(403);
      expect(ok.statusCode).toBe(200);
      expect(ok.json().approval.status).toBe('approved');
      expect(again.statusCode).toBe(200);
      expect(again.json()).toMatchObject({ ok: true, repeated: true, approval: { status: 'approved', decision: { by: 'alice' } } });
      expect(otherwise.statusCode).toBe(409);
      expect(sfnmock).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
    });

    it('answers 400 to a rejection without comment and 404 to an unknown id', async () => {
      // Act
      const headers = { host, authorization: `Bearer ${auth.token}`, 'content-type': 'application/json' };
      const noComment = await app.inject({
        method: 'POST',
        url: `/api/approvals/${ID}/decision`,
        headers,
        payload: { decision: 'reject' },
      });
      const unknown = await app.inject({
        method: 'POST',
        url: '/api/approvals/delivery-time/nope/decision',
        headers,
        payload: { decision: 'approve' },
      });
      // Assess
      expect(noComment.statusCode).toBe(400);
      expect(unknown.statusCode).toBe(404);
      expect(sfnmock).not.toHaveReceivedCommand(SendTaskFailureCommand);
    });
  });

  describe('Method: task token confidentiality', () => {
    it('never shows the raw task token on any page or API answer', async () => {
      // Prepare
      const cookie = await login();
      const urls = [
        '/',
        '/approvals',
        `/approvals/${ID}`,
        '/releases',
        `/releases?arn=${encodeURIComponent(EXEC_ARN)}`,
        '/models/delivery-time',
        '/models/delivery-time/drift/2026-11-27T00-00-00Z',
        '/notifications',
        '/api/approvals',
        `/api/approvals/${ID}`,
        '/api/models',
        '/api/notifications',
        `/artifacts/approvals/${ID}.json`,
      ];
      // Act
      const bodies = await Promise.all(urls.map((url) => req(cookie, { method: 'GET', url })));
      // Assess
      for (const [i, res] of bodies.entries()) {
        expect(res.statusCode, urls[i]).toBeLessThan(500);
        expect(res.body, urls[i]).not.toContain(TASK_TOKEN);
        expect(res.body, urls[i]).not.toContain(encodeURIComponent(TASK_TOKEN));
        expect(res.body, urls[i]).not.toContain('SECRET');
      }
      // The release page shows the RequestApproval state, but its input is redacted, not dropped.
      const release = bodies[4]!.body;
      expect(release).toContain('RequestApproval');
      expect(release).toContain('waiting for approval');
      // The redaction happened where the data was read, not only in the last-resort scrub.
      expect(leaks).toEqual([]);
    });

    it('does not serve approval records through the artifact route', async () => {
      // Prepare
      const cookie = await login();
      // Act
      const res = await req(cookie, { method: 'GET', url: `/artifacts/approvals/${ID}.json` });
      // Assess
      expect(res.statusCode).toBe(404);
    });
  });

  describe('Method: approver policy', () => {
    it('works with only what the approver policy allows: approvals/ and reports/ in S3, no state machine definition', async () => {
      // Prepare: registry/ and monitoring/ are out of reach, and so is DescribeStateMachine
      bucket.denied = ['registry/', 'monitoring/'];
      sfnmock
        .on(DescribeStateMachineCommand)
        .rejects(Object.assign(new Error('not authorized to perform: states:DescribeStateMachine'), { name: 'AccessDeniedException' }));
      const cookie = await login();
      // Act
      const models = await req(cookie, { method: 'GET', url: '/' });
      const approval = await req(cookie, { method: 'GET', url: `/approvals/${ID}` });
      const release = await req(cookie, { method: 'GET', url: `/releases?arn=${encodeURIComponent(EXEC_ARN)}` });
      const csrf = /name="csrf" value="([^"]+)"/.exec(approval.body)![1]!;
      const decided = await post(cookie, { csrf, decision: 'approve' });
      // Assess
      expect(models.statusCode).toBe(200);
      expect(models.body).toContain('delivery-time');
      expect(models.body).toContain('cannot list s3://mlship-artifacts/registry/');
      expect(approval.statusCode).toBe(200);
      expect(approval.body).toContain('data-metric="rmse"');
      expect(release.statusCode).toBe(200);
      expect(release.body).toContain('Only the states this release entered are shown');
      expect(release.body).toMatch(/data-state="RequestApproval" data-status="waiting"/);
      expect(decided.headers.location).toBe(`/approvals/${ID}?outcome=approved`);
      expect(sfnmock).toHaveReceivedCommandWith(SendTaskSuccessCommand, { taskToken: TASK_TOKEN });
    });
  });

  describe('Method: pages', () => {
    it('shows the quality figures of validation.json and embeds the report in a sandboxed frame', async () => {
      // Prepare
      const cookie = await login();
      // Act
      const res = await req(cookie, { method: 'GET', url: `/approvals/${ID}` });
      const report = await req(cookie, { method: 'GET', url: '/artifacts/reports/delivery-time/abc1234-0001/quality-report.html' });
      // Assess
      expect(res.body).toMatch(/data-metric="rmse" data-kind="no-regression">[\s\S]*?data-field="value">1\.2345</);
      expect(res.body).toMatch(/data-field="bound">1\.35</);
      expect(res.body).toContain('data-field="dummy">4.5<');
      expect(res.body).toContain('<iframe class="report" sandbox');
      expect(String(report.headers['content-security-policy'])).toContain('sandbox');
      expect(String(report.headers['content-security-policy'])).toContain("default-src 'none'");
    });

    it('shows the release state graph with the current state highlighted', async () => {
      // Prepare
      const cookie = await login();
      // Act
      const res = await req(cookie, { method: 'GET', url: `/releases?arn=${encodeURIComponent(EXEC_ARN)}` });
      // Assess
      expect(res.statusCode).toBe(200);
      expect(res.body).toMatch(/<li class="waiting current" data-state="RequestApproval" data-status="waiting">/);
      expect(res.body).toMatch(/data-state="PrepareRelease" data-status="succeeded"/);
      expect(res.body).toMatch(/data-state="PromoteVersion" data-status="not-reached"/);
      expect(res.body).toContain(`/approvals/${ID}`);
    });

    it("links a failed gate's reports and shows the recorded cause on the release, model and notifications pages", async () => {
      // Prepare: the release stopped at the quality gate; its version record says why
      const cause = 'EvaluateModel: quality gate failed: rmse = 4.2 is above the bound of 3';
      sfnmock.on(DescribeExecutionCommand).resolves({
        executionArn: EXEC_ARN,
        stateMachineArn: SM_ARN,
        name: EXEC_NAME,
        status: 'FAILED',
        startDate: new Date(),
        stopDate: new Date(),
        input: JSON.stringify({ model: 'delivery-time', commitId: 'abc1234', trigger: 'push' }),
        error: 'QualityGateFailed',
        cause,
      });
      bucket.put('registry/delivery-time/versions/abc1234-0001.json', {
        model: 'delivery-time',
        version: 'abc1234-0001',
        status: 'gate-failed',
        commitId: 'abc1234',
        createdAt: '2026-11-27T01:00:00Z',
        evaluation: {
          validationOk: false,
          metrics: { rmse: 4.2 },
          failures: ['rmse'],
          reportUri: `s3://${BUCKET}/reports/delivery-time/abc1234-0001/quality-report.json`,
          htmlUri: `s3://${BUCKET}/reports/delivery-time/abc1234-0001/quality-report.html`,
          validationUri: `s3://${BUCKET}/reports/delivery-time/abc1234-0001/validation.json`,
        },
        outcome: { state: 'gate-failed', at: '2026-11-27T01:00:10Z', error: null, cause },
        deployments: [],
      });
      const cookie = await login();
      // Act
      const release = await req(cookie, { method: 'GET', url: `/releases?arn=${encodeURIComponent(EXEC_ARN)}` });
      const model = await req(cookie, { method: 'GET', url: '/models/delivery-time' });
      const feed = await req(cookie, { method: 'GET', url: '/notifications' });
      // Assess
      expect(release.body).toContain(`id="failure-cause"><code>QualityGateFailed</code> ${cause}<`);
      expect(release.body).toMatch(
        /id="reports"><a href="\/artifacts\/reports\/delivery-time\/abc1234-0001\/quality-report\.html">quality report<\/a>/,
      );
      expect(release.body).toContain('<a href="/artifacts/reports/delivery-time/abc1234-0001/validation.json">validation.json</a>');
      expect(feed.body).toContain(`delivery-time: release ${EXEC_NAME} failed — ${cause}`);
      expect(model.body).toMatch(
        /data-version="abc1234-0001"[\s\S]*?data-field="cause">EvaluateModel: quality gate failed[\s\S]*?<a href="\/artifacts\/reports\/delivery-time\/abc1234-0001\/quality-report\.html" data-report="quality">quality report<\/a> <span class="badge bad">failed</,
      );
    });

    it('gives the polling script a fingerprint that changes when the release moves', async () => {
      // Prepare
      const cookie = await login();
      const url = `/api/watch?arn=${encodeURIComponent(EXEC_ARN)}&approval=${encodeURIComponent(ID)}`;
      const before = (await req(cookie, { method: 'GET', url })).json().fingerprint;
      // Act
      bucket.put(`approvals/${ID}.json`, { ...bucket.json(`approvals/${ID}.json`), status: 'approved' });
      const after = (await req(cookie, { method: 'GET', url })).json().fingerprint;
      // Assess
      expect(before).not.toBe(after);
    });

    it('shows a drift run and the drift status on the models page', async () => {
      // Prepare
      const cookie = await login();
      // Act
      const run = await req(cookie, { method: 'GET', url: '/models/delivery-time/drift/2026-11-27T00-00-00Z' });
      const models = await req(cookie, { method: 'GET', url: '/' });
      const history = await req(cookie, { method: 'GET', url: '/models/delivery-time' });
      // Assess
      expect(run.statusCode).toBe(200);
      expect(run.body).toContain('1 of 2 features drifted');
      expect(run.body).toContain('baseline_drift_check');
      expect(run.body).toContain('<dt>Drift share</dt><dd>0.5</dd>');
      expect(run.body).toContain('reference 1000, current 400');
      expect(run.body).toMatch(
        /<tr><td>distance_km<\/td><td>ks<\/td><td class="num">0\.0001<\/td><td class="num">0\.05<\/td><td class="num">0\.42<\/td>\s*<td><span class="badge bad">drift</,
      );
      expect(run.body).toMatch(/<tr><td>weekday<\/td><td>chisquare<\/td>[\s\S]*?badge ok">ok</);
      expect(run.body).toMatch(
        /id="concept-drift"[\s\S]*?data-field="metric">rmse<[\s\S]*?data-field="value">2\.1<[\s\S]*?data-field="baseline">1\.3<[\s\S]*?data-field="joined">380/,
      );
      expect(models.body).toMatch(/data-model="delivery-time"[\s\S]*?badge bad">drift</);
      expect(history.body).toContain('id="production-version">fff0000-0000<');
      expect(history.body).toContain('2026-11-27T00-00-00Z');
    });

    it('lists pull-request checks beside the releases, with the cause and the report, and serves the report', async () => {
      // Prepare: what lib/check writes
      bucket.put('checks/delivery-time/20261206T180000Z-abcdef123456.json', {
        model: 'delivery-time',
        checkId: '20261206T180000Z-abcdef123456',
        commit: 'abcdef1234567890',
        ref: 'feature-islands',
        dirty: false,
        status: 'failed',
        failures: ['MAE +18 % on origin_region=islands, n=240 (5.3 vs production 4.5)'],
        notes: [],
        htmlUri: 's3://mlship-artifacts/checks/delivery-time/20261206T180000Z-abcdef123456/quality-report.html',
        startedAt: '2026-12-06T18:00:00Z',
        finishedAt: '2026-12-06T18:03:00Z',
      });
      bucket.put('checks/delivery-time/20261206T180000Z-abcdef123456/quality-report.html', '<html>check report</html>');
      const cookie = await login();

      // Act
      const page = await req(cookie, { method: 'GET', url: '/models/delivery-time' });
      const report = await req(cookie, {
        method: 'GET',
        url: '/artifacts/checks/delivery-time/20261206T180000Z-abcdef123456/quality-report.html',
      });

      // Assess
      expect(page.body).toMatch(/<h2>Releases<\/h2>[\s\S]*<h2>Pull-request checks<\/h2>/);
      expect(page.body).toMatch(
        /id="checks"[\s\S]*feature-islands[\s\S]*badge bad">failed<[\s\S]*MAE \+18 % on origin_region=islands, n=240/,
      );
      expect(page.body).toContain('href="/artifacts/checks/delivery-time/20261206T180000Z-abcdef123456/quality-report.html"');
      expect(report.statusCode).toBe(200);
      expect(report.body).toContain('check report');
    });

    it("shows a drift run's data-quality verdict and skipped counts", async () => {
      // Prepare: the drift-report.json CheckDrift writes for a window with a 100 % null feature and a torn line
      const cookie = await login();
      bucket.put('monitoring/delivery-time/dq1/drift-report.json', {
        model: 'delivery-time',
        run: 'dq1',
        verdict: 'data-quality',
        reason: 'data-quality alert: distance_km: 100.0% missing against 0.0% in the baseline',
        dataQuality: {
          verdict: 'data-quality',
          message:
            'data-quality alert: distance_km: 100.0% missing against 0.0% in the baseline (1 of 81 capture lines skipped, 0 value(s) skipped)',
          capture: { total: 81, skipped: 1, share: 1 / 81 },
          features: [{ feature: 'distance_km', rows: 80, skipped: 0, missingShare: 1, referenceMissingShare: 0, alert: true }],
          alerts: ['distance_km: 100.0% missing against 0.0% in the baseline'],
        },
      });
      // Act
      const run = await req(cookie, { method: 'GET', url: '/models/delivery-time/drift/dq1' });
      // Assess
      expect(run.statusCode).toBe(200);
      expect(run.body).toMatch(/id="data-quality"[\s\S]*?badge bad">data-quality</);
      expect(run.body).toContain('data-field="skippedLines">1 of 81 (1.2%)');
      expect(run.body).toMatch(/data-feature="distance_km">0 value\(s\) skipped, 100.0% missing \(baseline 0.0%\)[\s\S]*?alert/);
    });

    it("serves a local build's log found in the execution history, and nothing else from disk", async () => {
      // Prepare: the history's PrepareRelease output carries a local CodeBuild log link
      const dir = mkdtempSync(join(tmpdir(), 'mlship-console-'));
      const logPath = join(dir, 'codebuild', 'logs', 'mlship-delivery-time', '0f1e2d3c-aaaa-bbbb-cccc-111122223333.log');
      mkdirSync(dirname(logPath), { recursive: true });
      writeFileSync(logPath, '[Container] Phase complete: BUILD State: SUCCEEDED\n');
      const events = waitingHistory();
      events[2]!.stateExitedEventDetails!.output = JSON.stringify({ CheckBuildResult: { logLink: pathToFileURL(logPath).href } });
      sfnmock.on(GetExecutionHistoryCommand).resolves({ events });
      const cookie = await login();
      try {
        // Act
        const page = await req(cookie, { method: 'GET', url: `/releases?arn=${encodeURIComponent(EXEC_ARN)}` });
        const href = /<a href="([^"]+)" rel="noreferrer">build log<\/a>/.exec(page.body)?.[1]?.replace(/&amp;/g, '&');
        const log = await req(cookie, { method: 'GET', url: href! });
        const other = await req(cookie, { method: 'GET', url: `/releases/log?arn=${encodeURIComponent(EXEC_ARN)}&state=EvaluateModel` });
        // Assess
        expect(href).toBe(`/releases/log?arn=${encodeURIComponent(EXEC_ARN)}&state=PrepareRelease`);
        expect(log.statusCode).toBe(200);
        expect(log.body).toContain('Phase complete: BUILD State: SUCCEEDED');
        expect(String(log.headers['content-type'])).toContain('text/plain');
        expect(other.statusCode).toBe(404);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('answers 404 to an approval id that is not one', async () => {
      // Prepare
      const cookie = await login();
      // Act
      const res = await req(cookie, { method: 'GET', url: '/approvals/..%2F..%2Fsecret/x' });
      // Assess
      expect(res.statusCode).toBe(404);
      expect(BUCKET).toBe('mlship-artifacts');
    });
  });
});
