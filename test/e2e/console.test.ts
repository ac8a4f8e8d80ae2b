/**
 * The approval console in a real browser (Debian's chromium via playwright-core) against the
 * local cloud: the real release state machine and the real RequestApproval task (so the
 * approval record, its task token and the waiting execution are real), with the other tasks
 * replaced by stand-ins that write the registry record and the reports (see harness.ts).
 * The fully real release (build, endpoints, evaluation, load test) is in release.test.ts.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConsole, type RunningConsole } from '../../lib/console';
import { listApprovals } from '../../lambdas/shared/approvals';
import { getJson } from '../../lambdas/shared/s3json';
import type { Validation } from '../../lambdas/ml/types';
import { eventually, startTestCloud, type TestCloud } from '../local/helpers';
import { BUCKET, chromiumMissing, launchBrowser, stubbedTasks } from './harness';

const MODEL = 'fixture-model';
const SCREENSHOTS = process.env.MLSHIP_SCREENSHOTS ? join(process.cwd(), 'docs', 'screenshots') : undefined;

async function executionStatus(sfn: SFNClient, executionArn: string): Promise<string | undefined> {
  return (await sfn.send(new DescribeExecutionCommand({ executionArn }))).status;
}

describe.skipIf(chromiumMissing)('Class: approval console (browser, local cloud)', () => {
  let tc: TestCloud;
  let consoleApp: RunningConsole;
  let browser: Browser;
  let context: BrowserContext;

  /** Start a release and wait until it waits for approval; returns the approval id. */
  async function releaseUntilApproval(commitId: string): Promise<{ id: string; executionArn: string; version: string }> {
    const { executionArn } = await tc.cloud.startWorkflow('release', `${MODEL}-${commitId.slice(0, 8)}`, {
      model: MODEL,
      commitId,
      sourceUri: `s3://${BUCKET}/source/${MODEL}/${commitId}.zip`,
      trigger: 'push',
    });
    const record = await eventually(async () => {
      const pending = await listApprovals({ s3: tc.s3, bucket: BUCKET }, { status: 'pending' });
      const found = pending.find((a) => a.executionArn === executionArn);
      if (!found && (await executionStatus(tc.sfn, executionArn)) !== 'RUNNING')
        throw new Error(`release ${executionArn} ended before it asked for approval`);
      return found;
    }, 100);
    return { id: record.id, executionArn, version: record.version };
  }

  async function login(): Promise<Page> {
    const page = await context.newPage();
    const res = await page.goto(consoleApp.url);
    expect(res?.status()).toBe(200);
    expect(page.url()).not.toContain('token=');
    return page;
  }

  beforeAll(async () => {
    tc = await startTestCloud({ timeScale: 0.01, functions: stubbedTasks(() => tc.s3) });
    consoleApp = await startConsole({ target: { endpoint: tc.cloud.endpoint }, approver: 'e2e-approver' });
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await consoleApp?.close();
    await tc?.close();
  });

  it('answers 401 to a browser and to a script without the token', async () => {
    // Prepare
    const stranger = await browser.newContext();
    const page = await stranger.newPage();
    // Act
    const res = await page.goto(`${consoleApp.origin}/approvals`);
    const api = await fetch(`${consoleApp.origin}/api/approvals`);
    // Assess
    expect(res?.status()).toBe(401);
    expect(api.status).toBe(401);
    await stranger.close();
  });

  it('approves a pending release: the figures match validation.json, and the release reaches production', async () => {
    // Prepare
    const { id, executionArn, version } = await releaseUntilApproval('1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d');
    const validation = (await getJson<Validation>(tc.s3, BUCKET, `reports/${MODEL}/${version}/validation.json`))!.value;
    const page = await login();
    await page.goto(`${consoleApp.origin}/approvals/${id}`);

    // Assess: every gate check of validation.json is on the page with the same figures
    expect(validation.checks.length).toBeGreaterThan(0);
    for (const c of validation.checks) {
      const row = page.locator(`#validation-checks tr[data-metric="${c.metric}"][data-kind="${c.kind}"]`);
      for (const field of ['value', 'bound', 'baseline'] as const) {
        const text = (await row.locator(`td[data-field="${field}"]`).textContent())!.trim();
        if (c[field] === null) expect(text).toBe('—');
        else expect(Number(text)).toBeCloseTo(c[field]!, 5);
      }
    }
    expect(await page.locator('h1').textContent()).toContain(version);
    // The stored quality-report.html is embedded (sandboxed, scripts off).
    const frame = page.frameLocator('iframe.report');
    expect(await frame.locator('h1').textContent()).toContain(`Quality report ${MODEL} ${version}`);
    // The real task token of this request (known in-process only: no client can read it) is on no page the approver sees.
    const token = tc.cloud.stepFunctions.tokens.pending(executionArn)[0]!.token;
    expect(token.length).toBeGreaterThan(8);
    expect(await page.content()).not.toContain(token);

    // A second tab follows the release, to see it move on by itself.
    const watcher = await context.newPage();
    await watcher.goto(`${consoleApp.origin}/releases?arn=${encodeURIComponent(executionArn)}`);
    expect(await watcher.locator('li[data-state="RequestApproval"]').getAttribute('data-status')).toBe('waiting');
    expect(await watcher.content()).not.toContain(token);
    for (const path of ['/', '/approvals', '/notifications', `/models/${MODEL}`, '/api/approvals']) {
      const res = await context.request.get(`${consoleApp.origin}${path}`);
      expect(res.status(), path).toBe(200);
      expect((await res.text()).includes(token), path).toBe(false);
    }
    if (SCREENSHOTS) {
      mkdirSync(SCREENSHOTS, { recursive: true });
      await watcher.screenshot({ path: join(SCREENSHOTS, 'release-waiting.png'), fullPage: true });
    }

    // Act
    await page.fill('#approve-comment', 'metrics and load test look good');
    await Promise.all([page.waitForURL(/outcome=approved/), page.click('#approve')]);

    // Assess
    expect(await page.locator('#flash').textContent()).toContain('Approved');
    expect(await page.locator('#decided-by').textContent()).toBe('e2e-approver');
    await watcher.waitForSelector('li[data-state="ReleaseSucceeded"][data-status="succeeded"]', { timeout: 90_000 });
    expect(await executionStatus(tc.sfn, executionArn)).toBe('SUCCEEDED');
    const production = await getJson<{ version: string }>(tc.s3, BUCKET, `registry/${MODEL}/production.json`);
    expect(production?.value.version).toBe(version);
    const record = (await listApprovals({ s3: tc.s3, bucket: BUCKET })).find((a) => a.id === id)!;
    expect(record.status).toBe('approved');
    expect(record.decision).toMatchObject({ by: 'e2e-approver', comment: 'metrics and load test look good', delivered: true });
    if (SCREENSHOTS) await watcher.screenshot({ path: join(SCREENSHOTS, 'release-page.png'), fullPage: true });

    // The models page shows the new production version. On a loaded machine a page can come
    // back before its S3 reads settle; poll a few loads, and keep the last page for the message.
    await expect
      .poll(
        async () => {
          await page.goto(`${consoleApp.origin}/`);
          const cell = page.locator(`tr[data-model="${MODEL}"] td[data-field="production"]`);
          return (await cell.count())
            ? await cell.textContent()
            : `no row for ${MODEL} on the models page: ${await page.locator('main').textContent()}`;
        },
        { timeout: 60_000, interval: 2_000 },
      )
      .toContain(version);
    await watcher.close();
    await page.close();
  });

  it('rejects with a comment: the rejection is recorded and production is unchanged', async () => {
    // Prepare
    const before = (await getJson<{ version: string }>(tc.s3, BUCKET, `registry/${MODEL}/production.json`))?.value.version;
    const { id, executionArn, version } = await releaseUntilApproval('9f8e7d6c5b4a39281706f5e4d3c2b1a098765432');
    expect(version).not.toBe(before);
    const page = await login();
    await page.goto(`${consoleApp.origin}/approvals/${id}`);

    // Screenshot of this one: it is compared with the production version the first test made.
    expect(await page.locator('#metrics tr[data-metric="rmse"] td[data-field="production"]').textContent()).not.toBe('—');
    if (SCREENSHOTS) {
      mkdirSync(SCREENSHOTS, { recursive: true });
      // A full-page capture leaves the sandboxed (out-of-process) report frame blank: size the
      // viewport to the page instead, so everything is painted.
      const height = await page.evaluate('document.documentElement.scrollHeight');
      await page.setViewportSize({ width: 1280, height: Number(height) });
      await page.screenshot({ path: join(SCREENSHOTS, 'approval-page.png') });
      await page.setViewportSize({ width: 1280, height: 900 });
    }

    // Act 1: reject without a comment — the browser refuses to submit
    await page.click('#reject');
    // Assess 1
    expect(
      await page.$eval('#reject-comment', (el) => (el as unknown as { validity: { valueMissing: boolean } }).validity.valueMissing),
    ).toBe(true);
    expect(page.url()).not.toContain('outcome=');
    expect((await listApprovals({ s3: tc.s3, bucket: BUCKET })).find((a) => a.id === id)!.status).toBe('pending');

    // Act 2
    await page.fill('#reject-comment', 'p99 latency is too close to the bound');
    await Promise.all([page.waitForURL(/outcome=rejected/), page.click('#reject')]);

    // Assess 2
    expect(await page.locator('#decision').textContent()).toContain('Rejected');
    expect(await page.locator('#decision-comment').textContent()).toBe('p99 latency is too close to the bound');
    await eventually(async () => ((await executionStatus(tc.sfn, executionArn)) === 'FAILED' ? true : undefined), 100);
    const record = (await listApprovals({ s3: tc.s3, bucket: BUCKET })).find((a) => a.id === id)!;
    expect(record).toMatchObject({
      status: 'rejected',
      decision: { by: 'e2e-approver', comment: 'p99 latency is too close to the bound' },
    });
    const after = (await getJson<{ version: string }>(tc.s3, BUCKET, `registry/${MODEL}/production.json`))?.value.version;
    expect(after).toBe(before);
    await page.goto(`${consoleApp.origin}/releases?arn=${encodeURIComponent(executionArn)}`);
    expect(await page.locator('li[data-state="ApprovalRejected"]').getAttribute('data-status')).toBe('failed');

    if (SCREENSHOTS) {
      for (const [file, path] of [
        ['models-page.png', '/'],
        ['model-history-page.png', `/models/${MODEL}`],
        ['notifications-page.png', '/notifications'],
      ]) {
        await page.goto(`${consoleApp.origin}${path}`);
        await page.screenshot({ path: join(SCREENSHOTS, file!), fullPage: true });
      }
    }

    // Deciding again is refused, and the page says so.
    const again = await page.request.post(`${consoleApp.origin}/api/approvals/${id}/decision`, {
      headers: { authorization: `Bearer ${consoleApp.token}` },
      data: { decision: 'approve' },
    });
    expect(again.status()).toBe(409);
    await page.close();
  });
});
