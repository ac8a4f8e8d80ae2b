import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { GetExecutionHistoryCommand, SFNClient } from '@aws-sdk/client-sfn';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { SageMakerRuntimeClient, InvokeEndpointCommand } from '@aws-sdk/client-sagemaker-runtime';
import { LocalCloud } from '../../lib/local/cloud';
import type { LambdaHandler } from '../../lib/local/services/lambda';
import type { ExecutionRecord } from '../../lib/local/services/sfn';
import type { CheckedRequest } from '../../lib/local/core/request-check';
import { localDecider } from '../../lib/console/decision-client';

/**
 * The real release and drift state machines with the real task handlers, CodeBuild and
 * SageMaker, on a repository holding the tiny fixture model (test/workflow/fixtures/tiny).
 * Each source variant is one commit whose `knobs.json` switches on a failure.
 */

const run = promisify(execFile);
const FIXTURE = join(import.meta.dirname, 'fixtures', 'tiny');
export const MODEL = 'tiny';
/** Wait states, retry pauses and bake times 20x faster; the approval timeout is not scaled. */
export const TIME_SCALE = 0.05;

export interface Knobs {
  failBuild?: boolean;
  quality?: 'good' | 'bad';
  delayMs?: number;
  crashFile?: string;
  /** The server exits when this file exists (a crash, not an error answer). */
  exitFile?: string;
  /** `nan`: predictions are NaN (as Python writes them); `error500`: every invocation answers 500. */
  answer?: 'nan' | 'error500';
  /** Listen on 127.0.0.1 only, which SageMaker's container contract does not allow. */
  bindLoopback?: boolean;
  /** Added to every prediction: a uniformly worse model. */
  bias?: number;
  /** Added to the predictions of rows with x below `below`: a model worse on one slice. */
  sliceBias?: { below: number; by: number };
  /** sm-train.mjs (training.mode sagemaker) writes this to the failure file and exits 1. */
  trainFail?: string;
  /** sm-train.mjs sleeps this long before training. */
  trainSleepSeconds?: number;
  /** Never answer an invocation once this file exists (a hung model). */
  hangFile?: string;
  /** Add `offset` to every prediction once this file exists (a candidate that disagrees). */
  offsetFile?: string;
  offset?: number;
}

export class WorkflowHarness {
  readonly sfn: SFNClient;
  readonly s3: S3Client;
  readonly runtime: SageMakerRuntimeClient;
  readonly sagemaker: SageMakerClient;
  private constructor(
    readonly cloud: LocalCloud,
    readonly repo: string,
    readonly temp: string,
    /** Every request the edge checked against AWS's service models (the contract check). */
    readonly requests: CheckedRequest[],
  ) {
    const cfg = { endpoint: cloud.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
    this.sfn = new SFNClient(cfg);
    this.s3 = new S3Client({
      ...cfg,
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    this.runtime = new SageMakerRuntimeClient(cfg);
    this.sagemaker = new SageMakerClient(cfg);
  }

  /**
   * @param opts.log receives what the cloud reports by itself (LocalCloudOptions.log)
   * @param opts.functions task handlers by function name (`mlship-<Task>`) replacing the real ones
   */
  static async start(opts: { log?: (line: string) => void; functions?: Record<string, LambdaHandler> } = {}): Promise<WorkflowHarness> {
    const temp = mkdtempSync(join(tmpdir(), 'mlship-wf-'));
    const repo = join(temp, 'repo');
    mkdirSync(join(repo, 'models'), { recursive: true });
    cpSync(FIXTURE, join(repo, 'models', MODEL), { recursive: true });
    await run('git', ['init', '--quiet', '--initial-branch=main', repo]);
    // The handlers' INFO lines would drown the test output; failures still log at ERROR.
    process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
    const requests: CheckedRequest[] = [];
    const cloud = await LocalCloud.start({
      port: 0,
      dataDir: join(temp, 'data'),
      repoRoot: repo,
      timeScale: TIME_SCALE,
      scheduler: false,
      log: opts.log,
      functions: opts.functions,
      onRequest: (r) => requests.push(r),
    });
    return new WorkflowHarness(cloud, repo, temp, requests);
  }

  /** The checked requests the task handlers sent: signed with the cloud's task credential, which start() put in the environment. */
  taskRequests(): CheckedRequest[] {
    return this.requests.filter((r) => r.accessKeyId === process.env.AWS_ACCESS_KEY_ID);
  }

  /**
   * Stop the cloud, then hold the test to the contract: a task request AWS's models refuse
   * fails the file, even where the test expected its release to fail anyway.
   */
  async close(): Promise<void> {
    this.sfn.destroy();
    this.s3.destroy();
    this.runtime.destroy();
    this.sagemaker.destroy();
    await this.cloud.close();
    rmSync(this.temp, { recursive: true, force: true });
    const refused = this.taskRequests().filter((r) => r.violations.length > 0);
    if (refused.length > 0)
      throw new Error(`the task handlers sent ${refused.length} request(s) AWS would refuse: ${JSON.stringify(refused)}`);
  }

  /** Commit the fixture with these knobs; returns the commit id. */
  async commit(knobs: Knobs, manifestEdit?: (yaml: string) => string): Promise<string> {
    writeFileSync(join(this.repo, 'models', MODEL, 'knobs.json'), `${JSON.stringify(knobs)}\n`);
    const manifest = readFileSync(join(FIXTURE, 'model.yaml'), 'utf8');
    writeFileSync(join(this.repo, 'models', MODEL, 'model.yaml'), manifestEdit ? manifestEdit(manifest) : manifest);
    const message = JSON.stringify(knobs);
    const g = (...args: string[]) => run('git', ['-C', this.repo, '-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args]);
    await g('add', '-A');
    await g('commit', '--quiet', '--allow-empty', '-m', message);
    return (await g('rev-parse', 'HEAD')).stdout.trim();
  }

  /** Archive a commit to S3 and start its release, as the push trigger does (with a 1 s poll). */
  async release(knobs: Knobs, manifestEdit?: (yaml: string) => string): Promise<{ executionArn: string; name: string; commitId: string }> {
    const commitId = await this.commit(knobs, manifestEdit);
    const { stdout } = await run('git', ['-C', this.repo, 'archive', '--format=zip', commitId], {
      encoding: 'buffer',
      maxBuffer: 64 * 1024 * 1024,
    });
    const sourceUri = await this.cloud.uploadSource(MODEL, commitId, stdout);
    const started = await this.cloud.startWorkflow('release', `${MODEL}-${commitId.slice(0, 8)}`, {
      model: MODEL,
      commitId,
      sourceUri,
      trigger: 'manual',
      pollSeconds: 1,
    });
    return { ...started, commitId };
  }

  /** Start another release of a commit already released, as drift retraining or a retry does. */
  async releaseAgain(commitId: string, trigger: 'drift' | 'manual'): Promise<{ executionArn: string; name: string; commitId: string }> {
    const { stdout } = await run('git', ['-C', this.repo, 'archive', '--format=zip', commitId], {
      encoding: 'buffer',
      maxBuffer: 64 * 1024 * 1024,
    });
    const sourceUri = await this.cloud.uploadSource(MODEL, commitId, stdout);
    const input = {
      model: MODEL,
      commitId,
      sourceUri,
      trigger,
      reason: `workflow test: ${trigger} release of a released commit`,
      pollSeconds: 1,
    };
    const started = await this.cloud.startWorkflow('release', `${MODEL}-${commitId.slice(0, 8)}-${trigger}`, input);
    return { ...started, commitId };
  }

  wait(executionArn: string): Promise<ExecutionRecord> {
    return this.cloud.stepFunctions.waitForExecution(executionArn);
  }

  /** The top-level states the execution entered, in order. */
  async path(executionArn: string): Promise<string[]> {
    const out: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, nextToken }));
      for (const e of page.events ?? []) if (e.type?.endsWith('StateEntered')) out.push(e.stateEnteredEventDetails!.name!);
      nextToken = page.nextToken;
    } while (nextToken);
    return out;
  }

  async getJson<T = any>(key: string): Promise<T | undefined> {
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.cloud.bucket, Key: key }));
      return JSON.parse(await out.Body!.transformToString()) as T;
    } catch (err) {
      if ((err as Error).name === 'NoSuchKey') return undefined;
      throw err;
    }
  }

  async keys(prefix: string): Promise<string[]> {
    const out = await this.s3.send(new ListObjectsV2Command({ Bucket: this.cloud.bucket, Prefix: prefix }));
    return (out.Contents ?? []).map((c) => c.Key!);
  }

  /** Wait until the execution is in RequestApproval and its approval record exists (or it ended). */
  async approvalOf(executionName: string, executionArn: string): Promise<any | undefined> {
    for (;;) {
      const record = await this.getJson(`approvals/${MODEL}/${executionName}.json`);
      if (record?.status === 'pending') return record;
      if (this.cloud.stepFunctions.records().find((r) => r.executionArn === executionArn)?.status !== 'RUNNING') return undefined;
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Decide as `mlship approve|reject` does: through the DecideApproval function's local route. */
  async decide(executionName: string, decision: 'approve' | 'reject', comment?: string) {
    const res = await localDecider(this.cloud.endpoint)({ id: `${MODEL}/${executionName}`, decision, by: 'workflow-test', comment });
    if (!res.ok) throw new Error(`decision ${decision} on ${MODEL}/${executionName}: ${res.status} ${res.error}: ${res.message}`);
    return res.approval;
  }

  /** Release, approve when asked, and wait for the end. */
  async releaseApproved(
    knobs: Knobs,
    manifestEdit?: (yaml: string) => string,
  ): Promise<{ record: ExecutionRecord; name: string; executionArn: string; commitId: string }> {
    const started = await this.release(knobs, manifestEdit);
    const approval = await this.approvalOf(started.name, started.executionArn);
    if (approval) await this.decide(started.name, 'approve', 'looks good');
    return { ...started, record: await this.wait(started.executionArn) };
  }

  /** Why an execution ended as it did, for assertion messages. */
  async explain(executionArn: string): Promise<string> {
    // Never waits: it also explains executions that are still running.
    const rec = this.cloud.stepFunctions.records().find((r) => r.executionArn === executionArn)!;
    const failures = this.cloud.stepFunctions
      .history(executionArn)
      .filter((e) => e.type === 'TaskFailed' || e.type === 'TaskTimedOut')
      .map((e) => JSON.stringify(e.taskFailedEventDetails ?? e.taskTimedOutEventDetails));
    return `${rec.status} ${rec.error ?? ''}: ${rec.cause ?? ''}\npath: ${(await this.path(executionArn)).join(' > ')}\ntask failures: ${failures.join('\n  ') || 'none'}`;
  }

  /** Send `n` requests to an endpoint; resolves with the status codes (errors count as their HTTP status). */
  async traffic(
    endpointName: string,
    instances: Array<Record<string, number>>,
    opts: { inferenceIdPrefix?: string } = {},
  ): Promise<number[]> {
    const codes: number[] = [];
    let i = 0;
    for (const instance of instances) {
      try {
        await this.runtime.send(
          new InvokeEndpointCommand({
            EndpointName: endpointName,
            Body: Buffer.from(JSON.stringify({ instances: [instance] })),
            ContentType: 'application/json',
            InferenceId: opts.inferenceIdPrefix ? `${opts.inferenceIdPrefix}-${i}` : undefined,
          }),
        );
        codes.push(200);
      } catch (err) {
        codes.push((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 0);
      }
      i += 1;
    }
    return codes;
  }
}
