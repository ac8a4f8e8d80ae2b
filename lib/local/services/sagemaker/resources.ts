import type { ImageIndex, ImageRecord } from '../ecr';
import { epochSeconds } from '../../core/service';
import { captureSettings } from './capture/format';
import { validation } from './errors';
import type { ResourceStore } from './store';

/**
 * Models and endpoint configs: immutable definitions, validated on create the way
 * SageMaker validates them, with SageMaker's error messages.
 */

type Dict = Record<string, unknown>;

export interface ModelRecord {
  ModelName: string;
  ModelArn: string;
  PrimaryContainer: { Image: string; Environment?: Record<string, string>; ModelDataUrl?: string; Mode?: string };
  ExecutionRoleArn?: string;
  CreationTime: number;
  /** The image as resolved at CreateModel: the digest is pinned, a later re-tag does not change a serving model. */
  resolvedImage: ImageRecord;
}

export interface ProductionVariantDef {
  VariantName: string;
  ModelName: string;
  InitialInstanceCount: number;
  InstanceType: string;
  InitialVariantWeight: number;
  /** How long the model server may take to answer /ping (× timeScale). @default the service's ping timeout */
  ContainerStartupHealthCheckTimeoutInSeconds?: number;
}

export interface EndpointConfigRecord {
  EndpointConfigName: string;
  EndpointConfigArn: string;
  ProductionVariants: ProductionVariantDef[];
  /**
   * A shadow variant: it answers a copy of a share of the production variant's requests, and
   * callers never see its answers. The share is its weight over the production variant's.
   */
  ShadowProductionVariants?: ProductionVariantDef[];
  DataCaptureConfig?: Dict;
  CreationTime: number;
}

const NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;

export function requireName(input: Dict, field: string): string {
  const v = input[field];
  if (typeof v !== 'string' || !NAME.test(v)) {
    throw validation(
      `1 validation error detected: Value '${String(v)}' at '${field}' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}`,
    );
  }
  return v;
}

export class Arns {
  constructor(
    private readonly region: string,
    private readonly account: string,
  ) {}
  private arn = (kind: string, name: string) => `arn:aws:sagemaker:${this.region}:${this.account}:${kind}/${name.toLowerCase()}`;
  model = (n: string) => this.arn('model', n);
  config = (n: string) => this.arn('endpoint-config', n);
  endpoint = (n: string) => this.arn('endpoint', n);
}

export function createModel(input: Dict, store: ResourceStore<ModelRecord>, images: ImageIndex, arns: Arns): { ModelArn: string } {
  const name = requireName(input, 'ModelName');
  if (store.has(name)) throw validation(`Cannot create already existing model "${arns.model(name)}".`);
  const container = (input.PrimaryContainer ?? (Array.isArray(input.Containers) ? input.Containers[0] : undefined)) as Dict | undefined;
  if (!container || typeof container.Image !== 'string')
    throw validation('PrimaryContainer.Image is required (the image URI the build pushed)');
  const image = container.Image;
  const resolved = images.resolve(image);
  if (!resolved) {
    throw validation(
      `Requested image ${image} not found: no build of the local cloud tagged it (image index <dataDir>/images). Build the model first.`,
    );
  }
  const env = (container.Environment ?? {}) as Record<string, unknown>;
  for (const [k, v] of Object.entries(env))
    if (typeof v !== 'string') throw validation(`PrimaryContainer.Environment.${k} must be a string`);
  const rec: ModelRecord = {
    ModelName: name,
    ModelArn: arns.model(name),
    PrimaryContainer: {
      Image: image,
      Environment: env as Record<string, string>,
      ...(typeof container.ModelDataUrl === 'string' ? { ModelDataUrl: container.ModelDataUrl } : {}),
      Mode: typeof container.Mode === 'string' ? container.Mode : 'SingleModel',
    },
    ExecutionRoleArn: typeof input.ExecutionRoleArn === 'string' ? input.ExecutionRoleArn : undefined,
    CreationTime: epochSeconds(),
    resolvedImage: resolved,
  };
  store.put(name, rec);
  return { ModelArn: rec.ModelArn };
}

export function describeModel(rec: ModelRecord): Dict {
  const { resolvedImage, ...shape } = rec;
  return {
    ...shape,
    PrimaryContainer: { ...shape.PrimaryContainer, ImageConfig: { RepositoryAccessMode: 'Platform' } },
    ResolvedImage: `${resolvedImage.imageUri.split(':')[0]}@${resolvedImage.digest}`,
  };
}

export function createEndpointConfig(
  input: Dict,
  store: ResourceStore<EndpointConfigRecord>,
  models: ResourceStore<ModelRecord>,
  arns: Arns,
): { EndpointConfigArn: string } {
  const name = requireName(input, 'EndpointConfigName');
  if (store.has(name)) throw validation(`Cannot create already existing endpoint configuration "${arns.config(name)}".`);
  const raw = input.ProductionVariants;
  if (!Array.isArray(raw) || raw.length < 1 || raw.length > 10) throw validation('ProductionVariants must list 1 to 10 variants');
  const seen = new Set<string>();
  const variants = raw.map((pv: Dict, i) => variantDef(pv, `ProductionVariants[${i}]`, seen, models, arns));
  const rawShadows = input.ShadowProductionVariants;
  if (rawShadows !== undefined && (!Array.isArray(rawShadows) || rawShadows.length > 1))
    throw validation('ShadowProductionVariants must list at most 1 variant (the local cloud, like a shadow test, runs one shadow)');
  if (rawShadows?.length && variants.length !== 1)
    throw validation('ShadowProductionVariants needs exactly one production variant: the shadow copies its requests');
  const shadows = (rawShadows ?? []).map((pv: Dict, i: number) => variantDef(pv, `ShadowProductionVariants[${i}]`, seen, models, arns));
  const dcc = input.DataCaptureConfig as Dict | undefined;
  if (dcc) {
    try {
      captureSettings(dcc, 'DataCaptureConfig');
    } catch (err) {
      throw validation((err as Error).message);
    }
  }
  const rec: EndpointConfigRecord = {
    EndpointConfigName: name,
    EndpointConfigArn: arns.config(name),
    ProductionVariants: variants,
    ...(shadows.length ? { ShadowProductionVariants: shadows } : {}),
    DataCaptureConfig: dcc,
    CreationTime: epochSeconds(),
  };
  store.put(name, rec);
  return { EndpointConfigArn: rec.EndpointConfigArn };
}

/** One variant of a config, checked as SageMaker checks it; names are unique across production and shadow variants. */
function variantDef(pv: Dict, f: string, seen: Set<string>, models: ResourceStore<ModelRecord>, arns: Arns): ProductionVariantDef {
  const vn = pv.VariantName;
  if (typeof vn !== 'string' || !NAME.test(vn))
    throw validation(`${f}.VariantName is required and must match ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}`);
  if (seen.has(vn)) throw validation(`${f}.VariantName: the variant name ${vn} is used more than once`);
  seen.add(vn);
  const mn = pv.ModelName;
  if (typeof mn !== 'string' || !models.has(mn)) throw validation(`Could not find model "${arns.model(String(mn))}".`);
  const count = pv.InitialInstanceCount ?? 1;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1)
    throw validation(`${f}.InitialInstanceCount must be an integer >= 1`);
  const weight = pv.InitialVariantWeight ?? 1;
  if (typeof weight !== 'number' || !(weight >= 0)) throw validation(`${f}.InitialVariantWeight must be a number >= 0`);
  const startup = pv.ContainerStartupHealthCheckTimeoutInSeconds;
  if (startup !== undefined && (typeof startup !== 'number' || !(startup > 0)))
    throw validation(`${f}.ContainerStartupHealthCheckTimeoutInSeconds must be a number > 0`);
  return {
    VariantName: vn,
    ModelName: mn,
    InitialInstanceCount: count,
    InstanceType: typeof pv.InstanceType === 'string' ? pv.InstanceType : 'ml.m5.large',
    InitialVariantWeight: weight,
    ...(startup !== undefined ? { ContainerStartupHealthCheckTimeoutInSeconds: startup } : {}),
  };
}
