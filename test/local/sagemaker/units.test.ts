import { describe, expect, it } from 'vitest';
import { captureLine, captureSettings } from '../../../lib/local/services/sagemaker/capture/format';
import { alarmDefinition } from '../../../lib/config';
import { completeAlarm, manifestAlarms, planDeployment, type LocalAlarm } from '../../../lib/local/services/sagemaker/deploy';
import { tinyModel } from '../fixtures/harness';
import { VariantMetrics } from '../../../lib/local/services/sagemaker/metrics';

const known = new Map<string, LocalAlarm>([['m-5xx', { metric: '5xx-rate', threshold: 0.05, datapointsToAlarm: 2, evaluationPeriods: 3 }]]);
const registry = (name: string) => (known.has(name) ? completeAlarm(known.get(name)!) : undefined);

describe('Function: planDeployment', () => {
  it('makes one step for ALL_AT_ONCE and scales the waits by timeScale', () => {
    // Act
    const plan = planDeployment(
      {
        BlueGreenUpdatePolicy: {
          TrafficRoutingConfiguration: { Type: 'ALL_AT_ONCE', WaitIntervalInSeconds: 300 },
          TerminationWaitInSeconds: 60,
          MaximumExecutionTimeoutInSeconds: 3600,
        },
      },
      1,
      0.02,
      registry,
    );

    // Assess
    expect(plan).toMatchObject({
      type: 'ALL_AT_ONCE',
      steps: [100],
      waitMs: 6000,
      terminationWaitMs: 1200,
      maxExecutionMs: 72_000,
      alarms: [],
    });
  });

  it('shifts a canary share first, by capacity percent or by instance count', () => {
    // Act
    const pct = planDeployment(
      { BlueGreenUpdatePolicy: { TrafficRoutingConfiguration: { Type: 'CANARY', CanarySize: { Type: 'CAPACITY_PERCENT', Value: 10 } } } },
      2,
      1,
      registry,
    );
    const count = planDeployment(
      { BlueGreenUpdatePolicy: { TrafficRoutingConfiguration: { Type: 'CANARY', CanarySize: { Type: 'INSTANCE_COUNT', Value: 1 } } } },
      4,
      1,
      registry,
    );

    // Assess
    expect(pct.steps).toEqual([10, 100]);
    expect(count.steps).toEqual([25, 100]);
  });

  it('shifts in equal linear steps', () => {
    // Act
    const plan = planDeployment(
      {
        BlueGreenUpdatePolicy: { TrafficRoutingConfiguration: { Type: 'LINEAR', LinearStepSize: { Type: 'CAPACITY_PERCENT', Value: 30 } } },
      },
      4,
      1,
      registry,
    );

    // Assess
    expect(plan.steps).toEqual([30, 60, 90, 100]);
  });

  it('takes alarm definitions from the registry (the rest as the rollback timing), else from the name suffix', () => {
    // Act
    const plan = planDeployment(
      { AutoRollbackConfiguration: { Alarms: [{ AlarmName: 'm-5xx' }, { AlarmName: 'other-p99-latency' }] } },
      1,
      1,
      registry,
    );

    // Assess
    expect(plan.alarms).toEqual([
      { name: 'm-5xx', definition: alarmDefinition('5xx-rate', 0.05, { datapointsToAlarm: 2, evaluationPeriods: 3 }) },
      { name: 'other-p99-latency', definition: alarmDefinition('p99-latency', 1_000_000) },
    ]);
    expect(plan.alarms[0]!.definition).toMatchObject({
      periodSeconds: 60,
      treatMissingData: 'notBreaching',
      comparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('refuses a registry alarm CloudWatch would refuse, or one finer than the minute SageMaker publishes', () => {
    // Act + Assess
    expect(() => completeAlarm({ metric: '5xx-rate', threshold: 0.1, evaluationPeriods: 2, datapointsToAlarm: 3 })).toThrow(
      /1 <= datapoints to alarm \(3\) <= evaluation periods \(2\)/,
    );
    expect(() => completeAlarm({ metric: '5xx-rate', threshold: 0.1, periodSeconds: 10 })).toThrow(/whole number of minutes .* got 10s/);
    expect(
      completeAlarm({ metric: '5xx-rate', threshold: 0.1, periodSeconds: 300, evaluationPeriods: 2, datapointsToAlarm: 2 }),
    ).toMatchObject({ periodSeconds: 300 });
  });

  it("reads the manifests' alarm definitions under the rollback alarm prefix, as CDK creates them", () => {
    // Prepare: an all-at-once rollout, so the 5xx threshold is the manifest's own
    const model = tinyModel();
    model.manifest.deployment.alarms = { max5xxRate: 0.2, p99LatencyMs: 250 };
    model.manifest.deployment.strategy = 'all-at-once';

    // Act
    const alarms = manifestAlarms([model], 'mlship-');

    // Assess
    expect(Object.fromEntries(alarms)).toEqual({
      'mlship-tiny-5xx': alarmDefinition('5xx-rate', 0.2),
      'mlship-tiny-p99-latency': alarmDefinition('p99-latency', 250_000),
    });
  });

  it("refuses what SageMaker's blue/green limits refuse, with ValidationException", () => {
    // Prepare
    const routing = (r: Record<string, unknown>, termination?: number): Record<string, unknown> => ({
      BlueGreenUpdatePolicy: { TrafficRoutingConfiguration: r, TerminationWaitInSeconds: termination },
    });
    const refusal = (dc: Record<string, unknown>, instances: number) => {
      try {
        planDeployment(dc, instances, 1, registry);
      } catch (err) {
        return err as Error;
      }
      return undefined;
    };

    // Act + Assess
    expect(refusal(routing({ Type: 'CANARY', CanarySize: { Type: 'CAPACITY_PERCENT', Value: 10 } }), 1)).toMatchObject({
      name: 'ValidationException',
      message: expect.stringMatching(/needs 2 or more instances/),
    });
    expect(refusal(routing({ Type: 'CANARY', CanarySize: { Type: 'CAPACITY_PERCENT', Value: 60 } }), 4)?.message).toMatch(
      /CanarySize: the canary must be at most 50% of the fleet, got 60%/,
    );
    expect(refusal(routing({ Type: 'CANARY', CanarySize: { Type: 'INSTANCE_COUNT', Value: 3 } }), 4)?.message).toMatch(
      /must be at most 50% of the variant's 4 instance/,
    );
    expect(refusal(routing({ Type: 'LINEAR', LinearStepSize: { Type: 'INSTANCE_COUNT', Value: 1 } }), 20)?.message).toMatch(
      /LinearStepSize: a linear step of 1 instance\(s\) must be 10-50%/,
    );
    expect(refusal(routing({ Type: 'LINEAR', LinearStepSize: { Type: 'CAPACITY_PERCENT', Value: 60 } }), 4)?.message).toMatch(/10-50%/);
    expect(refusal(routing({ Type: 'ALL_AT_ONCE', WaitIntervalInSeconds: 3601 }), 1)?.message).toMatch(/less than or equal to 3600/);
    expect(refusal(routing({ Type: 'ALL_AT_ONCE', WaitIntervalInSeconds: 0 }, 4000), 1)?.message).toMatch(/terminationWaitInSeconds/);
    expect(
      refusal(
        {
          BlueGreenUpdatePolicy: {
            TrafficRoutingConfiguration: { Type: 'ALL_AT_ONCE', WaitIntervalInSeconds: 0 },
            MaximumExecutionTimeoutInSeconds: 60,
          },
        },
        1,
      )?.message,
    ).toMatch(/greater than or equal to 600/);
    // accepted: the smallest legal canary and linear rollouts
    expect(refusal(routing({ Type: 'CANARY', CanarySize: { Type: 'INSTANCE_COUNT', Value: 1 } }), 2)).toBeUndefined();
    expect(refusal(routing({ Type: 'LINEAR', LinearStepSize: { Type: 'INSTANCE_COUNT', Value: 1 } }), 10)).toBeUndefined();
  });

  it('names the field of a bad policy', () => {
    // Act + Assess
    expect(() => planDeployment({ BlueGreenUpdatePolicy: { TrafficRoutingConfiguration: { Type: 'CANARY' } } }, 1, 1, registry)).toThrow(
      /CanarySize is required/,
    );
    expect(() => planDeployment({ BlueGreenUpdatePolicy: { TrafficRoutingConfiguration: { Type: 'SOMETIMES' } } }, 1, 1, registry)).toThrow(
      /Type must be one of/,
    );
  });
});

describe('Class: VariantMetrics', () => {
  describe('Method: quantile', () => {
    it('reads p99 within the 5 % bucket resolution and counts errors by class', () => {
      // Prepare
      const m = new VariantMetrics();
      for (let i = 1; i <= 1000; i++) m.record(i % 100 === 0 ? 503 : i % 50 === 0 ? 400 : 200, i / 10);

      // Act
      const snap = m.snapshot();

      // Assess
      expect(snap.invocations).toBe(1000);
      expect(snap.errors5xx).toBe(10);
      expect(snap.errors4xx).toBe(10);
      expect(snap.p99Ms).toBeGreaterThanOrEqual(99);
      expect(snap.p99Ms).toBeLessThanOrEqual(99 * 1.05);
      expect(VariantMetrics.merge([m, m]).invocations).toBe(2000);
    });
  });
});

describe('Function: captureLine', () => {
  it('writes the SageMaker capture format, JSON and CSV as text and other types as base64', () => {
    // Prepare
    const s = captureSettings(
      { EnableCapture: true, DestinationS3Uri: 's3://b/capture/m/', InitialSamplingPercentage: 100 },
      'DataCaptureConfig',
    )!;
    const time = Date.parse('2026-11-27T01:02:03.456Z');

    // Act
    const json = JSON.parse(
      captureLine(
        {
          input: Buffer.from('{"a":1}'),
          inputContentType: 'application/json',
          output: Buffer.from('{"p":[1]}'),
          outputContentType: 'application/json',
          inferenceId: 'id-1',
          time,
        },
        s,
      ),
    );
    const csv = JSON.parse(
      captureLine(
        {
          input: new Uint8Array(Buffer.from('1,2')),
          inputContentType: 'text/csv',
          output: Buffer.from([0xff, 0x00]),
          outputContentType: 'application/x-npy',
          time,
        },
        s,
      ),
    );

    // Assess
    expect(s).toMatchObject({ bucket: 'b', prefix: 'capture/m', captureInput: true, captureOutput: true });
    expect(json).toEqual({
      captureData: {
        endpointInput: { observedContentType: 'application/json', mode: 'INPUT', data: '{"a":1}', encoding: 'JSON' },
        endpointOutput: { observedContentType: 'application/json', mode: 'OUTPUT', data: '{"p":[1]}', encoding: 'JSON' },
      },
      eventMetadata: { eventId: expect.stringMatching(/^[0-9a-f-]{36}$/), inferenceId: 'id-1', inferenceTime: '2026-11-27T01:02:03Z' },
      eventVersion: '0',
    });
    expect(csv.captureData.endpointInput).toMatchObject({ data: '1,2', encoding: 'CSV' });
    expect(csv.captureData.endpointOutput).toMatchObject({ data: '/wA=', encoding: 'BASE64' });
    expect(csv.eventMetadata.inferenceId).toBeUndefined();
  });

  it('gives each invocation its own second and each config its own content types', () => {
    // Prepare: a config that captures a custom type as JSON, and one that does not.
    const custom = captureSettings(
      { DestinationS3Uri: 's3://b/c', CaptureContentTypeHeader: { JsonContentTypes: ['application/x-custom'] } },
      'DataCaptureConfig',
    )!;
    const plain = captureSettings({ DestinationS3Uri: 's3://b/c' }, 'DataCaptureConfig')!;
    const at = (time: number, s: typeof plain) =>
      JSON.parse(
        captureLine(
          {
            input: Buffer.from('{"a":1}'),
            inputContentType: 'application/x-custom',
            output: Buffer.from('1'),
            outputContentType: 'text/csv',
            time,
          },
          s,
        ),
      );
    const t = Date.parse('2026-11-27T01:02:03.999Z');

    // Act
    const lines = [at(t, custom), at(t + 1, plain), at(t - 3_000, custom)];

    // Assess
    expect(lines.map((l) => l.eventMetadata.inferenceTime)).toEqual([
      '2026-11-27T01:02:03Z',
      '2026-11-27T01:02:04Z',
      '2026-11-27T01:02:00Z',
    ]);
    expect(lines.map((l) => l.captureData.endpointInput.encoding)).toEqual(['JSON', 'BASE64', 'JSON']);
    expect(lines[1].captureData.endpointInput.data).toBe(Buffer.from('{"a":1}').toString('base64'));
  });
});
