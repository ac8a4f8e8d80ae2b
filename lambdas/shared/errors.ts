/**
 * The two error families of the task functions.
 *
 * Step Functions matches a Lambda error by its `errorType`, which the Node.js runtime takes
 * from `error.name`. So every class sets `name`, and every transient failure carries the
 * one name the state machines retry: `TransientError`. Terminal errors keep their own name
 * so a Catch can route them; both pass `{ cause }` instead of stringifying the original.
 */

/** A failure worth retrying with backoff: throttling, a 5xx, a timeout, a lost connection. */
export class TransientError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransientError';
  }
}

/**
 * The endpoint is busy with another update (or being recreated): worth retrying, but on the
 * minutes scale of a SageMaker update, so the deploy states retry it with their own, longer
 * backoff instead of the seconds of `TransientError`.
 */
export class EndpointBusyError extends TransientError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EndpointBusyError';
  }
}

/** Base of the failures that retrying cannot fix; subclasses set their own `name`. */
export class TerminalError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TerminalError';
  }
}

/** The task's event did not match its contract; the message names the fields. */
export class InvalidEventError extends TerminalError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InvalidEventError';
  }
}

/** A required environment variable is unset or empty. */
export class MissingEnvironmentVariableError extends TerminalError {
  constructor(readonly variable: string) {
    super(`environment variable ${variable} is not set`);
    this.name = 'MissingEnvironmentVariableError';
  }
}

/** The commit's model.yaml is missing or does not validate; the message names file and field. */
export class InvalidManifestError extends TerminalError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InvalidManifestError';
  }
}

/** The source archive (or an object the task needs) does not exist. */
export class SourceNotFoundError extends TerminalError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SourceNotFoundError';
  }
}

/** The registry has no record the task needs (version, production pointer). */
export class RegistryRecordNotFoundError extends TerminalError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RegistryRecordNotFoundError';
  }
}

/** A conditional write lost to a concurrent writer more often than it is worth retrying. */
export class ConcurrentUpdateError extends TerminalError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConcurrentUpdateError';
  }
}

/** The build finished but did not leave what the release needs (image URI, bundle). */
export class BuildFailedError extends TerminalError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BuildFailedError';
  }
}

/** An endpoint cannot be deployed (e.g. it is in a state that refuses an update). */
export class EndpointFailedError extends TerminalError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EndpointFailedError';
  }
}

/**
 * The evaluation or load test could not run; the subclasses say why (the model's answer,
 * its error, the bundle's data), each with its own name for the Catch.
 */
export class EvaluationError extends TerminalError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EvaluationError';
  }
}

/**
 * The model answered, but its answer breaks the inference contract: not JSON, NaN or
 * Infinity, no prediction per instance, a prediction without its value. The message says
 * which endpoint, shows an excerpt of the answer and where the model server's log is.
 */
export class ModelAnswerError extends EvaluationError {
  constructor(
    message: string,
    readonly excerpt: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ModelAnswerError';
  }
}

/**
 * The model answered an invocation with an error status (SageMaker's ModelError): a bug in
 * the model server or a request it cannot handle. Retrying sends the same rows again.
 */
export class ModelInvocationError extends EvaluationError {
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly excerpt: string,
    readonly logLocation: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ModelInvocationError';
  }
}

/**
 * The bundle's data does not fit the manifest: a feature or the label missing from the
 * holdout's header, a value that is not a number, no rows. A fix to the build, not the model.
 */
export class InvalidDataError extends EvaluationError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InvalidDataError';
  }
}

/** An approver rejected the release; SendTaskFailure carries this name to the Catch. */
export class ApprovalRejectedError extends TerminalError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ApprovalRejectedError';
  }
}

/** A second decision on an approval that was already decided. */
export class ApprovalAlreadyDecidedError extends TerminalError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ApprovalAlreadyDecidedError';
  }
}

/** A decision on an approval whose timeout has passed. */
export class ApprovalExpiredError extends TerminalError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ApprovalExpiredError';
  }
}

/** No approval request with that id. */
export class ApprovalNotFoundError extends TerminalError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ApprovalNotFoundError';
  }
}

/** A release waited longer than the bound for the release that holds its model (lambdas/shared/lease.ts). */
export class LeaseWaitTimeoutError extends TerminalError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LeaseWaitTimeoutError';
  }
}

const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ProvisionedThroughputExceededException',
  'SlowDown',
  'RequestThrottled',
  'RequestThrottledException',
  'LimitExceededException',
]);
const NETWORK = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'UND_ERR_SOCKET']);
const TIMEOUTS = new Set([
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'ServiceUnavailable',
  'InternalError',
  'InternalFailure',
]);

interface SdkLikeError {
  name?: string;
  code?: string;
  $retryable?: unknown;
  $fault?: string;
  $metadata?: { httpStatusCode?: number };
}

/** Whether an error (typically from the AWS SDK or the network) is worth retrying. */
export function isTransient(err: unknown): boolean {
  if (err instanceof TransientError) return true;
  if (err instanceof TerminalError || !(err instanceof Error)) return false;
  const e = err as SdkLikeError;
  const status = e.$metadata?.httpStatusCode;
  return (
    e.$retryable !== undefined ||
    THROTTLING.has(e.name ?? '') ||
    TIMEOUTS.has(e.name ?? '') ||
    NETWORK.has(e.code ?? '') ||
    (e.$fault === 'server' && status !== 501) ||
    (status !== undefined && (status === 429 || (status >= 500 && status !== 501)))
  );
}

/**
 * Map an error to what the state machine should see: a transient one becomes a
 * `TransientError` (its original kept as `cause`), anything else is returned unchanged so
 * its own name reaches the Catch.
 */
export function classifyError(err: unknown): unknown {
  if (err instanceof TransientError || !isTransient(err)) return err;
  const e = err as Error;
  return new TransientError(`${e.name}: ${e.message}`, { cause: err });
}

/** Whether an SDK error is S3's "no such key" (a missing bucket is a configuration error, not this). */
export function isNotFound(err: unknown): boolean {
  const e = err as SdkLikeError | undefined;
  if (e?.name === 'NoSuchKey' || e?.name === 'NotFound') return true;
  return e?.$metadata?.httpStatusCode === 404 && e.name !== 'NoSuchBucket';
}

/** SageMaker answers a missing resource with a ValidationException "Could not find ...". */
export function isSageMakerNotFound(err: unknown): boolean {
  return (err as Error | undefined)?.name === 'ValidationException' && /could not find/i.test((err as Error).message);
}

/** SageMaker answers a Create* of an existing resource with "Cannot create already existing ...". */
export function isSageMakerAlreadyExists(err: unknown): boolean {
  return (err as Error | undefined)?.name === 'ValidationException' && /already exist/i.test((err as Error).message);
}

/** Whether an SDK error is a failed If-Match / If-None-Match precondition (412, or S3's 409 race). */
export function isPreconditionFailed(err: unknown): boolean {
  const e = err as SdkLikeError | undefined;
  return e?.name === 'PreconditionFailed' || e?.name === 'ConditionalRequestConflict' || e?.$metadata?.httpStatusCode === 412;
}

/** The commit's author may not approve their own change (the manifest's `approval.separationOfDuties`). */
export class SeparationOfDutiesError extends TerminalError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SeparationOfDutiesError';
  }
}
