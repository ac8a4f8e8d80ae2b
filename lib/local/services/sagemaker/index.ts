/**
 * The local cloud's SageMaker: the control plane (`SageMaker.*` over the AWS JSON protocol)
 * and the endpoint host that serves models, reached through SageMaker Runtime's REST route.
 *
 * Factory options ({@link SageMakerServiceOptions}):
 * - `dataDir` — the local cloud's data root, shared with CodeBuild. SageMaker keeps
 *   `<dataDir>/sagemaker/{models,endpoint-configs,endpoints}/*.json` (definitions, survive a
 *   restart), the Model Registry's `<dataDir>/sagemaker/{model-package-groups,model-packages}/*.json`
 *   (model-registry.ts), `<dataDir>/sagemaker/bundles/<sha256>/` (extracted bundles, content-addressed and
 *   reused) and `<dataDir>/sagemaker/logs/<endpoint>/` (model server stdout/stderr). It reads
 *   the image index `<dataDir>/images/` that CodeBuild writes. Training jobs (training.ts) keep
 *   `<dataDir>/sagemaker/training-jobs/*.json` and a workspace `<dataDir>/sagemaker/training/<job>/`
 *   (the /opt/ml layout, the code, training.log); a model's ModelDataUrl is extracted under
 *   `<dataDir>/sagemaker/model-data/<sha256>/`.
 * - `s3`, `bucket` — where bundles are read from and data capture is written to.
 * - `region`, `accountId` — ARNs.
 * - `timeScale` — multiplies bake, wait, termination and execution-timeout seconds of a
 *   deployment, and the ping timeout (e.g. 0.02 for `--fast`). @default 1
 * - `alarms` — the local stand-in for CloudWatch alarms named in AutoRollbackConfiguration:
 *   `{ [alarmName]: { metric: '5xx-rate' | 'p99-latency', threshold, ...PutMetricAlarm settings } }`
 *   (threshold in CloudWatch's unit: a rate 0..1, or microseconds of ModelLatency; period,
 *   evaluation periods, datapoints to alarm, missing-data treatment and comparison default to
 *   the rollback alarms' `ROLLBACK_ALARM_TIMING`). An alarm missing here is still understood by
 *   its name's suffix (`-5xx`, `-p99-latency`) with the manifest defaults (0.01, 1000 ms). The
 *   returned `alarms` map can be filled later.
 * - `models`, `rollbackAlarmPrefix` — the discovered manifests (or a function returning the
 *   current ones) and the local ROLLBACK_ALARM_PREFIX (@default `mlship-`): alarms named
 *   `<prefix><model>-5xx` / `<prefix><model>-p99-latency` are then the model's
 *   `rollbackAlarmSpecs()`, the very definitions CDK creates on AWS. The `alarms` registry wins.
 * - `pingTimeoutMs` — how long a model server may take to answer GET /ping, unless the
 *   variant sets ContainerStartupHealthCheckTimeoutInSeconds (then that × timeScale).
 *   @default max(30 s × timeScale, 10 s): a floor, because a process start does not speed up with --fast
 * - `captureFlushRecords` / `captureFlushMs` — data capture batching: a file per partition every this many
 *   records or milliseconds. @default 10000 / 5000 (see capture/writer.ts for why)
 *
 * Semantics worth knowing (as on SageMaker):
 * - One model server process per variant (InitialInstanceCount is reported, not multiplied).
 * - Blue/green: the new fleet starts beside the old one; traffic shifts by the plan's steps,
 *   each step baking WaitIntervalInSeconds × timeScale while the alarms are evaluated as
 *   CloudWatch evaluates them (once a minute, per-period data points published a minute after
 *   their period, M out of N, missing data per its treatment; minutes of 60 s × timeScale) over
 *   the variant's metrics of BOTH fleets, as SageMaker publishes them per EndpointName +
 *   VariantName (and a new server that exits while baking rolls back too); the old
 *   fleet stops after TerminationWaitInSeconds × timeScale. Without a DeploymentConfig an
 *   update is ALL_AT_ONCE with no bake.
 * - CreateEndpoint whose model server never answers /ping ends `Failed` with FailureReason.
 * - A failed or rolled-back UpdateEndpoint leaves the endpoint `InService` on the OLD
 *   EndpointConfigName with FailureReason set (rolled back: "Rolled back: alarm <name> ...");
 *   the old fleet serves throughout.
 * - A server that dies while serving answers 503 ServiceUnavailable (counted as 5xx) and is
 *   restarted up to 3 times with backoff. DeleteEndpointConfig of a config an update is
 *   deploying is `ResourceInUse`; more than 20 endpoints is `ResourceLimitExceeded`.
 * - After a restart, endpoints InService are started again from their bundles (invocations
 *   wait for them); an update cut off by the stop is deployed again (old fleet first, same
 *   DeploymentConfig), and a creation is done again, so a poller sees them finish rather than
 *   a rollback; one whose new config was deleted serves its old config with FailureReason set.
 *
 * The runtime (`runtime.invokeEndpoint`) answers like SageMaker Runtime: unknown endpoint ->
 * `ValidationError` 400; endpoint not serving -> `ServiceUnavailable` 503; the model answered
 * with an error status -> thrown {@link ModelError} (424) whose `extra` holds
 * `OriginalStatusCode`, `OriginalMessage` and `LogStreamArn` for the error body.
 */
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DiscoveredModel } from '../../../config';
import { ImageIndex } from '../ecr';
import { BundleCache } from './bundles';
import { PythonRuntimes } from './python-runtime';
import { TrainingJobs } from './training';
import { unknownOperation, type JsonService } from '../../core/service';
import { ControlPlane } from './control';
import { ModelRegistry, MODEL_REGISTRY_OPERATIONS } from './model-registry';
import type { LocalAlarm } from './deploy';
import type { InvokeEndpointRequest, InvokeEndpointResponse } from './runtime';

export { ModelError } from './errors';
export { manifestAlarms, type LocalAlarm } from './deploy';
export { MAX_INVOKE_BODY_BYTES, type InvokeEndpointRequest, type InvokeEndpointResponse } from './runtime';

/** Options of {@link createSageMakerService}; see the module comment. */
export interface SageMakerServiceOptions {
  dataDir: string;
  s3: S3Client;
  bucket: string;
  region: string;
  accountId: string;
  timeScale?: number;
  alarms?: Record<string, LocalAlarm>;
  models?: DiscoveredModel[] | (() => DiscoveredModel[]);
  rollbackAlarmPrefix?: string;
  pingTimeoutMs?: number;
  captureFlushRecords?: number;
  captureFlushMs?: number;
}

export interface SageMakerService extends JsonService {
  runtime: { invokeEndpoint(req: InvokeEndpointRequest): Promise<InvokeEndpointResponse> };
  /** Alarm registry used by blue/green rollbacks; add or replace entries at any time. */
  alarms: Map<string, LocalAlarm>;
  /** Resolves when the endpoint leaves Creating/Updating/RollingBack (tests, CLI). */
  waitForEndpoint(name: string): Promise<Record<string, unknown>>;
  /** Write buffered data capture now (e.g. before a drift check reads it). */
  flushCapture(): Promise<void>;
  /** Per-variant counters of the fleets taking traffic. */
  variantMetrics(endpointName: string): ReturnType<ControlPlane['variantMetrics']>;
  /**
   * One variant's invocations (production or shadow, every fleet that served it) in
   * [startMs, endMs), from the per-minute series the rollback alarms read: what the local
   * CloudWatch answers GetMetricData from. Undefined without invocations.
   */
  metricWindow(endpointName: string, variant: string, startMs: number, endMs: number): ReturnType<ControlPlane['metricWindow']>;
  close(): Promise<void>;
}

const OPERATIONS = [
  'CreateModel',
  'DescribeModel',
  'DeleteModel',
  'ListModels',
  'CreateEndpointConfig',
  'DescribeEndpointConfig',
  'DeleteEndpointConfig',
  'ListEndpointConfigs',
  'CreateEndpoint',
  'UpdateEndpoint',
  'DescribeEndpoint',
  'DeleteEndpoint',
  'ListEndpoints',
  'UpdateEndpointWeightsAndCapacities',
] as const;
type Operation = (typeof OPERATIONS)[number];
/** Training jobs (training.ts): what the release's createTrainingJob.sync task calls. */
const TRAINING_OPERATIONS = ['CreateTrainingJob', 'DescribeTrainingJob', 'StopTrainingJob'] as const;
type TrainingOperation = (typeof TRAINING_OPERATIONS)[number];

/** Create the SageMaker service; endpoints InService at the last stop are started again. */
export function createSageMakerService(opts: SageMakerServiceOptions): SageMakerService {
  const alarms = new Map(Object.entries(opts.alarms ?? {}));
  const plane = new ControlPlane({ ...opts, timeScale: opts.timeScale ?? 1, alarms });
  // Its own handles on the image index and the bundle cache (both are files, safe to share):
  // a job runs before its version's endpoints, so the two rarely fetch the same bundle at once.
  const root = join(opts.dataDir, 'sagemaker');
  const registry = new ModelRegistry(root, `arn:aws:sagemaker:${opts.region}:${opts.accountId}`);
  const training = new TrainingJobs({
    root,
    s3: opts.s3,
    images: new ImageIndex(opts.dataDir),
    bundles: new BundleCache(join(root, 'bundles'), opts.s3),
    runtimes: new PythonRuntimes(join(root, 'runtimes')),
    region: opts.region,
    accountId: opts.accountId,
    timeScale: opts.timeScale ?? 1,
  });
  return {
    targetPrefix: 'SageMaker',
    async handle(operation, input) {
      if ((MODEL_REGISTRY_OPERATIONS as readonly string[]).includes(operation))
        return registry[operation as (typeof MODEL_REGISTRY_OPERATIONS)[number]](input);
      if ((TRAINING_OPERATIONS as readonly string[]).includes(operation)) return training[operation as TrainingOperation](input);
      if (!(OPERATIONS as readonly string[]).includes(operation)) throw unknownOperation('SageMaker', operation);
      return plane[operation as Operation](input);
    },
    runtime: { invokeEndpoint: (req) => plane.invoke(req) },
    alarms,
    waitForEndpoint: (name) => plane.waitForEndpoint(name),
    flushCapture: () => plane.flushCapture(),
    variantMetrics: (name) => plane.variantMetrics(name),
    metricWindow: (name, variant, startMs, endMs) => plane.metricWindow(name, variant, startMs, endMs),
    close: async () => {
      await training.close();
      await plane.close();
    },
  };
}
