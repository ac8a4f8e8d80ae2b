import type { Fleet } from './fleet';
import type { InvocationSeries } from './metric-series';

/** Endpoint state shared by the control plane, DescribeEndpoint and the runtime. */

type Dict = Record<string, unknown>;
export type EndpointStatus = 'Creating' | 'Updating' | 'SystemUpdating' | 'RollingBack' | 'InService' | 'Failed' | 'Deleting';

/** What survives a restart of one endpoint. */
export interface EndpointRecord {
  EndpointName: string;
  EndpointArn: string;
  /** The config in service (the old one until an update completes). */
  EndpointConfigName: string;
  EndpointStatus: EndpointStatus;
  FailureReason?: string;
  CreationTime: number;
  LastModifiedTime: number;
  LastDeploymentConfig?: Dict;
  /** Weights set by UpdateEndpointWeightsAndCapacities, by variant. */
  weights?: Record<string, number>;
  pending?: { EndpointConfigName: string; StartTime: number };
}

/** The live side of an endpoint: fleets taking traffic, by percent share. */
export interface EndpointState {
  rec: EndpointRecord;
  serving: { fleet: Fleet; share: number }[];
  green?: Fleet;
  /** Per-minute metrics by variant name, whichever fleet served (what the rollback alarms read). */
  series: InvocationSeries;
  busy?: Promise<void>;
  /** Starting again after a restart of the local cloud: invocations wait for `busy`. */
  restarting?: boolean;
  deleted: boolean;
}
