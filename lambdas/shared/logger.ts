import { Logger } from '@aws-lambda-powertools/logger';

/**
 * The one logger of every task function. Each invocation resets its keys and appends
 * `{ model, version, executionId, state }`, so every line of a release can be found by its
 * execution. Level and sampling come from POWERTOOLS_LOG_LEVEL and friends.
 */
export const logger = new Logger({ serviceName: 'mlship' });
