import { rmSync } from 'node:fs';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { createCodeBuildService, type CodeBuildService } from '../../../lib/local/services/codebuild';
import { createSageMakerService, type SageMakerService, type SageMakerServiceOptions } from '../../../lib/local/services/sagemaker';
import { startMiniEdge, type MiniEdge } from '../fixtures/mini-edge';
import {
  ACCOUNT,
  BUCKET,
  credentials,
  REGION,
  startS3,
  tinyModel,
  tmpDataDir,
  uploadTinySource,
  type S3Fixture,
} from '../fixtures/harness';

/**
 * A local cloud of CodeBuild + SageMaker behind the mini edge, with the tiny model built in
 * several behaviours (each a commit of its own, so each is its own image tag).
 */
export interface Cloud {
  s3: S3Fixture;
  dataDir: string;
  codebuild: CodeBuildService;
  sagemaker: SageMakerService;
  edge: MiniEdge;
  sm: SageMakerClient;
  runtime: SageMakerRuntimeClient;
  images: Record<string, string>;
  /** Replace the SageMaker service by a new one on the same data dir (a restart); `whileDown` runs in between. */
  restartSageMaker(whileDown?: () => void): Promise<void>;
  close(): Promise<void>;
}

export type Behaviour = { mode: 'ok' | 'crash' | 'slow' | 'noping' | 'error'; bias?: number; delayMs?: number };

export async function startCloud(behaviours: Record<string, Behaviour>, smOpts: Partial<SageMakerServiceOptions> = {}): Promise<Cloud> {
  const s3 = await startS3();
  const dataDir = tmpDataDir();
  const codebuild = createCodeBuildService({
    dataDir,
    s3: s3.client,
    bucket: BUCKET,
    models: [tinyModel()],
    region: REGION,
    accountId: ACCOUNT,
  });
  const makeSm = () =>
    createSageMakerService({
      dataDir,
      s3: s3.client,
      bucket: BUCKET,
      region: REGION,
      accountId: ACCOUNT,
      timeScale: 0.01,
      pingTimeoutMs: 30_000,
      captureFlushMs: 100,
      ...smOpts,
    });
  const cloud = { s3, dataDir, codebuild, sagemaker: makeSm(), images: {} } as Cloud;
  const services = {
    codebuild,
    get sagemaker() {
      return cloud.sagemaker;
    },
  };
  // The edge looks the SageMaker service up on every request, so a restart swaps it in place.
  const proxy = {
    targetPrefix: 'SageMaker',
    handle: (op: string, input: Record<string, unknown>) => services.sagemaker.handle(op, input),
    runtime: {
      invokeEndpoint: (req: Parameters<SageMakerService['runtime']['invokeEndpoint']>[0]) => services.sagemaker.runtime.invokeEndpoint(req),
    },
    flushCapture: () => services.sagemaker.flushCapture(),
  } as unknown as SageMakerService;
  cloud.edge = await startMiniEdge([codebuild, proxy], proxy);
  cloud.sm = new SageMakerClient({ endpoint: cloud.edge.url, region: REGION, credentials });
  cloud.runtime = new SageMakerRuntimeClient({ endpoint: cloud.edge.url, region: REGION, credentials });

  for (const [name, b] of Object.entries(behaviours)) {
    const commit = `commit-${name}`;
    const location = await uploadTinySource(s3.client, commit);
    const started = (await codebuild.handle('StartBuild', {
      projectName: 'mlship-build-tiny',
      sourceLocationOverride: location,
      sourceVersion: commit,
      environmentVariablesOverride: [
        { name: 'MODE', value: b.mode, type: 'PLAINTEXT' },
        { name: 'BIAS', value: String(b.bias ?? 0), type: 'PLAINTEXT' },
        { name: 'DELAY_MS', value: String(b.delayMs ?? 0), type: 'PLAINTEXT' },
      ],
    })) as { build: { id: string } };
    const done = (await codebuild.waitForBuild(started.build.id)) as {
      buildStatus: string;
      exportedEnvironmentVariables: { name: string; value: string }[];
    };
    if (done.buildStatus !== 'SUCCEEDED') throw new Error(`fixture build ${name} ended ${done.buildStatus}`);
    cloud.images[name] = done.exportedEnvironmentVariables.find((v) => v.name === 'IMAGE_URI')!.value;
  }

  cloud.restartSageMaker = async (whileDown) => {
    await cloud.sagemaker.close();
    whileDown?.();
    cloud.sagemaker = makeSm();
  };
  cloud.close = async () => {
    cloud.sm.destroy();
    cloud.runtime.destroy();
    await cloud.sagemaker.close();
    await codebuild.close();
    await cloud.edge.close();
    await s3.close();
    rmSync(dataDir, { recursive: true, force: true });
  };
  return cloud;
}

/**
 * Model + single-variant endpoint config for an image, with data capture to capture/tiny.
 * `startupSeconds` (× timeScale 0.01) bounds the wait for /ping; the default (30 s) keeps a
 * healthy server on a busy machine from failing its start. Two instances by default: a
 * SageMaker canary is at most half the fleet, in whole instances.
 */
export async function modelAndConfig(
  cloud: Cloud,
  name: string,
  image: string,
  variant = 'AllTraffic',
  startupSeconds?: number,
  instances = 2,
): Promise<string> {
  await cloud.sagemaker.handle('CreateModel', {
    ModelName: `m-${name}`,
    PrimaryContainer: { Image: image },
    ExecutionRoleArn: 'arn:aws:iam::000000000000:role/sm',
  });
  await cloud.sagemaker.handle('CreateEndpointConfig', {
    EndpointConfigName: `ec-${name}`,
    ProductionVariants: [
      {
        VariantName: variant,
        ModelName: `m-${name}`,
        InitialInstanceCount: instances,
        InstanceType: 'ml.m5.large',
        InitialVariantWeight: 1,
        ContainerStartupHealthCheckTimeoutInSeconds: startupSeconds,
      },
    ],
    DataCaptureConfig: {
      EnableCapture: true,
      InitialSamplingPercentage: 100,
      DestinationS3Uri: `s3://${BUCKET}/capture/tiny`,
      CaptureOptions: [{ CaptureMode: 'Input' }, { CaptureMode: 'Output' }],
    },
  });
  return `ec-${name}`;
}

/** Invoke repeatedly until `until()` is true, swallowing errors; returns how many calls answered 200. */
export async function drive(cloud: Cloud, endpoint: string, until: () => Promise<boolean>): Promise<{ ok: number; failed: number }> {
  let ok = 0;
  let failed = 0;
  const body = Buffer.from(JSON.stringify({ instances: [{ x: 1, y: 2 }] }));
  while (!(await until())) {
    await Promise.all(
      Array.from({ length: 4 }, () =>
        cloud.sagemaker.runtime.invokeEndpoint({ endpointName: endpoint, body, contentType: 'application/json' }).then(
          () => ok++,
          () => failed++,
        ),
      ),
    );
  }
  return { ok, failed };
}
