import type { S3Client } from '@aws-sdk/client-s3';
import {
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  type SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { isSageMakerNotFound } from '../shared/errors';
import { logger } from '../shared/logger';
import { endpointConfigName, endpointName, keys, sagemakerModelName, type Stage } from '../shared/names';
import { readProduction } from '../shared/registry';
import { putJson } from '../shared/s3json';
import { listEndpointConfigNames, listModelNames } from '../shared/sagemaker-inventory';

export interface PruneDeps {
  s3: S3Client;
  sagemaker: SageMakerClient;
  bucket: string;
  now: () => Date;
}

export interface PruneInput {
  model: string;
  version: string;
  executionId: string;
  /** What the release just did to production. */
  outcome: 'promoted' | 'rolled-back';
}

export interface PruneFailure {
  /** The resource, or `inventory` when what is in use could not be known (then nothing is deleted). */
  name: string;
  error: string;
}

export interface PruneResult {
  /** The production version and the one before it, whose model and production config stay. */
  keptVersions: string[];
  /** Configs an endpoint of the model serves or is deploying, and the models they use. */
  inUse: string[];
  deletedConfigs: string[];
  deletedModels: string[];
  failures: PruneFailure[];
}

/** `mlship-<model>-<version>` and `mlship-<model>-<version>-s|p` (lambdas/shared/names.ts), with the version id of PrepareRelease. */
const VERSION = '[0-9a-z]{7}-[0-9a-f]{4}';

function ownedBy(model: string, kind: 'model' | 'config'): (name: string) => boolean {
  // Anchored on the whole name, so model `a` never claims the resources of model `a-b`.
  const re = new RegExp(`^${sagemakerModelName(model, `(${VERSION})`)}${kind === 'config' ? '-[sp]' : ''}$`);
  return (name) => re.test(name);
}

/** What an endpoint of the model serves or is being moved to, and the models of those configs. */
async function inUse(deps: PruneDeps, model: string): Promise<{ configs: Set<string>; models: Set<string> }> {
  const configs = new Set<string>();
  for (const stage of ['staging', 'production'] as Stage[]) {
    try {
      const ep = await deps.sagemaker.send(new DescribeEndpointCommand({ EndpointName: endpointName(model, stage) }));
      for (const name of [ep.EndpointConfigName, ep.PendingDeploymentSummary?.EndpointConfigName]) if (name) configs.add(name);
    } catch (err) {
      if (!isSageMakerNotFound(err)) throw err;
    }
  }
  const models = new Set<string>();
  for (const config of configs) {
    try {
      const cfg = await deps.sagemaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName: config }));
      for (const v of [...(cfg.ProductionVariants ?? []), ...(cfg.ShadowProductionVariants ?? [])])
        if (v.ModelName) models.add(v.ModelName);
    } catch (err) {
      // A config already deleted under a running endpoint names no model we could keep.
      if (!isSageMakerNotFound(err)) throw err;
    }
  }
  return { configs, models };
}

async function deleteEach(names: string[], remove: (name: string) => Promise<unknown>, failures: PruneFailure[]): Promise<string[]> {
  const deleted: string[] = [];
  for (const name of names) {
    try {
      await remove(name);
      deleted.push(name);
    } catch (err) {
      // Gone already (a retry, a person) is what we wanted.
      if (isSageMakerNotFound(err)) deleted.push(name);
      else failures.push({ name, error: `${(err as Error).name}: ${(err as Error).message}` });
    }
  }
  return deleted;
}

/**
 * Delete the model's SageMaker models and endpoint configs that no one needs any more.
 *
 * Kept: the model and production config of the production version and of the version
 * before it (`registry/<model>/production.json` `version` and `previous`: what a manual
 * rollback deploys again), every config an endpoint of the model serves or is deploying,
 * and every model those configs use. Everything else named `mlship-<model>-<version>[-s|-p]`
 * goes: staging configs of earlier versions, rolled-back and superseded versions.
 *
 * It never throws and never touches an endpoint: a release has already succeeded or rolled
 * back when it runs. Failures are logged and recorded in `registry/<model>/pruning.json` and
 * the result; when what is in use cannot be known, nothing is deleted.
 */
export async function pruneVersions(deps: PruneDeps, input: PruneInput): Promise<PruneResult> {
  const result: PruneResult = { keptVersions: [], inUse: [], deletedConfigs: [], deletedModels: [], failures: [] };
  try {
    const production = (await readProduction(deps, input.model))?.value;
    result.keptVersions = [production?.version, production?.previous].filter((v): v is string => !!v);
    const used = await inUse(deps, input.model);
    result.inUse = [...used.configs, ...used.models].sort();
    const keepConfigs = new Set([...used.configs, ...result.keptVersions.map((v) => endpointConfigName(input.model, v, 'production'))]);
    const keepModels = new Set([...used.models, ...result.keptVersions.map((v) => sagemakerModelName(input.model, v))]);
    const prefix = sagemakerModelName(input.model, '');

    // Configs first: a model goes only once no config of ours names it.
    const configs = (await listEndpointConfigNames(deps.sagemaker, prefix))
      .filter(ownedBy(input.model, 'config'))
      .filter((c) => !keepConfigs.has(c));
    result.deletedConfigs = await deleteEach(
      configs,
      (name) => deps.sagemaker.send(new DeleteEndpointConfigCommand({ EndpointConfigName: name })),
      result.failures,
    );
    const models = (await listModelNames(deps.sagemaker, prefix)).filter(ownedBy(input.model, 'model')).filter((m) => !keepModels.has(m));
    result.deletedModels = await deleteEach(
      models,
      (name) => deps.sagemaker.send(new DeleteModelCommand({ ModelName: name })),
      result.failures,
    );
  } catch (err) {
    result.failures.push({ name: 'inventory', error: `${(err as Error).name}: ${(err as Error).message}` });
  }
  if (result.failures.length) logger.warn('pruning left superseded SageMaker resources behind', { failures: result.failures });
  try {
    await putJson(deps.s3, deps.bucket, keys.pruning(input.model), {
      model: input.model,
      version: input.version,
      outcome: input.outcome,
      executionArn: input.executionId,
      at: deps.now().toISOString(),
      ...result,
    });
  } catch (err) {
    logger.warn('could not record the pruning', { error: `${(err as Error).name}: ${(err as Error).message}` });
  }
  return result;
}
