import { paginateListEndpointConfigs, paginateListEndpoints, paginateListModels, type SageMakerClient } from '@aws-sdk/client-sagemaker';

/**
 * The SageMaker resources whose names start with a prefix, every page of them.
 *
 * `NameContains` is a substring filter, so a name is checked again for the prefix: a
 * resource `team-mlship-x` must not count as one of `mlship-`'s.
 */

export async function listModelNames(sagemaker: SageMakerClient, prefix: string): Promise<string[]> {
  const names: string[] = [];
  for await (const page of paginateListModels({ client: sagemaker }, { NameContains: prefix }))
    for (const m of page.Models ?? []) if (m.ModelName?.startsWith(prefix)) names.push(m.ModelName);
  return names;
}

export async function listEndpointConfigNames(sagemaker: SageMakerClient, prefix: string): Promise<string[]> {
  const names: string[] = [];
  for await (const page of paginateListEndpointConfigs({ client: sagemaker }, { NameContains: prefix }))
    for (const c of page.EndpointConfigs ?? []) if (c.EndpointConfigName?.startsWith(prefix)) names.push(c.EndpointConfigName);
  return names;
}

export async function listEndpointNames(sagemaker: SageMakerClient, prefix: string): Promise<string[]> {
  const names: string[] = [];
  for await (const page of paginateListEndpoints({ client: sagemaker }, { NameContains: prefix }))
    for (const e of page.Endpoints ?? []) if (e.EndpointName?.startsWith(prefix)) names.push(e.EndpointName);
  return names;
}
