import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import {
  CreateEndpointCommand,
  CreateModelCommand,
  DeleteEndpointCommand,
  DescribeEndpointCommand,
  UpdateEndpointCommand,
  UpdateEndpointWeightsAndCapacitiesCommand,
  type DescribeEndpointCommandOutput,
} from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, ModelError, ValidationError } from '@aws-sdk/client-sagemaker-runtime';
import { BUCKET, getObject, tinyModel } from '../fixtures/harness';
import { eventually } from '../helpers';
import { drive, modelAndConfig, startCloud, type Cloud } from './setup';

/** The manifest's rollback alarms (tiny: 5xx rate 0.01, p99 100 ms), named as the deploy task names them. */
const ROLLBACK = { AutoRollbackConfiguration: { Alarms: [{ AlarmName: 'mlship-tiny-5xx' }, { AlarmName: 'mlship-tiny-p99-latency' }] } };
/**
 * Canary of half the capacity, baking 180 s × timeScale 0.01 = 1.8 s per step: the shortest
 * bake in which a one-minute alarm can fire, once its minute is published and evaluated.
 */
const CANARY = {
  BlueGreenUpdatePolicy: {
    TrafficRoutingConfiguration: {
      Type: 'CANARY' as const,
      CanarySize: { Type: 'CAPACITY_PERCENT' as const, Value: 50 },
      WaitIntervalInSeconds: 180,
    },
    TerminationWaitInSeconds: 0,
  },
  ...ROLLBACK,
};
/** The same canary watching the 5xx alarm only: a healthy model's p99 on a busy test machine is no signal. */
const CANARY_5XX = { ...CANARY, AutoRollbackConfiguration: { Alarms: [{ AlarmName: 'mlship-tiny-5xx' }] } };
/** A canary watching one alarm of the registry below, baking `bake` seconds (× 0.01). */
const canaryWith = (alarm: string, bake = 180) => ({
  BlueGreenUpdatePolicy: {
    ...CANARY.BlueGreenUpdatePolicy,
    TrafficRoutingConfiguration: { ...CANARY.BlueGreenUpdatePolicy.TrafficRoutingConfiguration, WaitIntervalInSeconds: bake },
  },
  AutoRollbackConfiguration: { Alarms: [{ AlarmName: alarm }] },
});
/**
 * Alarms as a user could define them: 2 breaching minutes out of 3 (its bake: 60 s × 3 +
 * 120 s = 300 s), and one-minute alarms that treat a minute without traffic each their way.
 */
const REGISTRY = {
  'two-of-three-5xx': { metric: '5xx-rate' as const, threshold: 0.01, evaluationPeriods: 3, datapointsToAlarm: 2 },
  'quiet-breaching': { metric: '5xx-rate' as const, threshold: 0.01, treatMissingData: 'breaching' as const },
  'quiet-notBreaching': { metric: '5xx-rate' as const, threshold: 0.01, treatMissingData: 'notBreaching' as const },
  'quiet-missing': { metric: '5xx-rate' as const, threshold: 0.01, treatMissingData: 'missing' as const },
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const predict = async (cloud: Cloud, endpoint: string, inferenceId?: string) => {
  const out = await cloud.runtime.send(
    new InvokeEndpointCommand({
      EndpointName: endpoint,
      ContentType: 'application/json',
      Body: JSON.stringify({ instances: [{ x: 1, y: 2 }] }),
      InferenceId: inferenceId,
    }),
  );
  return { value: JSON.parse(Buffer.from(out.Body!).toString()).predictions[0].value as number, variant: out.InvokedProductionVariant };
};

describe('Class: SageMakerService', () => {
  let cloud: Cloud;
  const describeEndpoint = (name: string): Promise<DescribeEndpointCommandOutput> =>
    cloud.sm.send(new DescribeEndpointCommand({ EndpointName: name }));
  const settled = async (name: string) => {
    await cloud.sagemaker.waitForEndpoint(name);
    return describeEndpoint(name);
  };
  const createEndpoint = async (name: string, config: string) => {
    await cloud.sm.send(new CreateEndpointCommand({ EndpointName: name, EndpointConfigName: config }));
    return settled(name);
  };
  /** Update with traffic flowing until the deployment ends, as a live endpoint would see it. */
  const updateUnderLoad = async (name: string, config: string, deploymentConfig: object) => {
    await cloud.sm.send(new UpdateEndpointCommand({ EndpointName: name, EndpointConfigName: config, DeploymentConfig: deploymentConfig }));
    await drive(cloud, name, async () => !['Updating', 'RollingBack'].includes((await describeEndpoint(name)).EndpointStatus!));
    return settled(name);
  };

  beforeAll(async () => {
    cloud = await startCloud(
      {
        v1: { mode: 'ok', bias: 0 },
        v2: { mode: 'ok', bias: 100 },
        crash: { mode: 'crash' },
        slow: { mode: 'slow', delayMs: 300 },
        noping: { mode: 'noping' },
        error: { mode: 'error' },
      },
      { models: [tinyModel()], rollbackAlarmPrefix: 'mlship-', alarms: REGISTRY },
    );
    for (const name of ['v1', 'v2', 'crash', 'slow', 'error']) await modelAndConfig(cloud, name, cloud.images[name]!);
    await modelAndConfig(cloud, 'noping', cloud.images.noping!, 'AllTraffic', 200);
    await modelAndConfig(cloud, 'single', cloud.images.v2!, 'AllTraffic', undefined, 1);
  });

  afterAll(async () => {
    await cloud?.close();
  });

  describe('Method: CreateEndpoint', () => {
    it('serves the built bundle InService, and captures invocations with their inference id', async () => {
      // Prepare + Act
      const ep = await createEndpoint('ep-main', 'ec-v1');
      const answer = await predict(cloud, 'ep-main', 'inf-42');
      await cloud.sagemaker.flushCapture();

      // Assess
      expect(ep.EndpointStatus).toBe('InService');
      expect(ep.EndpointConfigName).toBe('ec-v1');
      expect(ep.ProductionVariants?.[0]).toMatchObject({ VariantName: 'AllTraffic', CurrentWeight: 1, DesiredWeight: 1 });
      expect(ep.ProductionVariants?.[0]?.DeployedImages?.[0]?.ResolvedImage).toMatch(/mlship\/tiny@sha256:[a-f0-9]{64}$/);
      expect(answer).toEqual({ value: 3, variant: 'AllTraffic' });
      const listed = await cloud.s3.client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'capture/tiny/ep-main/AllTraffic/' }));
      const key = listed.Contents?.[0]?.Key;
      expect(key).toMatch(/^capture\/tiny\/ep-main\/AllTraffic\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/[0-9a-f-]{36}\.jsonl$/);
      const line = JSON.parse((await getObject(cloud.s3.client, key!)).toString().trim().split('\n')[0]!);
      expect(line).toMatchObject({
        captureData: {
          endpointInput: {
            observedContentType: 'application/json',
            mode: 'INPUT',
            data: JSON.stringify({ instances: [{ x: 1, y: 2 }] }),
            encoding: 'JSON',
          },
          endpointOutput: { observedContentType: 'application/json', mode: 'OUTPUT', encoding: 'JSON' },
        },
        eventMetadata: { inferenceId: 'inf-42' },
        eventVersion: '0',
      });
      expect(line.eventMetadata.inferenceTime).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
      expect(JSON.parse(line.captureData.endpointOutput.data)).toEqual({ predictions: [{ value: 3 }] });
    });

    it('ends Failed, naming the ping timeout and the stderr tail, when the model never answers /ping', async () => {
      // Act
      const ep = await createEndpoint('ep-noping', 'ec-noping');

      // Assess
      expect(ep.EndpointStatus).toBe('Failed');
      expect(ep.FailureReason).toContain('did not answer GET /ping');
      expect(ep.FailureReason).toContain('warming up forever');
    });
  });

  describe('Method: CreateModel', () => {
    it('refuses an image no build tagged', async () => {
      // Act + Assess
      await expect(
        cloud.sm.send(
          new CreateModelCommand({
            ModelName: 'm-ghost',
            PrimaryContainer: { Image: '000000000000.dkr.ecr.us-east-1.amazonaws.com/mlship/tiny:nope' },
            ExecutionRoleArn: 'arn:aws:iam::000000000000:role/sm',
          }),
        ),
      ).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('not found') });
    });
  });

  describe('Method: InvokeEndpoint', () => {
    it('answers ValidationError for an unknown endpoint', async () => {
      // Act + Assess
      await expect(predict(cloud, 'ep-none')).rejects.toBeInstanceOf(ValidationError);
    });

    it("answers ModelError with the model's status when the model refuses the input", async () => {
      // Act
      const err = await cloud.runtime
        .send(
          new InvokeEndpointCommand({
            EndpointName: 'ep-main',
            ContentType: 'application/json',
            Body: JSON.stringify({ instances: [{ x: 'one' }] }),
          }),
        )
        .catch((e: unknown) => e);

      // Assess
      expect(err).toBeInstanceOf(ModelError);
      expect(err).toMatchObject({ OriginalStatusCode: 400, message: expect.stringContaining('instances[0].x: expected a number') });
    });

    it('refuses a body over 6 MB with 413, as a real-time endpoint does, before the model sees it', async () => {
      // Prepare: 6291456 bytes is the limit (botocore sagemaker-runtime BodyBlob)
      const over = Buffer.alloc(6_291_457, 0x20);
      const before = (await describeEndpoint('ep-main')).EndpointStatus;

      // Act
      const err = await cloud.runtime
        .send(new InvokeEndpointCommand({ EndpointName: 'ep-main', ContentType: 'application/json', Body: over }))
        .catch((e: unknown) => e);

      // Assess
      expect(err).toBeInstanceOf(ValidationError);
      expect(err).toMatchObject({ $metadata: { httpStatusCode: 413 }, message: 'HTTP content length exceeded 6291456 bytes.' });
      expect(before).toBe('InService');
      expect((await predict(cloud, 'ep-main')).value).toBe(3);
    });
  });

  describe('Method: UpdateEndpointWeightsAndCapacities', () => {
    it('routes by variant weight, and by TargetVariant', async () => {
      // Prepare: two variants, all weight on A
      await cloud.sagemaker.handle('CreateEndpointConfig', {
        EndpointConfigName: 'ec-ab',
        ProductionVariants: [
          { VariantName: 'A', ModelName: 'm-v1', InitialInstanceCount: 1, InitialVariantWeight: 1 },
          { VariantName: 'B', ModelName: 'm-v2', InitialInstanceCount: 1, InitialVariantWeight: 0 },
        ],
      });
      await createEndpoint('ep-ab', 'ec-ab');
      const before = await Promise.all(Array.from({ length: 10 }, () => predict(cloud, 'ep-ab')));

      // Act
      await cloud.sm.send(
        new UpdateEndpointWeightsAndCapacitiesCommand({
          EndpointName: 'ep-ab',
          DesiredWeightsAndCapacities: [
            { VariantName: 'A', DesiredWeight: 0 },
            { VariantName: 'B', DesiredWeight: 2 },
          ],
        }),
      );
      const after = await Promise.all(Array.from({ length: 10 }, () => predict(cloud, 'ep-ab')));
      const targeted = await cloud.runtime.send(
        new InvokeEndpointCommand({ EndpointName: 'ep-ab', TargetVariant: 'A', ContentType: 'text/csv', Body: '1,2\n3,4' }),
      );
      const ep = await describeEndpoint('ep-ab');

      // Assess
      expect(new Set(before.map((p) => `${p.variant}=${p.value}`))).toEqual(new Set(['A=3']));
      expect(new Set(after.map((p) => `${p.variant}=${p.value}`))).toEqual(new Set(['B=103']));
      expect(targeted.InvokedProductionVariant).toBe('A');
      expect(JSON.parse(Buffer.from(targeted.Body!).toString())).toEqual({ predictions: [{ value: 3 }, { value: 7 }] });
      expect(ep.ProductionVariants?.map((v) => [v.VariantName, v.CurrentWeight])).toEqual([
        ['A', 0],
        ['B', 2],
      ]);
    });
  });

  describe('Method: crash while serving', () => {
    it('answers 5xx while the model server is down, counts it, and restarts the server', async () => {
      // Prepare
      await createEndpoint('ep-poison', 'ec-v1');

      // Act
      const err = await cloud.runtime
        .send(
          new InvokeEndpointCommand({
            EndpointName: 'ep-poison',
            ContentType: 'application/json',
            Body: JSON.stringify({ instances: [{ x: -999, y: 0 }] }),
          }),
        )
        .catch((e: unknown) => e);
      const answer = await eventually(() => predict(cloud, 'ep-poison').catch(() => undefined));

      // Assess
      expect(err).toMatchObject({ $metadata: { httpStatusCode: 503 }, name: 'ServiceUnavailable' });
      expect(answer?.value).toBe(3);
      const [counters] = cloud.sagemaker.variantMetrics('ep-poison');
      expect(counters?.metrics.errors5xx).toBeGreaterThanOrEqual(1);
    });
  });

  describe('Method: UpdateEndpoint', () => {
    it('shifts to the new fleet with a canary, then serves the new config', async () => {
      // Prepare
      await createEndpoint('ep-canary', 'ec-v1');

      // Act
      await cloud.sm.send(
        new UpdateEndpointCommand({ EndpointName: 'ep-canary', EndpointConfigName: 'ec-v2', DeploymentConfig: CANARY_5XX }),
      );
      const during = await describeEndpoint('ep-canary');
      const second = await cloud.sm
        .send(new UpdateEndpointCommand({ EndpointName: 'ep-canary', EndpointConfigName: 'ec-v2' }))
        .catch((e: unknown) => e);
      await drive(cloud, 'ep-canary', async () => (await describeEndpoint('ep-canary')).EndpointStatus !== 'Updating');
      const after = await settled('ep-canary');

      // Assess
      expect(during.EndpointStatus).toBe('Updating');
      expect(during.EndpointConfigName).toBe('ec-v1');
      expect(during.PendingDeploymentSummary?.EndpointConfigName).toBe('ec-v2');
      expect(second).toMatchObject({ name: 'ValidationException', message: expect.stringContaining('Cannot update in-progress endpoint') });
      expect(after.EndpointStatus).toBe('InService');
      expect(after.EndpointConfigName).toBe('ec-v2');
      expect(after.FailureReason).toBeUndefined();
      expect(after.LastDeploymentConfig?.BlueGreenUpdatePolicy?.TrafficRoutingConfiguration?.Type).toBe('CANARY');
      expect((await predict(cloud, 'ep-canary')).value).toBe(103);
    });

    it('refuses a blue/green update policy between configs whose variant names differ, as deployment guardrails do, and takes it without one', async () => {
      // Prepare: a config whose one variant is named differently from the endpoint's
      await createEndpoint('ep-names', 'ec-v1');
      await modelAndConfig(cloud, 'renamed', cloud.images.v2!, 'Candidate');

      // Act
      const refused = await cloud.sm
        .send(new UpdateEndpointCommand({ EndpointName: 'ep-names', EndpointConfigName: 'ec-renamed', DeploymentConfig: CANARY_5XX }))
        .catch((e: unknown) => e);
      const unchanged = await describeEndpoint('ep-names');
      await cloud.sm.send(new UpdateEndpointCommand({ EndpointName: 'ep-names', EndpointConfigName: 'ec-renamed' }));
      const after = await settled('ep-names');

      // Assess: refused at once, naming both configs and their variants; nothing changed; the default update goes through
      expect(refused).toMatchObject({ name: 'ValidationException', $metadata: { httpStatusCode: 400 } });
      expect((refused as Error).message).toMatch(/ec-renamed.*Candidate.*ec-v1.*AllTraffic/);
      expect(unchanged).toMatchObject({ EndpointStatus: 'InService', EndpointConfigName: 'ec-v1' });
      expect(unchanged.PendingDeploymentSummary).toBeUndefined();
      expect(after).toMatchObject({ EndpointStatus: 'InService', EndpointConfigName: 'ec-renamed' });
    });

    it('lets the requests in flight on the old fleet finish before stopping it, after an update without a DeploymentConfig', async () => {
      // Prepare: a model that takes 300 ms, so requests are in flight when traffic moves
      await createEndpoint('ep-drain', 'ec-slow');

      // Act
      await cloud.sm.send(new UpdateEndpointCommand({ EndpointName: 'ep-drain', EndpointConfigName: 'ec-v2' }));
      const load = await drive(cloud, 'ep-drain', async () => (await describeEndpoint('ep-drain')).EndpointStatus !== 'Updating');
      const after = await settled('ep-drain');

      // Assess: every request answered, none failed by the old fleet's stop
      expect(after.EndpointConfigName).toBe('ec-v2');
      expect(load.ok).toBeGreaterThan(0);
      expect(load.failed).toBe(0);
    });

    it('updates all at once without a DeploymentConfig (as staging does)', async () => {
      // Prepare
      await createEndpoint('ep-staging', 'ec-v2');

      // Act
      await cloud.sm.send(new UpdateEndpointCommand({ EndpointName: 'ep-staging', EndpointConfigName: 'ec-v1' }));
      const after = await settled('ep-staging');

      // Assess
      expect(after).toMatchObject({ EndpointStatus: 'InService', EndpointConfigName: 'ec-v1' });
      expect((await predict(cloud, 'ep-staging')).value).toBe(3);
    });

    it('rolls back to the old fleet when the new model crashes (5xx alarm)', async () => {
      // Prepare
      await createEndpoint('ep-crash', 'ec-v1');

      // Act
      const after = await updateUnderLoad('ep-crash', 'ec-crash', CANARY);

      // Assess
      expect(after.EndpointStatus).toBe('InService');
      expect(after.EndpointConfigName).toBe('ec-v1');
      expect(after.FailureReason).toMatch(/^Rolled back: /);
      expect(after.FailureReason).toMatch(/alarm mlship-tiny-5xx|exited while baking/);
      expect((await predict(cloud, 'ep-crash')).value).toBe(3);
    });

    it('rolls back to the old fleet when the new model is slow (p99 alarm)', async () => {
      // Prepare
      await createEndpoint('ep-slow', 'ec-v1');

      // Act
      const after = await updateUnderLoad('ep-slow', 'ec-slow', CANARY);

      // Assess
      expect(after.EndpointStatus).toBe('InService');
      expect(after.EndpointConfigName).toBe('ec-v1');
      expect(after.FailureReason).toMatch(
        /^Rolled back: alarm mlship-tiny-p99-latency \(p99 model latency \(µs\) of variant AllTraffic, old and new fleet together as CloudWatch sees them\): Threshold Crossed: 1 out of the last 1 datapoints \[\d+\] was greater than the threshold \(100000\)/,
      );
      expect((await predict(cloud, 'ep-slow')).value).toBe(3);
    });

    it('rolls back a canary answering 500 within the bake, once its alarm has 2 breaching minutes of 3', async () => {
      // Prepare
      await createEndpoint('ep-two-of-three', 'ec-v1');

      // Act
      const after = await updateUnderLoad('ep-two-of-three', 'ec-error', canaryWith('two-of-three-5xx', 300));

      // Assess: the mixed minutes (half the traffic failing) breach; the alarm says so as CloudWatch would.
      // On a loaded machine one minute of the three can pass without a call: it is missing, not breaching.
      expect(after).toMatchObject({ EndpointStatus: 'InService', EndpointConfigName: 'ec-v1' });
      expect(after.FailureReason).toMatch(
        /^Rolled back: alarm two-of-three-5xx \(5xx rate of variant AllTraffic, old and new fleet together as CloudWatch sees them\): Threshold Crossed: [23] out of the last 3 datapoints \[[\d., ]+(?:, 1 missing, treated as notBreaching)?\] were greater than the threshold \(0\.01\) \(minimum 2 datapoints for OK -> ALARM transition\)\.$/,
      );
      expect((await predict(cloud, 'ep-two-of-three')).value).toBe(3);
    });

    it("promotes a canary whose errors fall in fewer minutes than the alarm's DatapointsToAlarm", async () => {
      // Prepare
      await createEndpoint('ep-one-bad-minute', 'ec-v1');
      const minuteMs = 600; // 60 s × timeScale 0.01

      // Act: once the canary takes traffic, a burst in the first third of one minute, then silence
      await cloud.sm.send(
        new UpdateEndpointCommand({
          EndpointName: 'ep-one-bad-minute',
          EndpointConfigName: 'ec-error',
          DeploymentConfig: canaryWith('two-of-three-5xx', 300),
        }),
      );
      await eventually(async () => (cloud.sagemaker.variantMetrics('ep-one-bad-minute').length === 2 ? true : undefined));
      await sleep(minuteMs - (Date.now() % minuteMs) + 10);
      const until = Date.now() + minuteMs / 3;
      let failed = 0;
      await drive(cloud, 'ep-one-bad-minute', async () => Date.now() > until).then((r) => (failed = r.failed));
      const after = await settled('ep-one-bad-minute');

      // Assess: one breaching minute of the three, the others missing (notBreaching): no rollback
      expect(failed).toBeGreaterThan(0);
      expect(after).toMatchObject({ EndpointStatus: 'InService', EndpointConfigName: 'ec-error' });
      expect(after.FailureReason).toBeUndefined();
    });

    it.each([
      [
        'quiet-breaching',
        'ec-v1',
        /^Rolled back: alarm quiet-breaching .*: Threshold Crossed: 1 out of the last 1 datapoints \[1 missing, treated as breaching\]/,
      ],
      ['quiet-notBreaching', 'ec-v2', undefined],
      ['quiet-missing', 'ec-v2', undefined],
    ])('treats minutes without traffic as its TreatMissingData says (%s)', async (alarm, config, reason) => {
      // Prepare
      const endpoint = `ep-${alarm.toLowerCase()}`;
      await createEndpoint(endpoint, 'ec-v1');

      // Act: nobody calls the endpoint while the canary bakes
      await cloud.sm.send(
        new UpdateEndpointCommand({ EndpointName: endpoint, EndpointConfigName: 'ec-v2', DeploymentConfig: canaryWith(alarm) }),
      );
      const after = await settled(endpoint);

      // Assess
      expect(after).toMatchObject({ EndpointStatus: 'InService', EndpointConfigName: config });
      if (reason) expect(after.FailureReason).toMatch(reason);
      else expect(after.FailureReason).toBeUndefined();
    });

    it('keeps the old fleet serving when the new model never answers /ping', async () => {
      // Prepare
      await createEndpoint('ep-keep', 'ec-v1');

      // Act
      const after = await updateUnderLoad('ep-keep', 'ec-noping', CANARY);

      // Assess
      expect(after.EndpointStatus).toBe('InService');
      expect(after.EndpointConfigName).toBe('ec-v1');
      expect(after.FailureReason).toMatch(/^Failed to update endpoint: model server ep-keep\/AllTraffic .* did not answer GET \/ping/);
      expect((await predict(cloud, 'ep-keep')).value).toBe(3);
    });

    it.each([
      [
        'a canary on a one-instance fleet',
        'ec-single',
        { Type: 'CANARY', CanarySize: { Type: 'CAPACITY_PERCENT', Value: 20 }, WaitIntervalInSeconds: 60 },
        /CanarySize: the canary is at least one whole instance, the whole of a 1-instance fleet/,
      ],
      [
        'a canary over half the fleet',
        'ec-v2',
        { Type: 'CANARY', CanarySize: { Type: 'INSTANCE_COUNT', Value: 2 }, WaitIntervalInSeconds: 60 },
        /CanarySize: the canary of 2 instance\(s\) must be at most 50% of the variant's 2 instance\(s\)/,
      ],
      [
        'a linear step under 10 percent',
        'ec-v2',
        { Type: 'LINEAR', LinearStepSize: { Type: 'CAPACITY_PERCENT', Value: 5 }, WaitIntervalInSeconds: 60 },
        /LinearStepSize: a linear step must be 10-50% of the fleet, got 5%/,
      ],
      [
        'a wait over an hour',
        'ec-v2',
        { Type: 'ALL_AT_ONCE', WaitIntervalInSeconds: 7200 },
        /Value '7200' at 'deploymentConfig\.blueGreenUpdatePolicy\.trafficRoutingConfiguration\.waitIntervalInSeconds' failed to satisfy constraint: Member must have value less than or equal to 3600/,
      ],
    ])('refuses %s with ValidationException, as SageMaker does', async (_what, config, routing, message) => {
      // Act
      const refused = cloud.sm.send(
        new UpdateEndpointCommand({
          EndpointName: 'ep-main',
          EndpointConfigName: config,
          DeploymentConfig: { BlueGreenUpdatePolicy: { TrafficRoutingConfiguration: routing as never }, ...ROLLBACK },
        }),
      );

      // Assess: refused up front, and the endpoint still serves its config
      await expect(refused).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringMatching(message) });
      expect((await describeEndpoint('ep-main')).EndpointStatus).toBe('InService');
    });

    it('refuses a rollback alarm it cannot evaluate', async () => {
      // Act + Assess
      await expect(
        cloud.sm.send(
          new UpdateEndpointCommand({
            EndpointName: 'ep-main',
            EndpointConfigName: 'ec-v2',
            DeploymentConfig: { AutoRollbackConfiguration: { Alarms: [{ AlarmName: 'cpu-high' }] } },
          }),
        ),
      ).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('cpu-high') });
    });
  });

  describe('Method: DeleteEndpoint', () => {
    it('stops the model servers and forgets the endpoint, so a restart does not start it again', async () => {
      // Prepare
      await createEndpoint('ep-delete', 'ec-v1');
      const ports = cloud.sagemaker.variantMetrics('ep-delete').map((v) => v.port);
      expect(ports.length).toBeGreaterThan(0);

      // Act
      await cloud.sm.send(new DeleteEndpointCommand({ EndpointName: 'ep-delete' }));

      // Assess
      await expect(describeEndpoint('ep-delete')).rejects.toThrow(/Could not find endpoint/);
      for (const port of ports)
        await expect(fetch(`http://127.0.0.1:${port}/ping`, { signal: AbortSignal.timeout(2000) }), `port ${port}`).rejects.toThrow();
      expect(existsSync(join(cloud.dataDir, 'sagemaker', 'endpoints', 'ep-delete.json'))).toBe(false);
      await expect(cloud.sm.send(new DeleteEndpointCommand({ EndpointName: 'ep-delete' }))).rejects.toThrow(/Could not find endpoint/);
    });
  });

  describe('Method: restart', () => {
    it('starts InService endpoints again from their bundles, and deploys an interrupted update again, not as a rollback (issue 14.7)', async () => {
      // Prepare: ep-ab's journal says an update was running when the cloud stopped
      const file = join(cloud.dataDir, 'sagemaker', 'endpoints', 'ep-ab.json');

      // Act
      await cloud.restartSageMaker(() => {
        const rec = JSON.parse(readFileSync(file, 'utf8'));
        writeFileSync(
          file,
          JSON.stringify({ ...rec, EndpointStatus: 'Updating', pending: { EndpointConfigName: 'ec-v2', StartTime: rec.CreationTime } }),
        );
      });
      const interrupted = await settled('ep-ab');
      const answer = await predict(cloud, 'ep-main');
      const ep = await describeEndpoint('ep-canary');

      // Assess
      expect(answer.value).toBe(3);
      expect(ep.EndpointStatus).toBe('InService');
      expect((await predict(cloud, 'ep-canary')).value).toBe(103);
      expect((await describeEndpoint('ep-noping')).EndpointStatus).toBe('Failed');
      expect(interrupted).toMatchObject({ EndpointStatus: 'InService', EndpointConfigName: 'ec-v2' });
      expect(interrupted.FailureReason).toBeUndefined();
      expect(interrupted.PendingDeploymentSummary).toBeUndefined();
      expect((await predict(cloud, 'ep-ab')).value).toBe(103);
    });
  });
});
