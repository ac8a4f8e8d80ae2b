/**
 * The contract between the local cloud's edge server and the services it emulates.
 *
 * The edge routes an AWS JSON-protocol request by its `X-Amz-Target` header
 * (`<targetPrefix>.<Operation>`) to the service whose `targetPrefix` matches, and turns an
 * `AwsServiceError` into AWS's error shape (`__type`, `message`, HTTP status) so SDK clients
 * raise the named exception class.
 */
export interface JsonService {
  /** e.g. `AWSStepFunctions`, `CodeBuild_20161006`, `SageMaker`. */
  readonly targetPrefix: string;
  /** Answer one operation; `input` is the parsed JSON body. */
  handle(operation: string, input: Record<string, unknown>): Promise<unknown>;
  /** Release processes, timers and files; called by `mlship down` and at test teardown. */
  close?(): Promise<void>;
}

/** An error answered in AWS's shape. `type` is the exception name the SDK maps to a class. */
export class AwsServiceError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = type;
  }
}

export const unknownOperation = (service: string, operation: string): AwsServiceError =>
  new AwsServiceError('UnknownOperationException', `${service} does not support ${operation} in the local cloud`, 400);

/** Epoch seconds: the AWS JSON protocol's timestamp encoding. */
export const epochSeconds = (ms = Date.now()): number => Math.round(ms) / 1000;
