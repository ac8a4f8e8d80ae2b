import {
  DeleteEndpointCommand,
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  ListEndpointConfigsCommand,
  ListEndpointsCommand,
  ListModelsCommand,
  SageMakerClient,
  type EndpointStatus,
} from '@aws-sdk/client-sagemaker';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { sdkError } from './fake-s3';

/**
 * SageMaker's models, endpoint configs and endpoints in memory behind aws-sdk-client-mock:
 * List* with NameContains and pages of `pageSize` (NextToken), Describe*, and Delete* that
 * answer a missing resource with SageMaker's "Could not find" ValidationException. A
 * deleted endpoint goes to `Deleting` and disappears after `deletingLists` more listings.
 */
export interface FakeSageMaker {
  mock: AwsClientStub<SageMakerClient>;
  models: Set<string>;
  /** config name -> the models of its variants */
  configs: Map<string, string[]>;
  endpoints: Map<string, { config: string; status: EndpointStatus; pendingConfig?: string }>;
}

export function fakeSageMaker(opts: { pageSize?: number; deletingLists?: number } = {}): FakeSageMaker {
  const pageSize = opts.pageSize ?? 2;
  const mock = mockClient(SageMakerClient);
  const models = new Set<string>();
  const configs = new Map<string, string[]>();
  const endpoints = new Map<string, { config: string; status: EndpointStatus; pendingConfig?: string }>();
  const deleting = new Map<string, number>();
  const notFound = (what: string, name: string) =>
    sdkError('ValidationException', 400, `Could not find ${what} "arn:aws:sagemaker:us-east-1:000000000000:${what}/${name}".`);
  const page = <T>(names: string[], input: { NameContains?: string; NextToken?: string }, shape: (name: string) => T) => {
    const matching = names.filter((n) => n.includes(input.NameContains ?? '')).sort();
    const start = input.NextToken ? Number(input.NextToken) : 0;
    const next = start + pageSize < matching.length ? String(start + pageSize) : undefined;
    return { items: matching.slice(start, start + pageSize).map(shape), NextToken: next };
  };

  mock.on(ListModelsCommand).callsFake((input) => {
    const { items, NextToken } = page([...models], input, (ModelName) => ({ ModelName }));
    return { Models: items, NextToken };
  });
  mock.on(ListEndpointConfigsCommand).callsFake((input) => {
    const { items, NextToken } = page([...configs.keys()], input, (EndpointConfigName) => ({ EndpointConfigName }));
    return { EndpointConfigs: items, NextToken };
  });
  mock.on(ListEndpointsCommand).callsFake((input) => {
    // A listing is its first page and the ones after it.
    if (!input.NextToken)
      for (const [name, left] of deleting) {
        if (left <= 0) {
          endpoints.delete(name);
          deleting.delete(name);
        } else deleting.set(name, left - 1);
      }
    const { items, NextToken } = page([...endpoints.keys()], input, (EndpointName) => ({
      EndpointName,
      EndpointStatus: endpoints.get(EndpointName)!.status,
    }));
    return { Endpoints: items, NextToken };
  });
  mock.on(DescribeEndpointCommand).callsFake(({ EndpointName }) => {
    const ep = endpoints.get(EndpointName);
    if (!ep) throw notFound('endpoint', EndpointName);
    return {
      EndpointName,
      EndpointStatus: ep.status,
      EndpointConfigName: ep.config,
      PendingDeploymentSummary: ep.pendingConfig ? { EndpointConfigName: ep.pendingConfig } : undefined,
    };
  });
  mock.on(DescribeEndpointConfigCommand).callsFake(({ EndpointConfigName }) => {
    const variants = configs.get(EndpointConfigName);
    if (!variants) throw notFound('endpoint-config', EndpointConfigName);
    return { EndpointConfigName, ProductionVariants: variants.map((ModelName, i) => ({ VariantName: `v${i}`, ModelName })) };
  });
  mock.on(DeleteModelCommand).callsFake(({ ModelName }) => {
    if (!models.delete(ModelName)) throw notFound('model', ModelName);
    return {};
  });
  mock.on(DeleteEndpointConfigCommand).callsFake(({ EndpointConfigName }) => {
    if (!configs.delete(EndpointConfigName)) throw notFound('endpoint-config', EndpointConfigName);
    return {};
  });
  mock.on(DeleteEndpointCommand).callsFake(({ EndpointName }) => {
    const ep = endpoints.get(EndpointName);
    if (!ep) throw notFound('endpoint', EndpointName);
    ep.status = 'Deleting';
    deleting.set(EndpointName, opts.deletingLists ?? 1);
    return {};
  });
  return { mock, models, configs, endpoints };
}
