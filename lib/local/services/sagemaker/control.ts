import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { ImageIndex } from '../ecr';
import { AwsServiceError, epochSeconds } from '../../core/service';
import { BundleCache } from './bundles';
import { ModelDataCache } from './model-data';
import { PythonRuntimes } from './python-runtime';
import { captureSettings, type CaptureSettings } from './capture/format';
import { CaptureWriter, FLUSH_MS, FLUSH_RECORDS } from './capture/writer';
import { ShadowMirror, SHADOW_NICE } from './mirror/host';
import type { AlarmDefinition, DiscoveredModel } from '../../../config';
import { AlarmWatcher } from './alarm-watch';
import { completeAlarm, manifestAlarms, planDeployment, shiftTraffic, type DeploymentPlan, type LocalAlarm } from './deploy';
import { InvocationSeries } from './metric-series';
import type { VariantMetrics } from './metrics';
import { describeEndpoint } from './describe';
import { validation } from './errors';
import { Fleet, Variant } from './fleet';
import {
  Arns,
  createEndpointConfig,
  createModel,
  describeModel,
  requireName,
  type EndpointConfigRecord,
  type ModelRecord,
} from './resources';
import { INVOCATION_TIMEOUT_MS, ModelServer } from './server';
import { ResourceStore } from './store';
import { invokeEndpoint, type InvokeEndpointRequest, type InvokeEndpointResponse, type RuntimeContext } from './runtime';
import type { EndpointRecord, EndpointState, EndpointStatus } from './state';

type Dict = Record<string, unknown>;

export interface ControlPlaneOptions {
  dataDir: string;
  s3: S3Client;
  bucket: string;
  region: string;
  accountId: string;
  timeScale: number;
  alarms: Map<string, LocalAlarm>;
  models?: DiscoveredModel[] | (() => DiscoveredModel[]);
  rollbackAlarmPrefix?: string;
  pingTimeoutMs?: number;
  captureFlushRecords?: number;
  captureFlushMs?: number;
}

/** Endpoints a laptop runs at once: each variant is a process. */
const MAX_ENDPOINTS = 20;

export class ControlPlane {
  private readonly models: ResourceStore<ModelRecord>;
  private readonly configs: ResourceStore<EndpointConfigRecord>;
  private readonly records: ResourceStore<EndpointRecord>;
  private readonly endpoints = new Map<string, EndpointState>();
  private readonly images: ImageIndex;
  private readonly bundles: BundleCache;
  private readonly modelData: ModelDataCache;
  private readonly runtimes: PythonRuntimes;
  private readonly capture: CaptureWriter;
  private readonly runtime: RuntimeContext;
  private readonly arns: Arns;
  private readonly root: string;
  private readonly pingTimeoutMs: number;
  private closing = false;

  constructor(private readonly opts: ControlPlaneOptions) {
    this.root = join(opts.dataDir, 'sagemaker');
    this.models = new ResourceStore(join(this.root, 'models'));
    this.configs = new ResourceStore(join(this.root, 'endpoint-configs'));
    this.records = new ResourceStore(join(this.root, 'endpoints'));
    this.images = new ImageIndex(opts.dataDir);
    this.bundles = new BundleCache(join(this.root, 'bundles'), opts.s3);
    this.modelData = new ModelDataCache(join(this.root, 'model-data'), opts.s3);
    this.runtimes = new PythonRuntimes(join(this.root, 'runtimes'));
    this.capture = new CaptureWriter(opts.s3, opts.captureFlushRecords, opts.captureFlushMs);
    this.runtime = { accountId: opts.accountId, region: opts.region, capture: this.capture };
    this.arns = new Arns(opts.region, opts.accountId);
    this.pingTimeoutMs = opts.pingTimeoutMs ?? Math.max(30_000 * opts.timeScale, 10_000);
    for (const rec of this.records.values()) this.recover(rec);
  }

  /** An endpoint's per-minute metrics; a minute is 60 s × timeScale, in whole milliseconds. */
  private newSeries(): InvocationSeries {
    return new InvocationSeries(Math.max(1, Math.round(60_000 * this.opts.timeScale)));
  }

  /** Bring back an endpoint journaled by the previous run. */
  private recover(rec: EndpointRecord): void {
    const st: EndpointState = { rec, serving: [], deleted: false, series: this.newSeries() };
    this.endpoints.set(rec.EndpointName, st);
    if (rec.EndpointStatus === 'Failed') return;
    // Invocations that arrive while the fleet starts wait for it instead of failing.
    st.restarting = true;
    if (rec.EndpointStatus === 'Creating') {
      // SageMaker would have gone on creating it: so does the restarted cloud, from the start.
      st.busy = this.startServing(st, rec.EndpointConfigName).then(
        () => this.setStatus(st, 'InService'),
        (err: Error) => this.setStatus(st, 'Failed', `Failed to create endpoint: ${err.message}`),
      );
    } else {
      // An update cut off by the stop is deployed again from the old fleet, with the same
      // deployment config: not reported as a rollback, since no alarm decided anything.
      const pending =
        rec.EndpointStatus !== 'InService' && rec.pending && this.configs.has(rec.pending.EndpointConfigName) ? rec.pending : undefined;
      if (!pending && rec.EndpointStatus !== 'InService') {
        rec.pending = undefined;
        this.setStatus(st, 'InService', `The local cloud stopped during an update; the endpoint serves ${rec.EndpointConfigName}`);
      }
      st.busy = this.startServing(st, rec.EndpointConfigName).then(
        () => (pending ? this.resumeUpdate(st, pending.EndpointConfigName) : undefined),
        (err: Error) => this.setStatus(st, 'Failed', `Restarting the endpoint failed: ${err.message}`),
      );
    }
    void st.busy.finally(() => (st.restarting = false));
  }

  /** Deploy an update the last run was cut off in again (see recover). */
  private async resumeUpdate(st: EndpointState, configName: string): Promise<void> {
    try {
      const cfg = this.configs.get(configName)!;
      const greenInstances = cfg.ProductionVariants.reduce((n, v) => n + v.InitialInstanceCount, 0);
      const plan = planDeployment(st.rec.LastDeploymentConfig, greenInstances, this.opts.timeScale, (name) => this.resolveAlarm(name));
      this.setStatus(st, 'Updating');
      await this.deploy(st, configName, plan);
    } catch (err) {
      st.rec.pending = undefined;
      this.setStatus(st, st.serving.length ? 'InService' : 'Failed', `Failed to update endpoint: ${(err as Error).message}`);
    }
  }

  private setStatus(st: EndpointState, status: EndpointStatus, failureReason?: string): void {
    if (this.closing || st.deleted) return;
    st.rec.EndpointStatus = status;
    st.rec.FailureReason = failureReason;
    st.rec.LastModifiedTime = epochSeconds();
    this.records.put(st.rec.EndpointName, st.rec);
  }

  // ---- models and endpoint configs ---------------------------------------------------

  async CreateModel(input: Dict) {
    return createModel(input, this.models, this.images, this.arns);
  }

  async DescribeModel(input: Dict) {
    const name = requireName(input, 'ModelName');
    const rec = this.models.get(name);
    if (!rec) throw validation(`Could not find model "${this.arns.model(name)}".`);
    return describeModel(rec);
  }

  async DeleteModel(input: Dict) {
    const name = requireName(input, 'ModelName');
    if (!this.models.has(name)) throw validation(`Could not find model "${this.arns.model(name)}".`);
    this.models.delete(name);
    return {};
  }

  async ListModels(input: Dict) {
    const contains = typeof input.NameContains === 'string' ? input.NameContains : '';
    const Models = this.models
      .values()
      .filter((m) => m.ModelName.includes(contains))
      .sort((a, b) => b.CreationTime - a.CreationTime)
      .map((m) => ({ ModelName: m.ModelName, ModelArn: m.ModelArn, CreationTime: m.CreationTime }));
    return { Models };
  }

  async CreateEndpointConfig(input: Dict) {
    return createEndpointConfig(input, this.configs, this.models, this.arns);
  }

  async DescribeEndpointConfig(input: Dict) {
    const name = requireName(input, 'EndpointConfigName');
    const rec = this.configs.get(name);
    if (!rec) throw validation(`Could not find endpoint configuration "${this.arns.config(name)}".`);
    return rec;
  }

  async ListEndpointConfigs(input: Dict) {
    const contains = typeof input.NameContains === 'string' ? input.NameContains : '';
    const EndpointConfigs = this.configs
      .values()
      .filter((c) => c.EndpointConfigName.includes(contains))
      .sort((a, b) => b.CreationTime - a.CreationTime)
      .map((c) => ({ EndpointConfigName: c.EndpointConfigName, EndpointConfigArn: c.EndpointConfigArn, CreationTime: c.CreationTime }));
    return { EndpointConfigs };
  }

  async DeleteEndpointConfig(input: Dict) {
    const name = requireName(input, 'EndpointConfigName');
    if (!this.configs.has(name)) throw validation(`Could not find endpoint configuration "${this.arns.config(name)}".`);
    // SageMaker lets a config in service go (the fleet runs on); one still being deployed may not.
    const deploying = [...this.endpoints.values()].find((st) => st.rec.pending?.EndpointConfigName === name);
    if (deploying)
      throw new AwsServiceError(
        'ResourceInUse',
        `Endpoint configuration ${name} is being deployed to endpoint ${deploying.rec.EndpointName}; wait for the update to finish`,
      );
    this.configs.delete(name);
    return {};
  }

  // ---- endpoints -----------------------------------------------------------------------

  private endpoint(input: Dict): EndpointState {
    const name = requireName(input, 'EndpointName');
    const st = this.endpoints.get(name);
    if (!st) throw validation(`Could not find endpoint "${this.arns.endpoint(name)}".`);
    return st;
  }

  private config(name: unknown): EndpointConfigRecord {
    const rec = typeof name === 'string' ? this.configs.get(name) : undefined;
    if (!rec) throw validation(`Could not find endpoint configuration "${this.arns.config(String(name))}".`);
    return rec;
  }

  /** Resolve models, fetch bundles and create (not start) the servers of a config. */
  private async buildFleet(endpoint: string, configName: string, weights?: Record<string, number>): Promise<Fleet> {
    const cfg = this.configs.get(configName);
    if (!cfg) throw new Error(`endpoint configuration ${configName} no longer exists`);
    const variants: Variant[] = [];
    // A shadow variant's server is built as the production ones are; the fleet copies requests to it.
    for (const pv of [...cfg.ProductionVariants, ...(cfg.ShadowProductionVariants ?? [])]) {
      const model = this.models.get(pv.ModelName);
      if (!model) throw new Error(`model ${pv.ModelName} of variant ${pv.VariantName} no longer exists`);
      const image = model.resolvedImage;
      const bundleDir = await this.bundles.ensure(image);
      const runtime = await this.runtimes.environmentFor(bundleDir);
      const dataUrl = model.PrimaryContainer.ModelDataUrl;
      const modelDir = dataUrl ? await this.modelData.ensure(dataUrl) : undefined;
      const server = new ModelServer({
        modelDir,
        label: `${endpoint}/${pv.VariantName}`,
        modelName: pv.ModelName,
        bundleDir,
        command: image.serveCommand,
        environment: { ...runtime, ...(model.PrimaryContainer.Environment ?? {}) },
        logPath: join(this.root, 'logs', endpoint, `${pv.VariantName}.${configName}.log`),
        // The shadow's server at the lowest CPU priority: it must never take a core from production (mirror/host.ts).
        nice: pv.VariantName === cfg.ShadowProductionVariants?.[0]?.VariantName ? SHADOW_NICE : undefined,
        pingTimeoutMs:
          pv.ContainerStartupHealthCheckTimeoutInSeconds !== undefined
            ? pv.ContainerStartupHealthCheckTimeoutInSeconds * 1000 * this.opts.timeScale
            : this.pingTimeoutMs,
      });
      const variant = new Variant(
        {
          name: pv.VariantName,
          weight: pv.InitialVariantWeight,
          instanceCount: pv.InitialInstanceCount,
          instanceType: pv.InstanceType,
          modelName: pv.ModelName,
          image,
          environment: model.PrimaryContainer.Environment ?? {},
        },
        server,
      );
      if (weights?.[pv.VariantName] !== undefined) variant.weight = weights[pv.VariantName]!;
      variants.push(variant);
    }
    const shadowName = cfg.ShadowProductionVariants?.[0]?.VariantName;
    const production = variants.filter((v) => v.name !== shadowName);
    const shadow = variants.find((v) => v.name === shadowName);
    const capture = captureSettings(cfg.DataCaptureConfig, 'DataCaptureConfig');
    return new Fleet(
      configName,
      production,
      capture,
      shadow && {
        variant: shadow,
        fraction: Math.min(1, shadow.spec.weight / Math.max(production[0]!.spec.weight, Number.MIN_VALUE)),
        mirror: this.shadowMirror(endpoint, shadow, capture),
      },
    );
  }

  /** The shadow variant's mirror process (mirror/host.ts): its copies' outcomes land in its metrics and the endpoint's series. */
  private shadowMirror(endpoint: string, shadow: Variant, capture: CaptureSettings | undefined): ShadowMirror {
    return new ShadowMirror({
      endpoint,
      variant: shadow.name,
      port: () => shadow.server.port,
      capture,
      s3: this.opts.s3,
      flushRecords: this.opts.captureFlushRecords ?? FLUSH_RECORDS,
      flushMs: this.opts.captureFlushMs ?? FLUSH_MS,
      record: (status, ms) => {
        shadow.metrics.record(status, ms);
        this.endpoints.get(endpoint)?.series.record(shadow.name, status, ms);
      },
    });
  }

  private async startServing(st: EndpointState, configName: string): Promise<void> {
    const fleet = await this.buildFleet(st.rec.EndpointName, configName, st.rec.weights);
    st.green = fleet;
    try {
      await fleet.start();
    } finally {
      st.green = undefined;
    }
    if (st.deleted || this.closing) {
      await fleet.stop();
      return;
    }
    st.serving = [{ fleet, share: 100 }];
  }

  async CreateEndpoint(input: Dict) {
    const name = requireName(input, 'EndpointName');
    if (this.endpoints.has(name)) throw validation(`Cannot create already existing endpoint "${this.arns.endpoint(name)}".`);
    const cfg = this.config(input.EndpointConfigName);
    if (this.endpoints.size >= MAX_ENDPOINTS) {
      throw new AwsServiceError(
        'ResourceLimitExceeded',
        `The account-level service limit 'number of endpoints' is ${MAX_ENDPOINTS} in the local cloud; delete an endpoint first`,
      );
    }
    const now = epochSeconds();
    const rec: EndpointRecord = {
      EndpointName: name,
      EndpointArn: this.arns.endpoint(name),
      EndpointConfigName: cfg.EndpointConfigName,
      EndpointStatus: 'Creating',
      CreationTime: now,
      LastModifiedTime: now,
    };
    const st: EndpointState = { rec, serving: [], deleted: false, series: this.newSeries() };
    this.endpoints.set(name, st);
    this.records.put(name, rec);
    st.busy = this.startServing(st, cfg.EndpointConfigName).then(
      () => this.setStatus(st, 'InService'),
      (err: Error) => this.setStatus(st, 'Failed', `Failed to create endpoint: ${err.message}`),
    );
    return { EndpointArn: rec.EndpointArn };
  }

  async UpdateEndpoint(input: Dict) {
    const st = this.endpoint(input);
    const cfg = this.config(input.EndpointConfigName);
    if ((st.rec.EndpointStatus !== 'InService' && st.rec.EndpointStatus !== 'Failed') || st.restarting) {
      throw validation(`Cannot update in-progress endpoint "${st.rec.EndpointArn}".`);
    }
    const dc = input.DeploymentConfig as Dict | undefined;
    if (dc?.BlueGreenUpdatePolicy || dc?.RollingUpdatePolicy) this.checkSameVariantNames(st, cfg);
    const greenInstances = cfg.ProductionVariants.reduce((n, v) => n + v.InitialInstanceCount, 0);
    const plan = planDeployment(dc, greenInstances, this.opts.timeScale, (name) => this.resolveAlarm(name));
    st.rec.pending = { EndpointConfigName: cfg.EndpointConfigName, StartTime: epochSeconds() };
    st.rec.LastDeploymentConfig = dc;
    this.setStatus(st, 'Updating');
    st.busy = this.deploy(st, cfg.EndpointConfigName, plan).catch((err: Error) => {
      // A bug of the deployment itself: keep what serves, say what happened.
      st.rec.pending = undefined;
      this.setStatus(st, st.serving.length ? 'InService' : 'Failed', `Failed to update endpoint: ${err.message}`);
    });
    return { EndpointArn: st.rec.EndpointArn };
  }

  /**
   * Deployment guardrails (a blue/green or rolling update policy) need the new config's variant
   * names to be the old config's: "your new endpoint configuration must have the same variant
   * name as the old endpoint configuration"
   * (https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-exclusions.html). An
   * update that adds or removes a variant (the A/B test's) goes without a DeploymentConfig.
   * Production variants only: the shadow stage adds a shadow variant beside the same production
   * one. The message is ours; AWS's exact wording was not available to check here.
   */
  private checkSameVariantNames(st: EndpointState, cfg: EndpointConfigRecord): void {
    const current = this.configs.get(st.rec.EndpointConfigName);
    if (!current) return;
    const names = (c: EndpointConfigRecord) => c.ProductionVariants.map((v) => v.VariantName).sort();
    const [before, after] = [names(current), names(cfg)];
    if (before.join('\n') === after.join('\n')) return;
    throw validation(
      `Endpoint config ${cfg.EndpointConfigName} has the variants ${after.join(', ')} and the endpoint's current config ${current.EndpointConfigName} has ${before.join(', ')}: a DeploymentConfig with a blue/green or rolling update policy needs the same variant names in both. Update without a DeploymentConfig to add or remove a variant.`,
    );
  }

  /** Blue/green: start green, shift by the plan while baking, then promote or roll back. */
  private async deploy(st: EndpointState, configName: string, plan: DeploymentPlan): Promise<void> {
    const blue = st.serving[0]?.fleet;
    let green: Fleet;
    try {
      green = await this.buildFleet(st.rec.EndpointName, configName);
      st.green = green;
      await green.start();
    } catch (err) {
      st.green = undefined;
      st.rec.pending = undefined;
      // The old fleet keeps serving; with none (a Failed endpoint) the endpoint stays Failed.
      this.setStatus(st, blue ? 'InService' : 'Failed', `Failed to update endpoint: ${(err as Error).message}`);
      return;
    }
    if (!blue) {
      st.serving = [{ fleet: green, share: 100 }];
    } else {
      // The alarms read the new fleet's variant names, as the VariantName dimension does:
      // both fleets' invocations of that variant, as on AWS.
      const watcher = new AlarmWatcher(
        plan.alarms,
        st.series,
        green.variants.map((v) => v.name),
        Date.now(),
      );
      const reason = await shiftTraffic(
        plan,
        green,
        {
          setGreenShare: (pct) => {
            st.serving =
              pct >= 100
                ? [{ fleet: green, share: 100 }]
                : [
                    { fleet: blue, share: 100 - pct },
                    { fleet: green, share: pct },
                  ];
          },
          cancelled: () => st.deleted || this.closing,
        },
        watcher,
      );
      if (reason) {
        this.setStatus(st, 'RollingBack', st.rec.FailureReason);
        st.serving = [{ fleet: blue, share: 100 }];
        st.green = undefined;
        await green.stop();
        st.rec.pending = undefined;
        this.setStatus(st, 'InService', `Rolled back: ${reason}`);
        return;
      }
      if (plan.terminationWaitMs > 0) await new Promise((r) => setTimeout(r, plan.terminationWaitMs));
      await blue.drained(INVOCATION_TIMEOUT_MS);
      await blue.stop();
    }
    st.green = undefined;
    if (st.deleted || this.closing) return;
    st.rec.EndpointConfigName = configName;
    st.rec.weights = undefined;
    st.rec.pending = undefined;
    this.setStatus(st, 'InService');
  }

  async DescribeEndpoint(input: Dict) {
    return describeEndpoint(this.endpoint(input), this.configs, this.models);
  }

  async DeleteEndpoint(input: Dict) {
    const st = this.endpoint(input);
    st.deleted = true;
    this.endpoints.delete(st.rec.EndpointName);
    this.records.delete(st.rec.EndpointName);
    const fleets = [...st.serving.map((s) => s.fleet), ...(st.green ? [st.green] : [])];
    st.serving = [];
    await Promise.all(fleets.map((f) => f.stop()));
    return {};
  }

  async ListEndpoints(input: Dict) {
    const contains = typeof input.NameContains === 'string' ? input.NameContains : '';
    const status = typeof input.StatusEquals === 'string' ? input.StatusEquals : undefined;
    const asc = input.SortOrder === 'Ascending';
    const byName = input.SortBy === 'Name';
    const Endpoints = [...this.endpoints.values()]
      .map((s) => s.rec)
      .filter((r) => r.EndpointName.includes(contains) && (!status || r.EndpointStatus === status))
      .sort((a, b) => (byName ? a.EndpointName.localeCompare(b.EndpointName) : a.CreationTime - b.CreationTime) * (asc ? 1 : -1))
      .map((r) => ({
        EndpointName: r.EndpointName,
        EndpointArn: r.EndpointArn,
        CreationTime: r.CreationTime,
        LastModifiedTime: r.LastModifiedTime,
        EndpointStatus: r.EndpointStatus,
      }));
    return { Endpoints };
  }

  async UpdateEndpointWeightsAndCapacities(input: Dict) {
    const st = this.endpoint(input);
    if (st.rec.EndpointStatus !== 'InService') throw validation(`Cannot update in-progress endpoint "${st.rec.EndpointArn}".`);
    const fleet = st.serving[0]?.fleet;
    const desired = input.DesiredWeightsAndCapacities;
    if (!fleet) throw validation(`Cannot update in-progress endpoint "${st.rec.EndpointArn}".`);
    if (!Array.isArray(desired) || desired.length === 0) throw validation('DesiredWeightsAndCapacities must list at least one variant');
    const weights = { ...(st.rec.weights ?? {}) };
    for (const [i, d] of (desired as Dict[]).entries()) {
      const v = fleet.variants.find((x) => x.name === d.VariantName);
      if (!v) throw validation(`The variant name(s) [${String(d.VariantName)}] is/are not present in endpoint "${st.rec.EndpointArn}".`);
      if (d.DesiredWeight !== undefined) {
        if (typeof d.DesiredWeight !== 'number' || !(d.DesiredWeight >= 0))
          throw validation(`DesiredWeightsAndCapacities[${i}].DesiredWeight must be a number >= 0`);
        weights[v.name] = d.DesiredWeight;
      }
    }
    for (const v of fleet.variants) if (weights[v.name] !== undefined) v.weight = weights[v.name]!;
    st.rec.weights = weights;
    this.setStatus(st, 'InService', st.rec.FailureReason);
    return { EndpointArn: st.rec.EndpointArn };
  }

  /** The alarm registry first, then the manifests' alarms (read now: manifests change with pushes). */
  private resolveAlarm(name: string): AlarmDefinition | undefined {
    const fromRegistry = this.opts.alarms.get(name);
    if (fromRegistry) return completeAlarm(fromRegistry);
    if (!this.opts.models) return undefined;
    const models = typeof this.opts.models === 'function' ? this.opts.models() : this.opts.models;
    return manifestAlarms(models, this.opts.rollbackAlarmPrefix ?? 'mlship-').get(name);
  }

  // ---- runtime ---------------------------------------------------------------------------

  /** SageMaker Runtime InvokeEndpoint (see runtime.ts). */
  invoke(req: InvokeEndpointRequest): Promise<InvokeEndpointResponse> {
    return invokeEndpoint(this.endpoints.get(req.endpointName), req, this.runtime);
  }

  /** Per-variant counters of the fleets taking traffic (for the CLI, tests and the bench). */
  variantMetrics(
    endpointName: string,
  ): { configName: string; variant: string; share: number; port: number; metrics: ReturnType<Variant['metrics']['snapshot']> }[] {
    const st = this.endpoints.get(endpointName);
    // A shadow variant is listed with its fleet at share 0: it answers copies, no caller.
    return (st?.serving ?? []).flatMap((s) =>
      [...s.fleet.variants, ...(s.fleet.shadow ? [s.fleet.shadow.variant] : [])].map((v) => ({
        configName: s.fleet.configName,
        variant: v.name,
        share: v === s.fleet.shadow?.variant ? 0 : s.share,
        port: v.server.port,
        metrics: v.metrics.snapshot(),
      })),
    );
  }

  /** The invocations of `variant` (a production or shadow variant) of an endpoint in [startMs, endMs): CloudWatch's per-variant metrics. */
  metricWindow(endpointName: string, variant: string, startMs: number, endMs: number): VariantMetrics | undefined {
    return this.endpoints.get(endpointName)?.series.window([variant], startMs, endMs);
  }

  async flushCapture(): Promise<void> {
    // The shadows' copies first: their mirrors count them and upload the shadows' lines themselves.
    const shadows = [...this.endpoints.values()].flatMap((st) =>
      st.serving.flatMap((s) => (s.fleet.shadow ? [s.fleet.shadow.mirror] : [])),
    );
    await Promise.all(shadows.map((m) => m.flush()));
    await this.capture.flush();
  }

  async waitForEndpoint(name: string): Promise<Dict> {
    for (;;) {
      const st = this.endpoints.get(name);
      if (!st) throw validation(`Could not find endpoint "${this.arns.endpoint(name)}".`);
      const busy = st.busy;
      await busy;
      if (st.busy === busy) return this.DescribeEndpoint({ EndpointName: name });
    }
  }

  /** Stop every model server, drop nothing: records stay as they were for the next start. */
  async close(): Promise<void> {
    this.closing = true;
    const all = [...this.endpoints.values()];
    const fleets = all.flatMap((st) => [...st.serving.map((s) => s.fleet), ...(st.green ? [st.green] : [])]);
    await Promise.all(fleets.map((f) => f.stop()));
    await Promise.all(all.map((st) => st.busy?.catch(() => undefined)));
    // A fleet that finished starting during close is stopped by its orchestration; stop stragglers too.
    await Promise.all(all.flatMap((st) => st.serving.map((s) => s.fleet.stop())));
    await this.capture.close();
  }
}
