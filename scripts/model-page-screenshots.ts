/**
 * Regenerate the model page screenshots in docs/screenshots/: start a local cloud, run the
 * demo against it (both example models released, live and drifted traffic, a drift check, a
 * retraining release), then photograph each example's model page in Debian's chromium
 * through playwright-core, and the weekly report's page. The cloud is kept running through the photos, so the live traffic
 * the demo sent is on them.
 *
 *     npx tsx scripts/model-page-screenshots.ts        # MLSHIP_CHROMIUM=/path/to/chromium to override
 */
import '../bin/polyfills';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { chromium } from 'playwright-core';
import { startConsole } from '../lib/console';
import { runDemo } from '../lib/demo';
import { LocalCloud } from '../lib/local/cloud';
import { PACKAGE_ROOT } from '../lib/local/constants';

const MODELS = ['delivery-time', 'ticket-triage'];

/**
 * The demo's last step replaced delivery-time's production fleet (the retraining canary), so
 * its counters start at zero: send a little traffic, one request in ten malformed, so the
 * live-traffic table has figures and an error rate.
 */
async function liveTraffic(endpoint: string): Promise<void> {
  const { generateRows } = (await import('../models/delivery-time/generate.mjs')) as typeof import('../models/delivery-time/generate.mjs');
  const runtime = new SageMakerRuntimeClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  for (const [i, { delivery_hours: _label, ...row }] of generateRows({ seed: 7, n: 60 }).entries()) {
    const instance = i % 10 === 0 ? { ...row, distance_km: 'far' } : row;
    await runtime
      .send(
        new InvokeEndpointCommand({
          EndpointName: 'mlship-delivery-time-production',
          ContentType: 'application/json',
          Body: Buffer.from(JSON.stringify({ instances: [instance] })),
        }),
      )
      .catch(() => undefined);
  }
  runtime.destroy();
}
const OUT = join(PACKAGE_ROOT, 'docs', 'screenshots');

async function main(): Promise<number> {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  const dataDir = mkdtempSync(join(tmpdir(), 'mlship-shots-'));
  const cloud = await LocalCloud.start({ port: 0, dataDir, repoRoot: PACKAGE_ROOT, timeScale: 0.02, scheduler: false });
  try {
    const demo = await runDemo({
      dataDir,
      endpoint: cloud.endpoint,
      gitDir: cloud.gitDir,
      out: { write: (t) => void process.stderr.write(t) },
    });
    if (!demo.ok) {
      process.stderr.write(`model-page-screenshots: the demo failed (${demo.error ?? 'see above'}); no screenshots taken\n`);
      return 1;
    }
    await liveTraffic(cloud.endpoint);
    const app = await startConsole({ target: { endpoint: cloud.endpoint }, approver: 'screenshots' });
    const browser = await chromium.launch({
      executablePath: process.env.MLSHIP_CHROMIUM ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      await page.goto(app.url);
      mkdirSync(OUT, { recursive: true });
      for (const model of MODELS) {
        await page.goto(`${app.origin}/models/${model}`);
        const file = join(OUT, `model-page-${model}.png`);
        await page.screenshot({ path: file, fullPage: true });
        process.stdout.write(`${file}\n`);
      }
      // The weekly report as the scheduler would run it on Monday, and its page.
      const { key } = (await cloud.runScheduledFunction('WeeklyReport')) as { key: string };
      await page.goto(`${app.origin}/weekly/${key.slice('reports/weekly/'.length, -'.json'.length)}`);
      await page.screenshot({ path: join(OUT, 'weekly-report-page.png'), fullPage: true });
      process.stdout.write(`${join(OUT, 'weekly-report-page.png')}\n`);
    } finally {
      await browser.close();
      await app.close();
    }
    return 0;
  } finally {
    await cloud.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

process.exitCode = await main();
