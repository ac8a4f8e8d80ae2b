import './task-env';
import { DeleteEndpointCommand, DeleteModelCommand, DescribeEndpointCommand, UpdateEndpointCommand } from '@aws-sdk/client-sagemaker';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../../../lambdas/prune-versions/handler';
import { fakeS3, sdkError, type FakeBucket } from './fake-s3';
import { fakeSageMaker, type FakeSageMaker } from './fake-sagemaker';
import { releaseEvent } from './fixtures';

const V0 = '1111111-aaaa';
const V1 = '2222222-bbbb';
const V2 = 'abcdef1-0a0b'; // the release of releaseEvent()
const model = (v: string, m = 'delivery-time') => `mlship-${m}-${v}`;
const pointer = (version: string, previous: string | null) => ({
  model: 'delivery-time',
  version,
  since: 't',
  executionArn: 'x',
  endpointName: 'mlship-delivery-time-production',
  previous,
});

/** Three releases of delivery-time, each with its model and both configs; a neighbour model whose name extends ours; someone else's resources. */
function seed(sm: FakeSageMaker): void {
  for (const v of [V0, V1, V2]) {
    sm.models.add(model(v));
    sm.configs.set(`${model(v)}-s`, [model(v)]);
    sm.configs.set(`${model(v)}-p`, [model(v)]);
  }
  sm.models.add(model(V0, 'delivery-time-eu'));
  sm.configs.set(`${model(V0, 'delivery-time-eu')}-s`, [model(V0, 'delivery-time-eu')]);
  sm.models.add('team-mlship-delivery-time-1111111-aaaa');
  sm.configs.set('other-config', ['team-mlship-delivery-time-1111111-aaaa']);
}

describe('Handler: PruneVersions', () => {
  let bucket: FakeBucket;
  let sm: FakeSageMaker;
  beforeEach(() => {
    bucket = fakeS3();
    sm = fakeSageMaker({ pageSize: 2 });
    seed(sm);
  });
  afterEach(() => {
    bucket.mock.restore();
    sm.mock.restore();
  });

  it('after a promotion keeps the production and previous versions and what the endpoints serve, and deletes the rest of this model only', async () => {
    // Prepare: V2 was just promoted over V1; staging still serves V2's staging config
    bucket.put('registry/delivery-time/production.json', pointer(V2, V1));
    sm.endpoints.set('mlship-delivery-time-production', { config: `${model(V2)}-p`, status: 'InService' });
    sm.endpoints.set('mlship-delivery-time-staging', { config: `${model(V2)}-s`, status: 'InService' });

    // Act
    const result = await handler({ ...releaseEvent(V2), outcome: 'promoted' });

    // Assess
    expect(result.failures).toEqual([]);
    expect(result.keptVersions).toEqual([V2, V1]);
    expect(result.deletedConfigs.sort()).toEqual([`${model(V0)}-p`, `${model(V0)}-s`, `${model(V1)}-s`]);
    expect(result.deletedModels).toEqual([model(V0)]);
    expect([...sm.configs.keys()].sort()).toEqual(
      ['other-config', `${model(V0, 'delivery-time-eu')}-s`, `${model(V1)}-p`, `${model(V2)}-p`, `${model(V2)}-s`].sort(),
    );
    expect([...sm.models].sort()).toEqual(
      [model(V0, 'delivery-time-eu'), model(V1), model(V2), 'team-mlship-delivery-time-1111111-aaaa'].sort(),
    );
    // It never touches an endpoint.
    expect(sm.mock).not.toReceiveCommand(DeleteEndpointCommand);
    expect(sm.mock).not.toReceiveCommand(UpdateEndpointCommand);
    expect(bucket.json('registry/delivery-time/pruning.json')).toMatchObject({
      version: V2,
      outcome: 'promoted',
      deletedModels: [model(V0)],
      failures: [],
    });
  });

  it("after a rollback deletes the rolled-back version's production config but keeps its model while staging uses it", async () => {
    // Prepare: V2 rolled back, production still V1 (previous V0), staging serves V2
    bucket.put('registry/delivery-time/production.json', pointer(V1, V0));
    sm.endpoints.set('mlship-delivery-time-production', { config: `${model(V1)}-p`, status: 'InService' });
    sm.endpoints.set('mlship-delivery-time-staging', { config: `${model(V2)}-s`, status: 'InService' });

    // Act
    const result = await handler({ ...releaseEvent(V2), outcome: 'rolled-back' });

    // Assess
    expect(result.deletedConfigs.sort()).toEqual([`${model(V0)}-s`, `${model(V1)}-s`, `${model(V2)}-p`]);
    expect(result.deletedModels).toEqual([]);
    expect(sm.models.has(model(V2))).toBe(true);
    expect(sm.configs.has(`${model(V0)}-p`)).toBe(true);
  });

  it('keeps a config an endpoint is being moved to', async () => {
    bucket.put('registry/delivery-time/production.json', pointer(V1, null));
    sm.endpoints.set('mlship-delivery-time-production', { config: `${model(V1)}-p`, status: 'Updating', pendingConfig: `${model(V0)}-p` });
    const result = await handler({ ...releaseEvent(V2), outcome: 'promoted' });
    expect(sm.configs.has(`${model(V0)}-p`)).toBe(true);
    expect(sm.models.has(model(V0))).toBe(true);
    expect(result.deletedModels).toEqual([model(V2)]);
  });

  it('records a failed delete and goes on, without failing the release', async () => {
    // Prepare
    bucket.put('registry/delivery-time/production.json', pointer(V2, V1));
    sm.mock.on(DeleteModelCommand).rejects(sdkError('AccessDeniedException', 400, 'not authorized to perform: sagemaker:DeleteModel'));

    // Act
    const result = await handler({ ...releaseEvent(V2), outcome: 'promoted' });

    // Assess
    expect(result.failures).toEqual([
      { name: model(V0), error: 'AccessDeniedException: not authorized to perform: sagemaker:DeleteModel' },
    ]);
    expect(result.deletedConfigs.length).toBeGreaterThan(0);
    expect(bucket.json('registry/delivery-time/pruning.json')).toMatchObject({ failures: [{ name: model(V0) }] });
  });

  it('deletes nothing when it cannot tell what the endpoints serve', async () => {
    bucket.put('registry/delivery-time/production.json', pointer(V2, V1));
    sm.mock.on(DescribeEndpointCommand).rejects(sdkError('ThrottlingException', 400, 'Rate exceeded'));
    const before = { models: [...sm.models], configs: [...sm.configs.keys()] };

    const result = await handler({ ...releaseEvent(V2), outcome: 'promoted' });

    expect(result.failures).toEqual([{ name: 'inventory', error: 'ThrottlingException: Rate exceeded' }]);
    expect({ models: [...sm.models], configs: [...sm.configs.keys()] }).toEqual(before);
  });
});
