/**
 * The model page in a real browser (Debian's chromium via playwright-core) after real releases
 * of the tiny workflow model on the local cloud (real build, endpoints, evaluation, drift
 * check): its figures are compared with the records they come from — the gated metric per
 * version with validation.json and quality-report.json, the drift share per run with each
 * drift-report.json, and the live error rate with traffic sent with known failures.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConsole, type RunningConsole } from '../../lib/console';
import { NOTIFICATIONS_FILE } from '../../lib/local/constants';
import type { WeeklyReport } from '../../lambdas/weekly-report/report';
import { MODEL, WorkflowHarness } from '../workflow/harness';
import { chromiumMissing, launchBrowser } from './harness';

const PRODUCTION = `mlship-${MODEL}-production`;

describe.skipIf(chromiumMissing)('Page: model page (browser, real releases on the local cloud)', () => {
  let h: WorkflowHarness;
  let consoleApp: RunningConsole;
  let browser: Browser;
  let page: Page;
  const versions: string[] = [];

  beforeAll(async () => {
    h = await WorkflowHarness.start();
    // A good version that reaches production, then a bad one the quality gate stops.
    const good = await h.releaseApproved({ quality: 'good' });
    expect(good.record.status, await h.explain(good.executionArn)).toBe('SUCCEEDED');
    const bad = await h.release({ quality: 'bad' });
    expect((await h.wait(bad.executionArn)).status).toBe('FAILED');
    const records = await Promise.all(
      (await h.keys(`registry/${MODEL}/versions/`)).map((k) => h.getJson<{ version: string; createdAt: string }>(k)),
    );
    versions.push(...records.map((r) => r!.version));
    consoleApp = await startConsole({ target: { endpoint: h.cloud.endpoint }, approver: 'e2e-approver' });
    browser = await launchBrowser();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    await page.goto(consoleApp.url);
  }, 600_000);

  afterAll(async () => {
    await browser?.close();
    await consoleApp?.close();
    await h?.close();
  });

  it('shows the gated metric of every version with its bound and the dummy baseline, as the reports record them', async () => {
    // Act
    await page.goto(`${consoleApp.origin}/models/${MODEL}`);

    // Assess
    expect(versions.length).toBe(2);
    for (const version of versions) {
      const validation = (await h.getJson<{ checks: { metric: string; kind: string; value: number; bound: number }[] }>(
        `reports/${MODEL}/${version}/validation.json`,
      ))!;
      const quality = (await h.getJson<{ evaluation: { metrics: Record<string, number>; dummy: Record<string, number> } }>(
        `reports/${MODEL}/${version}/quality-report.json`,
      ))!;
      const cell = page.locator(`#metrics-per-version tr[data-version="${version}"] td[data-metric="rmse"]`);
      const field = async (f: string) => Number(await cell.locator(`[data-field="${f}"]`).textContent());
      // The page shows 4 significant digits.
      expect(await field('value')).toBe(Number(quality.evaluation.metrics.rmse!.toPrecision(4)));
      expect(await field('dummy')).toBe(Number(quality.evaluation.dummy.rmse!.toPrecision(4)));
      expect(await field('bound')).toBe(validation.checks.find((c) => c.metric === 'rmse' && c.kind === 'bound')!.bound);
    }
    expect(await page.locator('[data-chart="metric-rmse"] svg circle').count()).toBe(2);
  });

  it('shows the share of drifted features of every drift run, as its drift-report.json records it', async () => {
    // Prepare: a real drift check on live traffic, and a second run whose report says two of four features drifted
    const codes = await h.traffic(
      PRODUCTION,
      Array.from({ length: 40 }, (_, i) => ({ x: (i % 10) + 0.5 })),
    );
    expect(codes.every((c) => c === 200)).toBe(true);
    await h.cloud.sageMaker.flushCapture();
    const { executionArn } = await h.cloud.startWorkflow('driftCheck', `${MODEL}-drift-1`, { model: MODEL, trigger: 'manual' });
    expect((await h.wait(executionArn)).status, await h.explain(executionArn)).toBe('SUCCEEDED');
    const [realRun] = (await h.keys(`monitoring/${MODEL}/`)).filter((k) => k.endsWith('/drift-report.json')).map((k) => k.split('/')[2]!);
    const real = await h.getJson(`monitoring/${MODEL}/${realRun}/drift-report.json`);
    const seededRun = '9999-12-31T00-00-00Z';
    const seeded = structuredClone(real);
    seeded.data.driftShare = 0.5;
    seeded.data.columns = ['a', 'b', 'c', 'd'].map((c, i) => ({ ...real.data.columns[0], column: c, statistic: i / 10, drifted: i >= 2 }));
    await h.s3.send(
      new PutObjectCommand({
        Bucket: h.cloud.bucket,
        Key: `monitoring/${MODEL}/${seededRun}/drift-report.json`,
        Body: JSON.stringify(seeded),
      }),
    );

    // Act
    await page.goto(`${consoleApp.origin}/models/${MODEL}`);

    // Assess
    for (const [run, report] of [
      [realRun!, real],
      [seededRun, seeded],
    ] as const) {
      const text = await page.locator(`#drift-trend tr[data-run="${run}"] td[data-field="share"]`).textContent();
      expect(text).toBe(`${(report.data.driftShare * 100).toFixed(1)}%`);
    }
    expect(await page.locator('#drift-trend tr[data-run]').count()).toBe(2);
  });

  it('runs the weekly report on the local cloud: to the SNS feed, and as a console page with the same numbers', async () => {
    // Act: what the local scheduler runs every Monday
    const { key } = (await h.cloud.runScheduledFunction('WeeklyReport')) as { key: string };

    // Assess
    const report = (await h.getJson<WeeklyReport>(key))!;
    const tiny = report.models.find((m) => m.model === MODEL)!;
    // Every version record of this test is of this week: the report counts each by its outcome (running while it has none).
    const records = await Promise.all(
      (await h.keys(`registry/${MODEL}/versions/`)).map((k) => h.getJson<{ outcome: { state: string } | null }>(k)),
    );
    const expected: Record<string, number> = {};
    for (const r of records) expected[r!.outcome?.state ?? 'running'] = (expected[r!.outcome?.state ?? 'running'] ?? 0) + 1;
    expect(expected).toMatchObject({ succeeded: 1, 'gate-failed': 1 });
    expect(tiny.releases.byOutcome).toEqual(expected);
    const feed = readFileSync(join(h.cloud.dataDir, NOTIFICATIONS_FILE), 'utf8');
    expect(feed).toContain(`${MODEL}: ${records.length} releases (1 succeeded, 1 gate-failed`);
    await page.goto(`${consoleApp.origin}/notifications`);
    await page.click(`#feed a[href="/weekly/${report.to.slice(0, 10)}"]`);
    const row = page.locator(`#weekly tr[data-model="${MODEL}"]`);
    expect(await row.locator('td[data-field="releases"]').textContent()).toBe(String(tiny.releases.total));
    expect(await row.locator('td[data-field="succeeded"]').textContent()).toBe('1');
    expect(await row.locator('td[data-field="production"]').textContent()).toContain(tiny.production!.version);
    expect(Number(await row.locator('td[data-field="requests"]').textContent())).toBe(tiny.traffic.requests);
  });

  it('shows the live error rate of the production variant after traffic with known failures', async () => {
    // Prepare: the counters before, then 30 requests of which 6 are refused by the model (x is not a number)
    const before = h.cloud.sageMaker.variantMetrics(PRODUCTION);
    const sum = (list: typeof before, f: 'invocations' | 'errors4xx' | 'errors5xx') => list.reduce((s, v) => s + v.metrics[f], 0);
    const instances = Array.from({ length: 30 }, (_, i) => (i % 5 === 0 ? { x: Number.NaN } : { x: i }));
    const codes = await h.traffic(PRODUCTION, instances);
    expect(codes.filter((c) => c !== 200).length).toBe(6);
    const after = h.cloud.sageMaker.variantMetrics(PRODUCTION);
    expect(sum(after, 'invocations') - sum(before, 'invocations')).toBe(30);
    expect(sum(after, 'errors4xx') - sum(before, 'errors4xx')).toBe(6);

    // Act
    await page.goto(`${consoleApp.origin}/models/${MODEL}`);

    // Assess: one row per variant (CloudWatch's EndpointName + VariantName, through the edge's
    // GetMetricData), each with the error rate of its fleets' counters (one fleet per variant here)
    expect(after.length).toBeGreaterThan(0);
    for (const variant of new Set(after.map((v) => v.variant))) {
      const fleets = after.filter((v) => v.variant === variant);
      const row = page.locator(`#traffic tr[data-endpoint="${PRODUCTION}"][data-variant="${variant}"]`);
      expect(Number(await row.locator('td[data-field="invocations"]').textContent())).toBe(sum(fleets, 'invocations'));
      const rate = (sum(fleets, 'errors4xx') + sum(fleets, 'errors5xx')) / sum(fleets, 'invocations');
      expect(await row.locator('td[data-field="errorRate"]').textContent()).toBe(`${(rate * 100).toFixed(1)}%`);
    }
    expect(sum(after, 'errors4xx') + sum(after, 'errors5xx')).toBeGreaterThanOrEqual(6);
  });
});
