import { AwsServiceError } from '../../core/service';

/**
 * The `arn:aws:states:::sagemaker:createTrainingJob.sync` integration, run as Step Functions
 * runs it: CreateTrainingJob with the state's Parameters, then wait for the job to end. The
 * task succeeds with DescribeTrainingJob's answer when the job Completed, and fails with
 * `States.TaskFailed` and that answer (JSON, FailureReason included) as its cause when the
 * job Failed or Stopped. A failed CreateTrainingJob fails the task with `SageMaker.<error>`.
 * When the execution is stopped, or the task times out, the job is stopped (StopTrainingJob),
 * as Step Functions does for the jobs it waits on.
 *
 * Step Functions learns a job's end from EventBridge; locally the task polls DescribeTrainingJob.
 */

export type Json = Record<string, unknown>;
/** A SageMaker API call through the local cloud's front door (validated as AWS validates it). */
export type SageMakerCall = (operation: string, input: Json) => Promise<Json>;

/** How often the task asks for the job's status: an implementation detail, not scaled. */
const POLL_MS = 250;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms).unref());

function sagemakerError(err: unknown): Error {
  const e = new Error((err as Error).message);
  e.name = `SageMaker.${err instanceof AwsServiceError ? err.type : 'AmazonSageMakerException'}`;
  return e;
}

/** One waiting task; `cancel` is called when the execution stops or the task times out. */
export class TrainingJobWait {
  private cancelled = false;
  private jobName?: string;

  constructor(private readonly call: SageMakerCall) {}

  /** Stop the job (best effort: it may have ended), and end the wait. */
  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    if (this.jobName) void this.call('StopTrainingJob', { TrainingJobName: this.jobName }).catch(() => undefined);
  }

  async run(parameters: Json): Promise<Json> {
    const name = parameters.TrainingJobName;
    if (typeof name !== 'string') {
      const e = new Error('Parameters.TrainingJobName: required');
      e.name = 'States.Runtime';
      throw e;
    }
    try {
      await this.call('CreateTrainingJob', parameters);
    } catch (err) {
      throw sagemakerError(err);
    }
    this.jobName = name;
    if (this.cancelled) this.call('StopTrainingJob', { TrainingJobName: name }).catch(() => undefined);
    for (;;) {
      await sleep(POLL_MS);
      let job: Json;
      try {
        job = await this.call('DescribeTrainingJob', { TrainingJobName: name });
      } catch (err) {
        throw sagemakerError(err);
      }
      const status = job.TrainingJobStatus;
      if (status === 'Completed') return job;
      if (status === 'Failed' || status === 'Stopped') {
        const e = new Error(JSON.stringify(job));
        e.name = 'States.TaskFailed';
        throw e;
      }
      // A stopped execution no longer waits; the job still ends (Stopped) on its own.
      if (this.cancelled) return job;
    }
  }
}
