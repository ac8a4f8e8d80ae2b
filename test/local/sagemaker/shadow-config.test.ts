import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Arns, createEndpointConfig, type EndpointConfigRecord, type ModelRecord } from '../../../lib/local/services/sagemaker/resources';
import { ResourceStore } from '../../../lib/local/services/sagemaker/store';

describe('Function: createEndpointConfig (ShadowProductionVariants)', () => {
  let dir: string;
  let configs: ResourceStore<EndpointConfigRecord>;
  let models: ResourceStore<ModelRecord>;
  const arns = new Arns('us-east-1', '000000000000');
  const variant = (VariantName: string, InitialVariantWeight = 1) => ({
    VariantName,
    ModelName: 'm',
    InitialInstanceCount: 1,
    InitialVariantWeight,
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mlship-shadow-config-'));
    configs = new ResourceStore(join(dir, 'configs'));
    models = new ResourceStore(join(dir, 'models'));
    models.put('m', { ModelName: 'm' } as ModelRecord);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('records one shadow variant beside one production variant', () => {
    createEndpointConfig(
      { EndpointConfigName: 'c', ProductionVariants: [variant('AllTraffic')], ShadowProductionVariants: [variant('Shadow', 0.5)] },
      configs,
      models,
      arns,
    );
    expect(configs.get('c')).toMatchObject({
      ProductionVariants: [{ VariantName: 'AllTraffic' }],
      ShadowProductionVariants: [{ VariantName: 'Shadow', InitialVariantWeight: 0.5 }],
    });
  });

  it.each([
    ['two shadows', { ProductionVariants: [variant('A')], ShadowProductionVariants: [variant('S1'), variant('S2')] }, /at most 1 variant/],
    [
      'two production variants',
      { ProductionVariants: [variant('A'), variant('B')], ShadowProductionVariants: [variant('S')] },
      /exactly one production variant/,
    ],
    [
      'a name used twice',
      { ProductionVariants: [variant('A')], ShadowProductionVariants: [variant('A')] },
      /ShadowProductionVariants\[0\]\.VariantName: the variant name A is used more than once/,
    ],
    [
      'an unknown model',
      { ProductionVariants: [variant('A')], ShadowProductionVariants: [{ ...variant('S'), ModelName: 'nope' }] },
      /Could not find model/,
    ],
  ])('refuses %s with ValidationException', (_, input, message) => {
    expect(() => createEndpointConfig({ EndpointConfigName: 'c', ...input }, configs, models, arns)).toThrow(message);
    expect(configs.has('c')).toBe(false);
  });
});
