/**
 * The console's live-update script in a real browser (Debian's chromium via playwright-core):
 * a page that follows a release reloads itself when the release moves, and that reload must
 * never cut off the approver's own form submission.
 */
import type { Browser, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { html, layout } from '../../lib/console/html';
import { chromiumMissing, launchBrowser } from '../e2e/harness';

const ORIGIN = 'http://127.0.0.1:9';
const PAGE = `${ORIGIN}/approvals/a1`;

/** An approval page as the console renders it: the approve form and the live-update watch. */
function approvalPage(flash: string): string {
  return layout({
    title: 'approval',
    nonce: 'n0nce',
    target: 'local',
    body: html`<p id="flash">${flash}</p><form id="approve-form" method="post" action="/approvals/a1/approve"><button id="approve" type="submit">Approve</button></form>`,
    watch: { url: '/api/watch/a1', fingerprint: 'before' },
  });
}

/** Resolves with the next request matching `pattern`, held until the test answers it. */
function hold(page: import('playwright-core').Page, pattern: string): Promise<Route> {
  return new Promise((resolve) => void page.route(pattern, (route) => resolve(route), { times: 1 }));
}

describe.skipIf(chromiumMissing)('Module: console live update (browser)', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  it("does not reload over the approver's submission when the release moves while the decision is in flight", async () => {
    // Prepare: every request is answered here, so the order of events is the test's to set.
    const page = await browser.newPage();
    await page.route(`${ORIGIN}/approvals/a1**`, (route) =>
      route.request().method() === 'GET'
        ? route.fulfill({
            contentType: 'text/html',
            body: approvalPage(new URL(route.request().url()).search.includes('outcome=approved') ? 'Approved' : ''),
          })
        : route.fallback(),
    );
    const poll = hold(page, `${ORIGIN}/api/watch/a1`);
    await page.goto(PAGE);
    const pollInFlight = await poll; // the script's first poll, 2 s after the load

    // Act: the approver submits; the server records the decision, so the release moves and
    // the poll that was already in flight answers with a new fingerprint before the POST's
    // redirect arrives.
    const post = hold(page, `${ORIGIN}/approvals/a1/approve`);
    // A click in the page itself: Playwright's click would wait for the navigation this test holds.
    await page.evaluate("document.getElementById('approve').click()");
    const postInFlight = await post;
    await pollInFlight.fulfill({ contentType: 'application/json', body: JSON.stringify({ fingerprint: 'after' }) });
    await page.waitForTimeout(300);
    // The console answers with a redirect to the page with its outcome; the page itself here
    // (a redirect fulfilled by a route is not routed again, and the origin has no server).
    await postInFlight.fulfill({ contentType: 'text/html', body: approvalPage('Approved') }).catch(() => undefined);
    await page.waitForLoadState('load');
    await page.waitForTimeout(300);

    // Assess: the approver sees the confirmation of what they did
    expect(page.url()).toBe(`${PAGE}/approve`);
    expect(await page.locator('#flash').textContent()).toBe('Approved');
    await page.close();
  }, 60_000);

  it('reloads when the release moves while nobody is submitting anything', async () => {
    // Prepare
    const page = await browser.newPage();
    let loads = 0;
    await page.route(PAGE, (route) => (loads++, route.fulfill({ contentType: 'text/html', body: approvalPage('') })));
    const poll = hold(page, `${ORIGIN}/api/watch/a1`);
    await page.goto(PAGE);

    // Act
    const reloaded = page.waitForEvent('load');
    await (await poll).fulfill({ contentType: 'application/json', body: JSON.stringify({ fingerprint: 'after' }) });
    await reloaded;

    // Assess
    expect(loads).toBe(2);
    await page.close();
  }, 60_000);
});
