import { rmSync } from 'node:fs';
import { isAbsolute, join, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createCodeBuildClient, createS3Client } from '../../lambdas/shared/clients';
import { codeBuildBuilder } from '../check/builder';
import { runCheck } from '../check/run-check';
import { localClientConfig } from './client';
import { verdictLines, type CheckRecord } from '../check/records';
import { placeholdersOf, renderAsl } from '../asl';
import type { DiscoveredModel } from '../config';
import {
  OPTIONAL_TASK_ENV,
  SCHEDULED_FUNCTIONS,
  TASKS,
  TASK_ENV,
  TASK_NAMES,
  WORKFLOWS,
  type ScheduledFunctionName,
  type WorkflowName,
} from '../tasks';
import { ChildSupervisor } from './core/children';
import { createCodeBuildService, BUILD_PROJECT_PREFIX, type CodeBuildService } from './services/codebuild';
import {
  ARTIFACT_BUCKET,
  CLOUD_FILE,
  DEFAULT_PORT,
  LOCAL_ACCOUNT,
  LOCAL_REGION,
  NOTIFICATIONS_FILE,
  NOTIFICATION_TOPIC_ARN,
  PACKAGE_ROOT,
  ROLLBACK_ALARM_PREFIX,
  STATE_MACHINE_NAMES,
  lambdaArn,
  stateMachineArn,
  taskFunctionName,
} from './constants';
import { TaskCredentials } from './core/access';
import { Edge } from './core/edge';
import { writeJsonAtomic } from './core/fsutil';
import {
  commitAuthor,
  ensurePushSecret,
  ensureRepository,
  handlePush,
  parsePushRequest,
  PushRequestError,
  servedModels,
} from './services/git';
import { LocalLambda, WorkerTasks, type LambdaHandler } from './services/lambda';
import { createSageMakerService, type SageMakerService } from './services/sagemaker';
import { createCloudWatchService } from './services/cloudwatch';
import { startS3Server, type S3Server } from './services/s3';
import { parseSchedule, Scheduler } from './services/scheduler';
import { LocalSns } from './services/sns';
import { StepFunctionsService } from './services/sfn';
import { RequestChecks, type CheckedRequest } from './core/request-check';

/**
 * The local cloud: one edge port on 127.0.0.1 in front of Step Functions, CodeBuild,
 * SageMaker (+ Runtime), SNS and an s3rver child process, plus the drift scheduler and the
 * git push trigger. `mlship up`, the demo and the tests all start it through `LocalCloud.start`.
 *
 * The task handlers run in this process and build their AWS clients from `process.env` when
 * first imported, so `start` sets the task environment (lib/tasks.ts TASK_ENV) and
 * `AWS_ENDPOINT_URL` first. One consequence: one local cloud per process at a time; a process
 * that restarts it should reuse the same port (see `port` below).
 */

export interface LocalCloudOptions {
  /** Edge port; 0 picks a free one. @default 4566 */
  port?: number;
  /** The data dir, the only state (relative to the current directory). @default .mlship */
  dataDir: string;
  /**
   * A models repository checkout: its `models/*\/model.yaml` add the models never pushed to the
   * data dir's repository (pushed manifests are the state and win). @default cwd
   */
  repoRoot?: string;
  /** Multiplies Wait states, Retry intervals and deployment bake times; 1 = real time. @default 1 */
  timeScale?: number;
  /** Handlers by Lambda function name replacing or adding to the task modules (tests, benchmark). */
  functions?: Record<string, LambdaHandler>;
  /** Run each model's drift schedule. @default true */
  scheduler?: boolean;
  /** Start the approval console (lib/console) too. @default false */
  console?: boolean;
  /** Where unexpected errors of background work are reported. @default stderr */
  onError?: (err: unknown, where: string) => void;
  /** Sees every request the edge checked against AWS's service models (the contract check). @default none */
  onRequest?: (request: CheckedRequest) => void;
  /** Where the cloud reports what it did by itself (a model skipped, a child restarted or swept). @default stderr */
  log?: (line: string) => void;
}

/** The services the cloud runs behind its edge. */
interface LocalServices {
  stepFunctions: StepFunctionsService;
  codeBuild: CodeBuildService;
  sageMaker: SageMakerService;
  lambda: LocalLambda;
  workerTasks: WorkerTasks;
}

/** What a started cloud holds: its public parts and what only close() needs. */
interface LocalCloudParts {
  port: number;
  dataDir: string;
  gitDir: string;
  consoleUrl: string | undefined;
  services: LocalServices;
  s3: S3Client;
  parts: {
    edge: Edge;
    s3Server: S3Server;
    children: ChildSupervisor;
    scheduler: Scheduler;
    workerTasks: WorkerTasks;
    scheduleDrift: boolean;
    closeConsole?: () => Promise<void>;
  };
}

type Cleanup = Array<() => Promise<void> | void>;

/** What `LocalCloud.start` resolved from its options, and what is up so far. */
interface StartContext {
  opts: LocalCloudOptions;
  /** Absolute. */
  dataDir: string;
  repoRoot: string;
  timeScale: number;
  onError: (err: unknown, where: string) => void;
  log: (line: string) => void;
  children: ChildSupervisor;
  /** The close of each part started, in order; run in reverse when the start fails. */
  cleanup: Cleanup;
}

export class LocalCloud {
  /** `http://127.0.0.1:<port>`: what AWS_ENDPOINT_URL is set to. */
  readonly endpoint: string;
  readonly dataDir: string;
  /** The bare repository to push to (`git remote add mlship <gitDir>`). */
  readonly gitDir: string;
  readonly consoleUrl?: string;
  readonly bucket = ARTIFACT_BUCKET;

  readonly port: number;
  readonly stepFunctions: StepFunctionsService;
  readonly codeBuild: CodeBuildService;
  readonly sageMaker: SageMakerService;
  readonly lambda: LocalLambda;
  readonly s3: S3Client;
  private readonly parts: LocalCloudParts['parts'];
  private models: DiscoveredModel[] = [];

  private constructor(p: LocalCloudParts) {
    this.port = p.port;
    this.endpoint = `http://127.0.0.1:${p.port}`;
    this.dataDir = p.dataDir;
    this.gitDir = p.gitDir;
    this.consoleUrl = p.consoleUrl;
    this.stepFunctions = p.services.stepFunctions;
    this.codeBuild = p.services.codeBuild;
    this.sageMaker = p.services.sageMaker;
    this.lambda = p.services.lambda;
    this.s3 = p.s3;
    this.parts = p.parts;
  }

  /**
   * The pre-merge check of a model (lib/check, issue 21): its build through this cloud's
   * CodeBuild, the candidate and production scored by model servers beside it, the release's
   * evaluation code; nothing deployed. Recorded under `checks/<model>/`.
   */
  async runCheck(m: DiscoveredModel, input: { commit: string; ref: string; dirty: boolean; zip: Buffer }): Promise<CheckRecord> {
    const codebuild = createCodeBuildClient(localClientConfig(this.endpoint));
    try {
      const builder = codeBuildBuilder({ s3: this.s3, codebuild, bucket: this.bucket, projectPrefix: BUILD_PROJECT_PREFIX });
      const deps = { s3: this.s3, bucket: this.bucket, workDir: join(this.dataDir, 'checks'), now: () => new Date(), builder };
      return await runCheck(deps, { manifest: m.manifest, ...input });
    } finally {
      codebuild.destroy();
    }
  }

  /** The ARN of a workflow's state machine. */
  static stateMachineArn(workflow: WorkflowName): string {
    return stateMachineArn(STATE_MACHINE_NAMES[workflow]);
  }

  /** The models the cloud knows: loaded at start, replaced by the manifests of each push. */
  knownModels(): DiscoveredModel[] {
    return this.models;
  }

  static async start(opts: LocalCloudOptions): Promise<LocalCloud> {
    const dataDir = isAbsolute(opts.dataDir) ? opts.dataDir : resolve(opts.dataDir);
    const repoRoot = resolve(opts.repoRoot ?? process.cwd());
    const timeScale = opts.timeScale ?? 1;
    const onError =
      opts.onError ?? ((err, where) => process.stderr.write(`mlship local cloud: ${where}: ${(err as Error)?.stack ?? String(err)}\n`));
    const log = opts.log ?? ((line: string) => process.stderr.write(`mlship local cloud: ${line}\n`));

    // First, so no child of this start can be mistaken for an orphan of the last one.
    const children = await ChildSupervisor.open(dataDir, log);
    const cleanup: Cleanup = [() => children.close()];
    try {
      return await LocalCloud.startParts({ opts, dataDir, repoRoot, timeScale, onError, log, children, cleanup });
    } catch (err) {
      for (const c of cleanup.reverse()) await Promise.resolve(c()).catch(() => undefined);
      throw err;
    }
  }

  /** Everything after the child supervisor, in order; each part registers its close in `c.cleanup`. */
  private static async startParts(c: StartContext): Promise<LocalCloud> {
    const { opts, dataDir, cleanup } = c;
    const gitDir = await ensureRepository(dataDir);
    const models = await servedModels(gitDir, c.repoRoot, c.log);
    const { s3Server, s3 } = await startS3(c);

    // Set once everything is up; the services' model lookups and the push trigger read it lazily.
    const started: { cloud?: LocalCloud } = {};
    const knownModels = () => started.cloud?.knownModels() ?? models;
    const services = startServices({ opts, dataDir, timeScale: c.timeScale, s3, models: knownModels }, cleanup);
    const internal = internalRoutes(
      services.lambda,
      gitDir,
      () => started.cloud!,
      (found, branch, files) => started.cloud!.setModels(found, { branch, files }),
    );
    const { edge, port, taskCredentials } = await startEdge(c, { services, s3Server, internal });
    const endpoint = `http://127.0.0.1:${port}`;
    setTaskEnvironment(endpoint, LocalCloud.stateMachineArn('release'), dataDir, taskCredentials);
    // Builds cut off by the last run start again now that builds can reach the edge.
    services.codeBuild.resumeInterrupted();

    const consolePart = opts.console ? await startLocalConsole(endpoint, cleanup) : undefined;
    const scheduler = new Scheduler(c.onError);
    const cloud = new LocalCloud({
      port,
      dataDir,
      gitDir,
      consoleUrl: consolePart?.url,
      services,
      s3,
      parts: {
        edge,
        s3Server,
        children: c.children,
        scheduler,
        workerTasks: services.workerTasks,
        scheduleDrift: opts.scheduler !== false,
        closeConsole: consolePart?.close,
      },
    });
    started.cloud = cloud;
    cloud.setModels(models);
    if (opts.scheduler !== false)
      for (const name of Object.keys(SCHEDULED_FUNCTIONS) as ScheduledFunctionName[])
        scheduler.set({
          id: `:${name}`,
          schedule: parseSchedule(SCHEDULED_FUNCTIONS[name].schedule),
          run: async () => void (await cloud.runScheduledFunction(name)),
        });
    writeJsonAtomic(join(dataDir, CLOUD_FILE), {
      endpoint,
      pid: process.pid,
      consoleUrl: consolePart?.url,
      dataDir,
      gitDir,
      startedAt: new Date().toISOString(),
    });
    return cloud;
  }

  private setModels(found: DiscoveredModel[], pushed?: { branch: string; files: ReadonlySet<string> }): void {
    // A push adds and updates models; a model of the pushed branch whose manifest file its
    // commit no longer has is retired (issue 17): its drift schedule and rollback alarms go,
    // as the models stack's redeploy removes them on AWS. Its endpoints and registry records
    // stay. A manifest that is there but invalid or claims a taken name retires nothing.
    const byName = new Map(this.models.map((m) => [m.manifest.name, m]));
    if (pushed)
      for (const [name, m] of byName)
        if (m.manifest.branch === pushed.branch && !pushed.files.has(m.file)) {
          byName.delete(name);
          this.parts.scheduler.remove(name);
        }
    for (const m of found) byName.set(m.manifest.name, m);
    this.models = [...byName.values()];
    if (!this.parts.scheduleDrift) return;
    for (const m of found) {
      this.parts.scheduler.set({
        id: m.manifest.name,
        schedule: parseSchedule(m.manifest.drift.schedule),
        run: async () => {
          await this.startWorkflow('driftCheck', `${m.manifest.name}-drift`, { model: m.manifest.name, trigger: 'schedule' });
        },
      });
    }
  }

  /** Next drift check per model (ISO 8601). */
  upcomingDriftChecks(): Record<string, string> {
    // Scheduled functions' jobs are named ":<Function>", which no model name can be.
    return Object.fromEntries(Object.entries(this.parts.scheduler.upcoming()).filter(([id]) => !id.startsWith(':')));
  }

  /**
   * Run a scheduled function (lib/tasks.ts SCHEDULED_FUNCTIONS) now, in this process, with the
   * scheduled event EventBridge would send; the scheduler calls this at each fire time.
   */
  async runScheduledFunction(name: ScheduledFunctionName): Promise<unknown> {
    const mod = (await import(pathToFileURL(join(PACKAGE_ROOT, SCHEDULED_FUNCTIONS[name].entry)).href)) as {
      handler: (event: unknown) => Promise<unknown>;
    };
    return mod.handler({ 'detail-type': 'Scheduled Event', source: 'mlship.local-scheduler', time: new Date().toISOString() });
  }

  /** Store a source archive at `source/<model>/<commit>.zip`; returns its s3:// URI. */
  async uploadSource(model: string, commit: string, zip: Buffer): Promise<string> {
    const key = `source/${model}/${commit}.zip`;
    await this.s3.send(new PutObjectCommand({ Bucket: ARTIFACT_BUCKET, Key: key, Body: zip, ContentType: 'application/zip' }));
    return `s3://${ARTIFACT_BUCKET}/${key}`;
  }

  /**
   * Start a workflow execution named `<prefix>-<time>` (unique, sortable).
   * @returns the execution ARN and name
   */
  async startWorkflow(
    workflow: WorkflowName,
    prefix: string,
    input: Record<string, unknown>,
  ): Promise<{ executionArn: string; name: string }> {
    const name = `${prefix}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`.slice(0, 80);
    const out = (await this.stepFunctions.handle('StartExecution', {
      stateMachineArn: LocalCloud.stateMachineArn(workflow),
      name,
      input: JSON.stringify(input),
    })) as { executionArn: string };
    return { executionArn: out.executionArn, name };
  }

  /** Stop everything this cloud started: executions (FAILED, redrivable), builds, endpoints, servers, s3rver. */
  async close(): Promise<void> {
    this.parts.scheduler.close();
    await this.parts.closeConsole?.().catch(() => undefined);
    await this.stepFunctions.close();
    await this.parts.edge.close();
    await Promise.allSettled([this.codeBuild.close(), this.sageMaker.close(), this.parts.workerTasks.close()]);
    this.s3.destroy();
    await this.parts.s3Server.close();
    await this.parts.children.close();
    rmSync(join(this.dataDir, CLOUD_FILE), { force: true });
  }
}

/** The release or drift definition with every task placeholder set to its local Lambda ARN. */
export function renderWorkflow(workflow: WorkflowName): string {
  const file = WORKFLOWS[workflow].file;
  const byPlaceholder = new Map(TASK_NAMES.map((t) => [TASKS[t].placeholder as string, t]));
  const subs: Record<string, string> = {};
  for (const p of placeholdersOf(file)) {
    const task = byPlaceholder.get(p);
    if (!task) throw new Error(`${file}: placeholder \${${p}} names no task in lib/tasks.ts`);
    subs[p] = lambdaArn(taskFunctionName(task));
  }
  return renderAsl(file, subs);
}

/** Step Functions, CodeBuild and SageMaker, with the task functions they call; each registers its close in `cleanup`. */
function startServices(
  c: { opts: LocalCloudOptions; dataDir: string; timeScale: number; s3: S3Client; models: () => DiscoveredModel[] },
  cleanup: Cleanup,
): LocalServices {
  const { dataDir, timeScale, s3, models } = c;
  // The long-computing tasks run on worker threads; overrides from the caller win.
  const workerTasks = new WorkerTasks();
  cleanup.push(() => workerTasks.close());
  const lambda = new LocalLambda({ ...workerTasks.functions(), ...c.opts.functions });
  // Step Functions calls SageMaker for createTrainingJob.sync as on AWS: through the checks of
  // the front door (AWS's service model), then the service. Set below, once SageMaker exists.
  const integrationChecks = new RequestChecks(c.opts.onRequest);
  const held: { sageMaker?: SageMakerService } = {};
  const stepFunctions = new StepFunctionsService({
    dataDir,
    lambda,
    timeScale,
    sagemaker: async (operation, input) => {
      integrationChecks.json('SageMaker', operation, input, {});
      return (await held.sageMaker!.handle(operation, input)) as Record<string, unknown>;
    },
    stateMachines: (Object.keys(WORKFLOWS) as WorkflowName[]).map((w) => ({ name: STATE_MACHINE_NAMES[w], definition: renderWorkflow(w) })),
  });
  cleanup.push(() => stepFunctions.close());
  const codeBuild = createCodeBuildService({
    dataDir,
    s3,
    bucket: ARTIFACT_BUCKET,
    models,
    region: LOCAL_REGION,
    accountId: LOCAL_ACCOUNT,
    timeScale,
  });
  cleanup.push(() => codeBuild.close());
  // The rollback alarms' thresholds come from each model's manifest, as CDK sets them on AWS.
  const sageMaker = createSageMakerService({
    dataDir,
    s3,
    bucket: ARTIFACT_BUCKET,
    region: LOCAL_REGION,
    accountId: LOCAL_ACCOUNT,
    timeScale,
    models,
    rollbackAlarmPrefix: ROLLBACK_ALARM_PREFIX,
  });
  held.sageMaker = sageMaker;
  cleanup.push(() => sageMaker.close());
  return { stepFunctions, codeBuild, sageMaker, lambda, workerTasks };
}

/** The s3rver child holding the artifact bucket, and the services' client of it; both register their close in `cleanup`. */
async function startS3({ dataDir, log, cleanup }: StartContext): Promise<{ s3Server: S3Server; s3: S3Client }> {
  const s3Server = await startS3Server(join(dataDir, 's3'), ARTIFACT_BUCKET, { log });
  cleanup.push(() => s3Server.close());
  const s3 = createS3Client({
    endpoint: s3Server.url,
    region: LOCAL_REGION,
    // The services' own calls ride through a restart of the S3 server (refused connections
    // are retried); the SDK's default of 3 attempts is over in well under a second.
    maxAttempts: 10,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  cleanup.push(() => s3.destroy());
  return { s3Server, s3 };
}

/** The edge in front of the services, listening; returns its port and the credential of the in-process tasks. */
async function startEdge(
  { opts, dataDir, onError, cleanup }: StartContext,
  p: { services: LocalServices; s3Server: S3Server; internal: ConstructorParameters<typeof Edge>[0]['internal'] },
): Promise<{ edge: Edge; port: number; taskCredentials: TaskCredentials }> {
  const { s3Server } = p;
  const { stepFunctions, codeBuild, sageMaker } = p.services;
  const pushSecret = ensurePushSecret(dataDir);
  // The credential of the in-process tasks: only requests signed with it may answer task
  // tokens or read approval-tokens/ (core/access.ts), as only DecideApproval's role may on AWS.
  const taskCredentials = new TaskCredentials();
  // CloudWatch's GetMetricData over the endpoint host's per-variant series (AWS/SageMaker metrics).
  const cloudWatch = createCloudWatchService({ sageMakerMetrics: (...args) => sageMaker.metricWindow(...args) });
  const edge = new Edge({
    port: opts.port ?? DEFAULT_PORT,
    services: [stepFunctions, codeBuild, sageMaker, cloudWatch],
    cloudWatch,
    s3Url: s3Server.url,
    s3Ready: () => s3Server.up || s3Server.ready(15_000),
    sns: new LocalSns(join(dataDir, NOTIFICATIONS_FILE), [NOTIFICATION_TOPIC_ARN]),
    invokeEndpoint: (req) => sageMaker.runtime.invokeEndpoint(req),
    onError,
    internalSecret: pushSecret,
    openInternal: ['decide-approval'],
    taskCredentials,
    requestChecks: new RequestChecks(opts.onRequest),
    internal: p.internal,
  });
  const port = await edge.listen();
  cleanup.push(() => edge.close());
  return { edge, port, taskCredentials };
}

/** The edge's internal routes: DecideApproval's function URL and the git push trigger. */
function internalRoutes(
  lambda: LocalLambda,
  gitDir: string,
  cloud: () => LocalCloud,
  updateModels: (found: DiscoveredModel[], branch: string, manifestFiles: ReadonlySet<string>) => void,
): ConstructorParameters<typeof Edge>[0]['internal'] {
  return {
    // DecideApproval's function URL. Locally there is no IAM: the approver's name, which
    // the console and `mlship approve --as` send, stands in for the signer's identity.
    'decide-approval': (body, headers) =>
      invokeFunctionUrl(lambda, taskFunctionName('DecideApproval'), body, String(headers['x-mlship-approver'] ?? '')),
    'git-push': async (body) => {
      try {
        const text = await handlePush(
          {
            gitDir,
            uploadSource: (model, commit, zip) => cloud().uploadSource(model, commit, zip),
            startRelease: async (model, input) =>
              cloud().startWorkflow('release', `${model}-${String(input.commitId).slice(0, 8)}`, {
                ...input,
                ...(await commitAuthor(gitDir, String(input.commitId))),
              }),
            updateModels,
            runCheck: async (m, { commit, branch, zip }) =>
              verdictLines(await cloud().runCheck(m, { commit, ref: branch, dirty: false, zip })),
          },
          parsePushRequest(body, gitDir),
        );
        return { status: 200, body: text };
      } catch (err) {
        if (!(err instanceof PushRequestError)) throw err;
        return { status: err.status, body: `mlship: push refused: ${err.message}; no release started\n` };
      }
    },
  };
}

/** The approval console against this cloud; loaded only when asked for, as it pulls in fastify and its pages. */
async function startLocalConsole(endpoint: string, cleanup: Cleanup): Promise<{ url: string; close: () => Promise<void> }> {
  const { startConsole } = await import('../console');
  const c = await startConsole({ target: { endpoint } });
  const close = () => c.close();
  cleanup.push(close);
  return { url: c.url, close };
}

/** The environment the task handlers read (lib/tasks.ts TASK_ENV), with local values. */
function setTaskEnvironment(endpoint: string, releaseArn: string, dataDir: string, credentials: TaskCredentials): void {
  const env: Record<string, string> = {
    [TASK_ENV.artifactBucket]: ARTIFACT_BUCKET,
    [TASK_ENV.notificationTopicArn]: NOTIFICATION_TOPIC_ARN,
    [TASK_ENV.releaseStateMachineArn]: releaseArn,
    [TASK_ENV.buildProjectPrefix]: BUILD_PROJECT_PREFIX,
    [TASK_ENV.sagemakerRoleArn]: `arn:aws:iam::${LOCAL_ACCOUNT}:role/mlship-sagemaker`,
    [TASK_ENV.imageRepositoryPrefix]: `${LOCAL_ACCOUNT}.dkr.ecr.${LOCAL_REGION}.amazonaws.com/mlship/`,
    [TASK_ENV.rollbackAlarmPrefix]: ROLLBACK_ALARM_PREFIX,
    // Failure causes name the model server's log; locally it is a file, not CloudWatch.
    [OPTIONAL_TASK_ENV.endpointLogLocation]: join(dataDir, 'sagemaker', 'logs', '{endpoint}') + sep,
    [OPTIONAL_TASK_ENV.deployment]: 'local cloud',
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: LOCAL_REGION,
    AWS_DEFAULT_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
  };
  Object.assign(process.env, env);
  // No CloudWatch locally, and the handlers share this process's stdout: Powertools Metrics'
  // EMF lines would interleave with `mlship up`'s output (lambdas/shared/metrics.ts). Tracing
  // is off by itself outside Lambda. An explicit setting wins, to look at the EMF.
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  // No KMS locally: objects are stored unencrypted by the local S3 server.
  delete process.env[TASK_ENV.kmsKeyId];
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
}

/**
 * Invoke a function as its function URL would: an HTTP API v2 event with the caller's
 * identity in `requestContext.authorizer.iam`, and the function's `{ statusCode, body }` as
 * the HTTP answer.
 */
async function invokeFunctionUrl(
  lambda: LocalLambda,
  functionName: string,
  body: Buffer,
  caller: string,
): Promise<{ status: number; body: string; contentType: string }> {
  const event = {
    version: '2.0',
    rawPath: '/',
    headers: { 'content-type': 'application/json' },
    requestContext: { http: { method: 'POST', path: '/' }, authorizer: { iam: { userArn: caller.trim() } } },
    body: body.toString('utf8'),
    isBase64Encoded: false,
  };
  const out = (await lambda.invoke(functionName, event)) as { statusCode?: number; body?: string } | null;
  return { status: out?.statusCode ?? 200, body: out?.body ?? '', contentType: 'application/json' };
}
