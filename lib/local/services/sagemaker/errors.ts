import { AwsServiceError } from '../../core/service';

/** SageMaker control-plane validation failure (AWS's `ValidationException`). */
export const validation = (message: string): AwsServiceError => new AwsServiceError('ValidationException', message, 400);

/**
 * SageMaker Runtime's ModelError (424): the model answered with an error status. `extra`
 * carries the fields SageMaker puts in the error body, for the edge to spread into it.
 */
export class ModelError extends AwsServiceError {
  readonly extra: { OriginalStatusCode: number; OriginalMessage: string; LogStreamArn: string };

  constructor(message: string, originalStatusCode: number, originalMessage: string, logStreamArn: string) {
    super('ModelError', message, 424);
    this.name = 'ModelError';
    this.extra = { OriginalStatusCode: originalStatusCode, OriginalMessage: originalMessage, LogStreamArn: logStreamArn };
  }
}

/** A model server that would not start or answer GET /ping; the message carries its stderr tail. */
export class ModelStartError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ModelStartError';
  }
}
