import { captureSettings } from './capture/format';
import type { Fleet } from './fleet';
import type { EndpointConfigRecord, ModelRecord } from './resources';
import type { EndpointState } from './state';
import type { ResourceStore } from './store';

type Dict = Record<string, unknown>;

/**
 * DescribeEndpoint's answer: the variants of the fleet in service with their current and
 * desired weights, and during a blue/green update the new fleet as PendingDeploymentSummary.
 */
export function describeEndpoint(
  st: EndpointState,
  configs: ResourceStore<EndpointConfigRecord>,
  models: ResourceStore<ModelRecord>,
): Dict {
  const { rec } = st;
  const cfg = configs.get(rec.EndpointConfigName);
  const active = st.serving.find((s) => s.fleet.configName === rec.EndpointConfigName);
  const variantsOf = (fleet: Fleet | undefined, share: number, configRec: EndpointConfigRecord | undefined, status?: string) =>
    (fleet
      ? fleet.variants.map((v) => ({ name: v.name, weight: v.weight, count: v.spec.instanceCount, image: v.spec.image }))
      : (configRec?.ProductionVariants ?? []).map((pv) => ({
          name: pv.VariantName,
          weight: rec.weights?.[pv.VariantName] ?? pv.InitialVariantWeight,
          count: pv.InitialInstanceCount,
          image: models.get(pv.ModelName)?.resolvedImage,
        }))
    ).map((v) => ({
      VariantName: v.name,
      DeployedImages: v.image
        ? [
            {
              SpecifiedImage: v.image.imageUri,
              ResolvedImage: `${v.image.imageUri.replace(/:[^:/]+$/, '')}@${v.image.digest}`,
              ResolutionTime: rec.CreationTime,
            },
          ]
        : [],
      CurrentWeight: fleet ? (v.weight * share) / 100 : 0,
      DesiredWeight: v.weight,
      CurrentInstanceCount: fleet ? v.count : 0,
      DesiredInstanceCount: v.count,
      ...(status ? { VariantStatus: [{ Status: status, StartTime: rec.pending?.StartTime }] } : {}),
    }));
  const out: Dict = {
    EndpointName: rec.EndpointName,
    EndpointArn: rec.EndpointArn,
    EndpointConfigName: rec.EndpointConfigName,
    ProductionVariants: variantsOf(active?.fleet, active?.share ?? 0, cfg),
    EndpointStatus: rec.EndpointStatus,
    CreationTime: rec.CreationTime,
    LastModifiedTime: rec.LastModifiedTime,
  };
  if (active?.fleet.shadow) out.ShadowProductionVariants = shadowVariantsOf(active.fleet);
  if (rec.FailureReason) out.FailureReason = rec.FailureReason;
  if (rec.LastDeploymentConfig) out.LastDeploymentConfig = rec.LastDeploymentConfig;
  const capture =
    active?.fleet.capture ?? (cfg?.DataCaptureConfig ? captureSettings(cfg.DataCaptureConfig, 'DataCaptureConfig') : undefined);
  if (capture) {
    out.DataCaptureConfig = {
      EnableCapture: true,
      CaptureStatus: 'Started',
      CurrentSamplingPercentage: capture.samplingPercentage,
      DestinationS3Uri: `s3://${capture.bucket}/${capture.prefix}`,
    };
  }
  if (rec.pending) {
    const green = st.green?.configName === rec.pending.EndpointConfigName ? st.green : undefined;
    const greenShare = green ? (st.serving.find((s) => s.fleet === green)?.share ?? 0) : 0;
    out.PendingDeploymentSummary = {
      EndpointConfigName: rec.pending.EndpointConfigName,
      StartTime: rec.pending.StartTime,
      ProductionVariants: variantsOf(
        green,
        greenShare,
        configs.get(rec.pending.EndpointConfigName),
        green && green.variants.every((v) => v.server.state === 'ready') ? (greenShare > 0 ? 'Baking' : 'ActivatingTraffic') : 'Creating',
      ),
    };
  }
  return out;
}

/** The shadow variant of the fleet in service, as DescribeEndpoint's ShadowProductionVariants lists it. */
function shadowVariantsOf(fleet: Fleet): Dict[] {
  const shadow = fleet.shadow!.variant;
  const count = shadow.spec.instanceCount;
  return [
    {
      VariantName: shadow.name,
      CurrentWeight: shadow.weight,
      DesiredWeight: shadow.weight,
      CurrentInstanceCount: count,
      DesiredInstanceCount: count,
    },
  ];
}
