/**
 * The approval console in a real browser on a fully real release in the local cloud: the
 * tiny fixture model (test/workflow/fixtures/tiny) built by the local CodeBuild, served by
 * the local SageMaker, evaluated and load-tested by the real tasks. The console and the
 * browser drive the decision; everything else is the platform's own code.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConsole, type RunningConsole } from '../../lib/console';
import type { Validation } from '../../lambdas/ml/types';
import { MODEL, WorkflowHarness } from '../workflow/harness';
import { chromiumMissing, launchBrowser } from './harness';
import { eventually } from '../local/helpers';

const SCREENSHOTS = process.env.MLSHIP_SCREENSHOTS ? join(process.cwd(), 'docs', 'screenshots') : undefined;

describe.skipIf(chromiumMissing)('Class: approval console on a real release (browser, local cloud)', () => {
  let h: WorkflowHarness;
  let consoleApp: RunningConsole;
  let browser: Browser;
  let context: BrowserContext;

  beforeAll(async () => {
    h = await WorkflowHarness.start();
    consoleApp = await startConsole({ target: { endpoint: h.cloud.endpoint }, approver: 'release-approver' });
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await consoleApp?.close();
    await h?.close();
  });

  async function openApproval(): Promise<{ page: Page; id: string; version: string; executionArn: string }> {
    // This test is about the decision, not the load test: bounds a busy 2-core machine meets.
    const started = await h.release({ quality: 'good' }, (yaml) =>
      yaml.replace('p99Ms: 2000', 'p99Ms: 5000').replace('maxErrorRate: 0.05', 'maxErrorRate: 0.5'),
    );
    const approval = await h.approvalOf(started.name, started.executionArn);
    expect(approval, await h.explain(started.executionArn)).toBeDefined();
    const page = await context.newPage();
    expect((await page.goto(consoleApp.url))?.status()).toBe(200);
    await page.goto(`${consoleApp.origin}/approvals/${approval.id}`);
    await untilCurrent(page);
    return { page, id: approval.id, version: approval.version, executionArn: started.executionArn };
  }

  /**
   * Wait until the page shows the release as it is now. The page reloads itself when its
   * watch fingerprint (execution status, last history event, approval status) changes, and
   * the approval record is written a moment before the task's last history event: a page
   * loaded in between reloads within 2 s, and a click made during that reload is lost (the
   * test then waited for a navigation that never came).
   */
  async function untilCurrent(page: Page): Promise<void> {
    await eventually(async () => {
      const watch = page.locator('[data-watch]');
      const [url, shown] = [await watch.getAttribute('data-watch'), await watch.getAttribute('data-fingerprint')];
      const res = await page.request.get(`${consoleApp.origin}${url}`, { headers: { Accept: 'application/json' } });
      const { fingerprint } = (await res.json()) as { fingerprint: string };
      // The page's own poll compares the same two, so no reload is coming when they agree.
      return fingerprint === shown ? true : undefined;
    }, 200);
  }

  it('answers 401 without the token', async () => {
    // Act
    const res = await fetch(`${consoleApp.origin}/`);
    // Assess
    expect(res.status).toBe(401);
  });

  // A real build, two endpoints, an evaluation and a load test: minutes on a busy 2-core
  // machine. The timeout is a hang detector, not a performance assertion.
  it('shows the figures of validation.json, approves, and the release reaches production', { timeout: 600_000 }, async () => {
    // Prepare
    const { page, version, executionArn } = await openApproval();
    const validation = (await h.getJson<Validation>(`reports/${MODEL}/${version}/validation.json`))!;
    expect(validation.checks.length).toBeGreaterThan(0);
    for (const c of validation.checks) {
      const row = page.locator(`#validation-checks tr[data-metric="${c.metric}"][data-kind="${c.kind}"]`);
      for (const field of ['value', 'bound', 'baseline'] as const) {
        const text = (await row.locator(`td[data-field="${field}"]`).textContent())!.trim();
        if (c[field] === null) expect(text).toBe('—');
        else expect(Number(text)).toBeCloseTo(c[field]!, 5);
      }
    }
    if (SCREENSHOTS) {
      mkdirSync(SCREENSHOTS, { recursive: true });
      const height = await page.evaluate('document.documentElement.scrollHeight');
      await page.setViewportSize({ width: 1280, height: Number(height) });
      await page.screenshot({ path: join(SCREENSHOTS, 'approval-page-real-release.png') });
      await page.setViewportSize({ width: 1280, height: 900 });
    }

    // Act
    await Promise.all([page.waitForURL(/outcome=approved/), page.click('#approve')]);
    await page.goto(`${consoleApp.origin}/releases?arn=${encodeURIComponent(executionArn)}`);

    // Assess: the release ends in success, and the open release page follows it by itself
    const record = await h.wait(executionArn);
    expect(record.status, await h.explain(executionArn)).toBe('SUCCEEDED');
    await page.waitForSelector('li[data-state="ReleaseSucceeded"][data-status="succeeded"]', { timeout: 30_000 });
    const production = await h.getJson<{ version: string }>(`registry/${MODEL}/production.json`);
    expect(production?.version).toBe(version);
    if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, 'release-page-real-release.png'), fullPage: true });
    // The build log of the local CodeBuild opens from the CheckBuild state.
    const logHref = await page.locator('li[data-state="CheckBuild"] a', { hasText: 'build log' }).getAttribute('href');
    const log = await page.request.get(`${consoleApp.origin}${logHref}`);
    expect(log.status()).toBe(200);
    expect((await log.text()).length).toBeGreaterThan(0);
    await page.close();
  });

  it('rejects with a comment: recorded, and production unchanged', { timeout: 600_000 }, async () => {
    // Prepare
    const before = await h.getJson<{ version: string }>(`registry/${MODEL}/production.json`);
    const { page, id, executionArn } = await openApproval();

    // Act
    await page.fill('#reject-comment', 'not this one');
    await Promise.all([page.waitForURL(/outcome=rejected/), page.click('#reject')]);

    // Assess
    const record = await h.wait(executionArn);
    expect(record.status).toBe('FAILED');
    expect(record.error).toBe('ApprovalRejected');
    expect(await h.getJson(`approvals/${id}.json`)).toMatchObject({
      status: 'rejected',
      decision: { by: 'release-approver', comment: 'not this one' },
    });
    expect(await h.getJson(`registry/${MODEL}/production.json`)).toEqual(before);
    await page.close();
  });
});
