/**
 * The edge's model check per request (lib/local/core/request-check.ts), against a named reference
 * measured in the same run: JSON.parse of the same request body, which the edge does anyway.
 * Two requests: CreateEndpointConfig (nested structures, lists, enums, patterns) and the hot
 * path, InvokeEndpoint (URI and header members, the body's length).
 */
import { RequestChecks } from '../../lib/local/core/request-check';

const ROUNDS = 50_000;

function perCall(fn: () => void): number {
  for (let i = 0; i < 2_000; i++) fn();
  const start = process.hrtime.bigint();
  for (let i = 0; i < ROUNDS; i++) fn();
  return Number(process.hrtime.bigint() - start) / ROUNDS / 1000;
}

const loadStart = process.hrtime.bigint();
const checks = new RequestChecks();
const loadMs = Number(process.hrtime.bigint() - loadStart) / 1e6;

const config = {
  EndpointConfigName: 'mlship-delivery-time-abc1234-5678',
  ProductionVariants: [
    {
      VariantName: 'AllTraffic',
      ModelName: 'mlship-delivery-time-abc1234-5678',
      InitialInstanceCount: 2,
      InstanceType: 'ml.m5.large',
      InitialVariantWeight: 1,
    },
  ],
  DataCaptureConfig: {
    EnableCapture: true,
    InitialSamplingPercentage: 100,
    DestinationS3Uri: 's3://mlship-artifacts/capture/delivery-time',
    CaptureOptions: [{ CaptureMode: 'Input' }, { CaptureMode: 'Output' }],
  },
  Tags: [{ Key: 'mlship:model', Value: 'delivery-time' }],
};
const configText = JSON.stringify(config);
const body = Buffer.from(
  JSON.stringify({ instances: [{ distance_km: 12.5, weight_kg: 3.2, service_level: 'express', origin_region: 'north', weekday: 2 }] }),
);
const headers = { 'content-type': 'application/json', 'x-amzn-sagemaker-inference-id': 'bench-1' };

const rows = [
  [
    'CreateEndpointConfig',
    perCall(() => checks.json('SageMaker', 'CreateEndpointConfig', config, {})),
    perCall(() => JSON.parse(configText)),
  ],
  [
    'InvokeEndpoint',
    perCall(() => checks.invokeEndpoint('mlship-delivery-time-production', headers, body)),
    perCall(() => JSON.parse(body.toString('utf8'))),
  ],
] as const;

console.log(`loading the 5 service models: ${loadMs.toFixed(1)} ms (once per start)`);
for (const [name, check, parse] of rows) {
  console.log(
    `${name}: check ${check.toFixed(2)} µs/request, JSON.parse of its body ${parse.toFixed(2)} µs (reference), ratio ${(check / parse).toFixed(1)}x`,
  );
}
