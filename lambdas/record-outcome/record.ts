import type { S3Client } from '@aws-sdk/client-s3';
import type { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { mirrorVersion, noteDriftCheck } from '../shared/model-registry';
import { approvalKey, approvalRecordSchema } from '../shared/approvals';
import { releaseLease } from '../shared/lease';
import { endpointLogLocation, keys, s3Uri } from '../shared/names';
import { findVersion, updateVersion, type ReleaseOutcome, type VersionRecord } from '../shared/registry';
import { getJson, putJson, putJsonIf } from '../shared/s3json';

export interface RecordOutcomeDeps {
  s3: S3Client;
  sns: SNSClient;
  bucket: string;
  topicArn: string;
  /** Mirrors the outcome to the version's SageMaker Model Registry package. @default no mirror */
  sagemaker?: SageMakerClient;
  /** Where an endpoint's model-server log is, `{endpoint}` for its name. @default CloudWatch's /aws/sagemaker/Endpoints/<name> */
  endpointLogTemplate?: string;
  now: () => Date;
}

/** The caught error the ASL stores at `$.error`. */
interface CaughtError {
  Error?: string;
  Cause?: string;
}

/** The parts of the workflow state this task reads; every one may be missing on an early failure. */
export interface ReleaseState {
  model?: string;
  commitId?: string;
  trigger?: string;
  PrepareReleaseResult?: { version?: string; stagingEndpoint?: string; productionEndpoint?: string };
  CheckBuildResult?: { status?: string; failedPhase?: string | null; logLink?: string | null };
  CheckStagingResult?: { status?: string; failureReason?: string | null };
  CheckProductionResult?: { status?: string; failureReason?: string | null };
  EvaluateModelResult?: { failures?: unknown[]; reportUri?: string };
  LoadTestResult?: { failures?: unknown[]; reportUri?: string };
  CheckShadowTestResult?: { verdict?: string | null; reason?: string; reportUri?: string | null };
  CheckAbTestResult?: { verdict?: string | null; reason?: string; reportUri?: string | null };
  AcquireLeaseResult?: { status?: string; detail?: string };
  ClaimProductionResult?: { status?: string; detail?: string };
  /** PrepareTraining's CreateTrainingJob request: its channels name what an empty-channel refusal means. */
  PrepareTrainingResult?: {
    request?: { InputDataConfig?: Array<{ ChannelName?: string; DataSource?: { S3DataSource?: { S3Uri?: string } } }> } | null;
  };
  /** DeleteStagingEndpoint's result, or the error its Catch put there. */
  DeleteStagingEndpointResult?: {
    action?: Exclude<NonNullable<VersionRecord['stagingCleanup']>['action'], 'failed'>;
    detail?: string;
  } & CaughtError;
  error?: CaughtError;
}

export interface OutcomeResult {
  outcome: string;
  notified: boolean;
  /**
   * Why the workflow ended where it did, in one line a person can act on: what failed, an
   * excerpt of the model's answer, where the report or the log is. The release's Fail
   * states carry it as their Cause, so `mlship status`, the console and any Step Functions
   * client show it.
   */
  cause: string;
}

/** A cause is read in a table, a notification and a Fail state's Cause: keep it short. */
const CAUSE_CHARS = 1000;

/** What the staging cleanup did, or why it failed, for the version record and the notification. */
function stagingCleanupOf(state: ReleaseState): VersionRecord['stagingCleanup'] {
  const result = state.DeleteStagingEndpointResult;
  if (!result) return null;
  const failed = describeError(result);
  if (failed) return { action: 'failed', detail: `${failed.Error}: ${failed.Cause}`.slice(0, 500) };
  return result.action ? { action: result.action, detail: result.detail ?? '' } : null;
}

/** A caught error's Cause is often the Lambda's JSON error payload: keep its message. */
function describeError(error: CaughtError | undefined): { Error: string; Cause: string } | null {
  if (!error?.Error) return null;
  let cause = error.Cause ?? '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: string };
    if (parsed.errorMessage) cause = parsed.errorMessage;
  } catch {
    // not JSON: a plain cause string
  }
  return { Error: error.Error, Cause: cause.slice(0, 2000) };
}

/**
 * Where a person looks next: the report of a failed gate, the build log, the model server's
 * log of the endpoint that failed. Error messages of the model faults already name the log.
 */
function pointers(
  deps: RecordOutcomeDeps,
  outcome: ReleaseOutcome,
  state: ReleaseState,
  error: { Error: string; Cause: string } | null,
  record: VersionRecord | undefined,
): string[] {
  const log = (endpoint: string | undefined) => (endpoint ? `model log: ${endpointLogLocation(endpoint, deps.endpointLogTemplate)}` : null);
  const staging = state.PrepareReleaseResult?.stagingEndpoint;
  const production = state.PrepareReleaseResult?.productionEndpoint;
  const out: (string | null | undefined)[] = [];
  switch (outcome) {
    case 'build-failed':
      out.push(
        (state.CheckBuildResult?.logLink ?? record?.build?.logLink)
          ? `build log: ${state.CheckBuildResult?.logLink ?? record?.build?.logLink}`
          : null,
      );
      break;
    case 'gate-failed': {
      const report = record?.evaluation?.htmlUri ?? state.EvaluateModelResult?.reportUri;
      out.push(report ? `report: ${report}` : null);
      break;
    }
    case 'load-test-failed':
      out.push(state.LoadTestResult?.reportUri ? `report: ${state.LoadTestResult.reportUri}` : null, log(staging));
      break;
    case 'shadow-test-failed':
      out.push(state.CheckShadowTestResult?.reportUri ? `report: ${state.CheckShadowTestResult.reportUri}` : null);
      break;
    case 'ab-test-failed':
      out.push(state.CheckAbTestResult?.reportUri ? `report: ${state.CheckAbTestResult.reportUri}` : null);
      break;
    case 'rolled-back':
      out.push(log(production));
      break;
    case 'failed':
      if (error && /model log: /.test(error.Cause)) break;
      // An endpoint that did not come into service: its model server's log says why.
      if (state.CheckProductionResult?.failureReason) out.push(log(production));
      else if (state.CheckStagingResult?.failureReason) out.push(log(staging));
      break;
    default:
      break;
  }
  return out.filter((p): p is string => !!p);
}

/** The cause a Fail state carries: the explanation, then where to look, cut to CAUSE_CHARS. */
function causeOf(detail: string, where: string[]): string {
  const text = [detail, ...where].join('; ').replace(/\s+/g, ' ');
  return text.length > CAUSE_CHARS ? `${text.slice(0, CAUSE_CHARS - 1)}…` : text;
}

/**
 * SageMaker refuses a job at CreateTrainingJob when an S3 channel has no object ("No S3 objects
 * found under S3 URL ..."), a message that names the URL but not the channel: say which
 * channel of model.yaml it is and how its data gets there.
 */
function emptyChannel(cause: string, state: ReleaseState): string | undefined {
  const uri = /No S3 objects found under S3 URL \\?"([^"\\]+)\\?"/.exec(cause)?.[1];
  if (!uri) return undefined;
  const channel = (state.PrepareTrainingResult?.request?.InputDataConfig ?? []).find((c) => c.DataSource?.S3DataSource?.S3Uri === uri);
  const which = channel?.ChannelName
    ? `training channel "${channel.ChannelName}" (model.yaml training.channels.${channel.ChannelName})`
    : 'a training channel of model.yaml';
  return `${which} has no data at ${uri}: upload it with mlship data put <file or folder> ${uri} (add --aws on AWS) and release again`;
}

/**
 * Why the training job ended: the TrainModel task's cause is DescribeTrainingJob's answer
 * (createTrainingJob.sync), whose FailureReason is the job's failure file.
 */
function trainingFailure(error: { Error: string; Cause: string } | null, state: ReleaseState = {}): string {
  if (!error) return 'the training job failed';
  const empty = emptyChannel(error.Cause, state);
  if (empty) return `${empty}; the training job did not start: ${error.Error}: ${error.Cause}`;
  // Read field by field: the description may have been cut to the cause's length (describeError).
  const field = (name: string): string | undefined => {
    const m = new RegExp(`"${name}":"((?:[^"\\\\]|\\\\.)*)"`).exec(error.Cause);
    if (!m) return undefined;
    try {
      return JSON.parse(`"${m[1]}"`) as string;
    } catch {
      return m[1];
    }
  };
  const name = field('TrainingJobName');
  if (!name) return `the training job did not start: ${error.Error}: ${error.Cause}`;
  const status = field('TrainingJobStatus') ?? 'ended';
  const secondary = field('SecondaryStatus');
  const why = field('FailureReason') ?? (secondary === 'Stopped' ? 'stopped' : (secondary ?? ''));
  return `training job ${name} ${status}${secondary && secondary !== status ? ` (${secondary})` : ''}: ${why}`;
}

/** One line saying why the release ended where it did. */
function explain(outcome: ReleaseOutcome, state: ReleaseState, error: { Error: string; Cause: string } | null): string {
  switch (outcome) {
    case 'succeeded':
      return 'promoted to production';
    case 'build-failed':
      return `build ${state.CheckBuildResult?.status ?? 'failed'}${state.CheckBuildResult?.failedPhase ? ` in phase ${state.CheckBuildResult.failedPhase}` : ''}`;
    case 'training-failed':
      // The whole cause: the job's description is longer than describeError keeps, FailureReason near its end.
      return trainingFailure(state.error?.Error ? { Error: state.error.Error, Cause: state.error.Cause ?? '' } : error, state);
    case 'gate-failed':
      return `quality gate failed: ${(state.EvaluateModelResult?.failures ?? []).map((f) => (typeof f === 'string' ? f : ((f as { message?: string }).message ?? JSON.stringify(f)))).join('; ') || 'see validation.json'}`;
    case 'load-test-failed':
      return `load test failed: ${(state.LoadTestResult?.failures ?? []).join('; ') || 'see load-test.json'}`;
    case 'shadow-test-failed':
      return `shadow test ${state.CheckShadowTestResult?.verdict ?? 'failed'}: ${state.CheckShadowTestResult?.reason ?? 'see shadow.json'}`;
    case 'ab-test-failed':
      return `A/B test ${state.CheckAbTestResult?.verdict ?? 'failed'}: ${state.CheckAbTestResult?.reason ?? 'see ab.json'}; production unchanged`;
    case 'rejected':
      return error?.Cause || 'rejected by an approver';
    case 'approval-timed-out':
      return 'nobody decided before the approval timeout';
    case 'rolled-back':
      return `production deployment rolled back, production serves the previous version: ${state.CheckProductionResult?.failureReason ?? 'a rollback alarm fired'}`;
    case 'superseded':
      return (
        (state.ClaimProductionResult?.status === 'superseded' ? state.ClaimProductionResult.detail : state.AcquireLeaseResult?.detail) ??
        error?.Cause ??
        'superseded by a newer release'
      );
    case 'failed':
      return error
        ? `${error.Error}: ${error.Cause}`
        : (state.CheckProductionResult?.failureReason ?? state.CheckStagingResult?.failureReason ?? 'the release failed');
  }
}

/**
 * Record a release's final outcome on its version and notify. Works with whatever the
 * state holds: a release that failed before it had a version is still notified.
 */
export async function recordReleaseOutcome(
  deps: RecordOutcomeDeps,
  input: { outcome: ReleaseOutcome; state: ReleaseState; executionId: string; executionName: string },
): Promise<OutcomeResult> {
  const { state, outcome } = input;
  const model = state.model;
  const version = state.PrepareReleaseResult?.version;
  let error = describeError(state.error);
  const detail = explain(outcome, state, error);
  // A release that found a newer one holding its model caught no error: the outcome still
  // names the release that took its place.
  if (outcome === 'superseded' && !error) error = { Error: 'ReleaseSuperseded', Cause: detail };
  let record: VersionRecord | undefined;
  let cause = causeOf(detail, pointers(deps, outcome, state, error, undefined));
  const stagingCleanup = stagingCleanupOf(state);

  if (model && version && (await findVersion(deps, model, version))) {
    const approval = await settleApproval(deps, model, input.executionName, outcome);
    record = await updateVersion(
      deps,
      model,
      version,
      (r, at) => {
        cause = causeOf(detail, pointers(deps, outcome, state, error, r));
        return {
          ...r,
          status: outcome === 'succeeded' ? r.status : outcome,
          outcome: { state: outcome, at, error, cause },
          approval: approval ?? r.approval,
          stagingCleanup,
        };
      },
      deps.now,
    );
    record = await mirrorOutcome(
      deps,
      record,
      outcome === 'succeeded' ? `approved by ${record.approval?.by ?? 'an approver'}; ${cause}` : cause,
    );
  }
  // Every terminal path passes here: the next release of the model may go on. A no-op for a
  // release that no longer holds the lease (superseded), or never took it.
  if (model) await releaseLease(deps, model, input.executionId, deps.now().toISOString());

  const links = [
    record?.build?.logLink ? `Build log: ${record.build.logLink}` : null,
    record?.evaluation ? `Quality report: ${record.evaluation.htmlUri}` : null,
    record?.loadTest ? `Load test: ${record.loadTest.reportUri}` : null,
    // Every release notification names the shadow stage's verdict, skipped included.
    record?.shadow
      ? `Shadow test: ${record.shadow.verdict} (${record.shadow.reasons.join('; ')})${record.shadow.reportUri ? ` ${record.shadow.reportUri}` : ''}`
      : null,
    // ... and the A/B test's, once the release had one (skipped included).
    record?.ab && record.ab.verdict !== 'running'
      ? `A/B test: ${record.ab.verdict} (${record.ab.reasons.join('; ')})${record.ab.reportUri ? ` ${record.ab.reportUri}` : ''}`
      : null,
    model && version ? `Version record: ${s3Uri(deps.bucket, keys.version(model, version))}` : null,
    // An endpoint left running bills by the hour: a person should know.
    stagingCleanup?.action === 'failed' ? `The staging endpoint was not deleted (${stagingCleanup.detail}); delete it by hand.` : null,
  ].filter((l): l is string => l !== null);
  await deps.sns.send(
    new PublishCommand({
      TopicArn: deps.topicArn,
      Subject: `mlship: ${model ?? 'release'} ${version ?? ''} ${outcome}`.replace(/\s+/g, ' ').slice(0, 100),
      Message: [
        `Release of ${model ?? '(unknown model)'} ${version ?? ''}: ${outcome} — ${cause}`,
        ...links,
        `Execution: ${input.executionId}`,
      ].join('\n'),
      MessageAttributes: {
        event: { DataType: 'String', StringValue: 'release-outcome' },
        outcome: { DataType: 'String', StringValue: outcome },
        ...(model ? { model: { DataType: 'String', StringValue: model } } : {}),
      },
    }),
  );
  return { outcome, notified: true, cause };
}

/** The version's Model Registry package follows the outcome (approved, or rejected with why); the record keeps the mirror's state. */
async function mirrorOutcome(deps: RecordOutcomeDeps, record: VersionRecord, why: string): Promise<VersionRecord> {
  if (!deps.sagemaker) return record;
  const modelRegistry = await mirrorVersion({ sagemaker: deps.sagemaker, bucket: deps.bucket }, record, why);
  if (JSON.stringify(modelRegistry) === JSON.stringify(record.modelRegistry ?? null)) return record;
  return updateVersion(deps, record.model, record.version, (r) => ({ ...r, modelRegistry }), deps.now);
}

/** Bring the approval record in line with the outcome; returns what the version should record. */
async function settleApproval(
  deps: RecordOutcomeDeps,
  model: string,
  executionName: string,
  outcome: ReleaseOutcome,
): Promise<VersionRecord['approval']> {
  if (outcome !== 'rejected' && outcome !== 'approval-timed-out' && outcome !== 'superseded') return null;
  const key = approvalKey(`${model}/${executionName}`);
  const doc = await getJson(deps.s3, deps.bucket, key, approvalRecordSchema);
  const at = deps.now().toISOString();
  if (outcome === 'superseded') {
    // A superseded release can no longer be approved: its pending request expires with it.
    if (doc?.value.status !== 'pending') return null;
    await putJsonIf(deps.s3, deps.bucket, key, { ...doc.value, status: 'expired' }, doc.etag ? { ifMatch: doc.etag } : {});
    return { decision: 'expired', by: null, at, comment: null };
  }
  if (outcome === 'approval-timed-out') {
    // The execution received the timeout: a decision recorded but not delivered in time did
    // not count, and the record must say so (a delivered one cannot meet a timed-out task).
    const undelivered =
      doc &&
      (doc.value.status === 'pending' ||
        ((doc.value.status === 'approved' || doc.value.status === 'rejected') && !doc.value.decision?.delivered));
    if (undelivered) {
      const note = doc.value.status === 'pending' ? null : 'the approval timed out before the decision reached the release';
      await putJsonIf(
        deps.s3,
        deps.bucket,
        key,
        { ...doc.value, status: 'expired', note },
        doc.etag ? { ifMatch: doc.etag } : { ifNoneMatch: '*' },
      );
    }
    return { decision: 'expired', by: null, at, comment: null };
  }
  const decision = doc?.value.decision;
  return { decision: 'rejected', by: decision?.by ?? null, at: decision?.at ?? at, comment: decision?.comment ?? null };
}

/** The parts of the drift workflow's state this task reads. */
export interface DriftState {
  model?: string;
  CheckDriftResult?: {
    verdict?: string;
    /** The version production served during the window (its model package gets the report). */
    version?: string | null;
    retrain?: boolean;
    reason?: string;
    run?: string;
    reportUri?: string;
    dataQuality?: { skippedLines?: number; captureLines?: number; skippedValues?: Record<string, number>; alerts?: string[] } | null;
  };
  TriggerRetrainingResult?: { started?: boolean; executionArn?: string | null; skippedReason?: string | null };
  error?: CaughtError;
}

/** Record a drift check's outcome (`monitoring/<model>/<run>/outcome.json` and `latest.json`) and notify. */
export async function recordDriftOutcome(
  deps: RecordOutcomeDeps,
  input: { outcome: 'checked' | 'failed'; state: DriftState; executionId: string; executionName: string },
): Promise<OutcomeResult> {
  const { state } = input;
  const model = state.model ?? '(unknown model)';
  const check = state.CheckDriftResult;
  const outcome = input.outcome === 'failed' ? 'failed' : (check?.verdict ?? 'failed');
  const run = check?.run ?? input.executionName;
  const retraining = state.TriggerRetrainingResult ?? null;
  const doc = {
    model,
    run,
    outcome,
    at: deps.now().toISOString(),
    executionArn: input.executionId,
    reason: check?.reason ?? null,
    reportUri: check?.reportUri ?? null,
    retraining,
    dataQuality: check?.dataQuality ?? null,
    error: describeError(state.error),
  };
  if (state.model) {
    await putJson(deps.s3, deps.bucket, keys.monitoring(state.model, run, 'outcome.json'), doc);
    await putJson(deps.s3, deps.bucket, keys.lastMonitoring(state.model), doc);
    if (deps.sagemaker && check?.version) {
      const checked = await findVersion(deps, state.model, check.version);
      if (checked)
        await noteDriftCheck({ sagemaker: deps.sagemaker, bucket: deps.bucket }, checked.value, {
          run,
          verdict: outcome,
          reportUri: doc.reportUri,
        });
    }
  }
  const q = doc.dataQuality;
  const skippedValues = Object.entries(q?.skippedValues ?? {}).map(([f, n]) => `${f} ${n}`);
  const skipped =
    q && (q.skippedLines || skippedValues.length)
      ? `Skipped: ${q.skippedLines ?? 0} of ${q.captureLines ?? 0} capture lines${skippedValues.length ? `; values: ${skippedValues.join(', ')}` : ''}`
      : null;
  const retrain = retraining?.started
    ? `retraining release started: ${retraining.executionArn}`
    : retraining?.skippedReason
      ? `retraining skipped: ${retraining.skippedReason}`
      : null;
  await deps.sns.send(
    new PublishCommand({
      TopicArn: deps.topicArn,
      Subject: `mlship: ${model} drift check ${outcome}`.slice(0, 100),
      Message: [
        `Drift check of ${model}: ${outcome}${doc.reason ? ` — ${doc.reason}` : ''}`,
        ...(outcome === 'data-quality' ? (q?.alerts ?? []).map((a) => `Data-quality alert: ${a}`) : []),
        skipped,
        doc.error ? `Error: ${doc.error.Error}: ${doc.error.Cause}` : null,
        retrain,
        doc.reportUri ? `Drift report: ${doc.reportUri}` : null,
        `Execution: ${input.executionId}`,
      ]
        .filter(Boolean)
        .join('\n'),
      MessageAttributes: {
        event: { DataType: 'String', StringValue: 'drift-outcome' },
        outcome: { DataType: 'String', StringValue: outcome },
        ...(state.model ? { model: { DataType: 'String', StringValue: state.model } } : {}),
      },
    }),
  );
  const cause = causeOf(
    doc.error ? `${doc.error.Error}: ${doc.error.Cause}` : `drift check ${outcome}${doc.reason ? `: ${doc.reason}` : ''}`,
    doc.reportUri ? [`report: ${doc.reportUri}`] : [],
  );
  return { outcome, notified: true, cause };
}
