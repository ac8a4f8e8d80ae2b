/**
 * Helpers of the browser tests: Debian's chromium through playwright-core (no browser
 * download), and a "stubbed release": the real release ASL in the local cloud where every
 * task except RequestApproval is a small stand-in that writes the registry record and the
 * reports (validation.json from the real gate, lambdas/ml runGate). RequestApproval is the
 * real handler, so the approval record, its task token and the waiting execution are real.
 */
import { existsSync } from 'node:fs';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { chromium, type Browser } from 'playwright-core';
import { runGate } from '../../lambdas/ml/gate';

export const CHROMIUM = process.env.MLSHIP_CHROMIUM ?? '/usr/bin/chromium';
export const chromiumMissing = existsSync(CHROMIUM)
  ? undefined
  : `no browser at ${CHROMIUM} (apt install chromium, or set MLSHIP_CHROMIUM)`;

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

export const BUCKET = 'mlship-artifacts';

async function putJson(s3: S3Client, key: string, value: unknown): Promise<void> {
  await s3.send(
    new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: `${JSON.stringify(value, null, 2)}\n`, ContentType: 'application/json' }),
  );
}

type Event = Record<string, unknown>;

async function getJsonObject(s3: S3Client, key: string): Promise<Event | undefined> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    return JSON.parse(await out.Body!.transformToString()) as Event;
  } catch (err) {
    if ((err as Error).name === 'NoSuchKey') return undefined;
    throw err;
  }
}

/** The stand-in task functions, keyed by local function name. Metrics depend on the commit so two releases differ. */
export function stubbedTasks(s3: () => S3Client): Record<string, (e: unknown) => Promise<unknown>> {
  return {
    'mlship-PrepareRelease': async (raw) => {
      const e = raw as { input: Event; executionId: string; executionName: string };
      const model = String(e.input.model);
      const commit = String(e.input.commitId);
      const version = `${commit.slice(0, 7)}-${commit
        .slice(-4)
        .replace(/[^0-9a-f]/g, '0')
        .padStart(4, '0')}`;
      const now = new Date().toISOString();
      await putJson(s3(), `registry/${model}/versions/${version}.json`, {
        model,
        version,
        status: 'building',
        createdAt: now,
        updatedAt: now,
        commitId: commit,
        trigger: e.input.trigger ?? 'push',
        reason: null,
        execution: { arn: e.executionId, name: e.executionName },
        manifest: { name: model, task: 'regression' },
        deployments: [],
        approval: null,
      });
      return {
        version,
        stagingEndpoint: `mlship-${model}-staging`,
        productionEndpoint: `mlship-${model}-production`,
        buildProject: `mlship-${model}`,
        pollSeconds: 1,
        approvalTimeoutSeconds: 3600,
      };
    },
    'mlship-StartBuild': async () => ({ buildId: 'mlship-build:1' }),
    'mlship-CheckBuild': async (raw) => {
      const e = raw as Event;
      return {
        status: 'SUCCEEDED',
        failedPhase: null,
        logLink: `s3://${BUCKET}/builds/${String(e.model)}/${String(e.version)}/build.log`,
        imageUri: 'local/fixture:1',
      };
    },
    'mlship-DeployEndpoint': async (raw) => ({
      endpointName: `mlship-${String((raw as Event).model)}-staging`,
      endpointConfigName: 'cfg',
      action: 'created',
    }),
    'mlship-CheckEndpoint': async () => ({ status: 'InService', failureReason: null }),
    'mlship-EvaluateModel': async (raw) => {
      const e = raw as Event;
      const model = String(e.model);
      const version = String(e.version);
      const seed = parseInt(version.slice(0, 7), 16) % 1000;
      const metrics = { rmse: 1 + seed / 10_000, mae: 0.7 + seed / 20_000, r2: 0.9 - seed / 100_000 };
      const gates = {
        rmse: { direction: 'lower' as const, bound: 3, tolerance: { relative: 0.1 } },
        mae: { direction: 'lower' as const, bound: 2, tolerance: { absolute: 0.2 } },
        r2: { direction: 'higher' as const, bound: 0.5, tolerance: { absolute: 0.01 } },
      };
      // Compared with production's metrics once there is a production version, as the real task does.
      const pointer = await getJsonObject(s3(), `registry/${model}/production.json`);
      const prodReport = pointer ? await getJsonObject(s3(), `reports/${model}/${String(pointer.version)}/quality-report.json`) : undefined;
      const prodMetrics = (prodReport?.evaluation as { metrics?: Record<string, number> } | undefined)?.metrics;
      const validation = runGate(gates, metrics, prodMetrics);
      const base = `reports/${model}/${version}/`;
      await putJson(s3(), `${base}validation.json`, validation);
      await putJson(s3(), `${base}quality-report.json`, {
        model,
        version,
        task: 'regression',
        generatedAt: new Date().toISOString(),
        validation,
        evaluation: {
          task: 'regression',
          n: 240,
          metrics,
          std: { rmse: 0.04, mae: 0.03, r2: 0.01 },
          dummy: { rmse: 4.1, mae: 3.3, r2: 0 },
          details: { residualHistogram: { edges: [-3, -2, -1, 0, 1, 2, 3], counts: [4, 20, 70, 88, 45, 13] } },
          bootstrap: { resamples: 200, seed: 42 },
          warnings: [],
        },
        gates,
        ...(prodMetrics ? { production: { version: String(pointer!.version), metrics: prodMetrics } } : {}),
        lineage: { commit: version.slice(0, 7), dataDigests: { 'data/train.csv': 'sha256:5be1c0de' }, trigger: 'push' },
      });
      await s3().send(
        new PutObjectCommand({
          Bucket: BUCKET,
          Key: `${base}quality-report.html`,
          Body: `<!doctype html><html><head><style>body{font-family:sans-serif}</style></head><body><h1>Quality report ${model} ${version}</h1><p>rmse ${metrics.rmse}</p></body></html>`,
          ContentType: 'text/html',
        }),
      );
      return {
        validationOk: validation.validation_ok,
        metrics,
        failures: validation.failures.map((f) => f.message),
        reportUri: `s3://${BUCKET}/${base}quality-report.json`,
      };
    },
    'mlship-LoadTest': async (raw) => {
      const e = raw as Event;
      const report = {
        ok: true,
        rps: 20,
        requests: 600,
        errorRate: 0,
        p50Ms: 2.5,
        p95Ms: 6.1,
        p99Ms: 9.8,
        bounds: { p99Ms: 250, maxErrorRate: 0.01 },
      };
      const key = `reports/${String(e.model)}/${String(e.version)}/load-test.json`;
      await putJson(s3(), key, report);
      return {
        ok: true,
        p50Ms: 2.5,
        p95Ms: 6.1,
        p99Ms: 9.8,
        errorRate: 0,
        achievedRps: 20,
        failures: [],
        reportUri: `s3://${BUCKET}/${key}`,
      };
    },
    'mlship-PromoteVersion': async (raw) => {
      const e = raw as Event;
      const model = String(e.model);
      const version = String(e.version);
      await putJson(s3(), `registry/${model}/production.json`, {
        model,
        version,
        since: new Date().toISOString(),
        executionArn: String(e.executionId),
        endpointName: `mlship-${model}-production`,
        previous: null,
      });
      return { production: version, previous: null };
    },
    'mlship-RecordOutcome': async (raw) => ({
      outcome: String((raw as Event).outcome ?? 'succeeded'),
      notified: false,
      cause: `stubbed: ${String((raw as Event).outcome ?? 'succeeded')}`,
    }),
  };
}
