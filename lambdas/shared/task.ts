import type { Context } from 'aws-lambda';
import type { z } from 'zod';
import type { TaskName } from '../../lib/tasks';
import { classifyError, InvalidEventError } from './errors';
import { logger } from './logger';

/** The keys every log line of an invocation carries. */
export interface LogKeys {
  model?: string;
  version?: string;
  executionId?: string;
}

/** Parse an event with its schema; a mismatch is an `InvalidEventError` naming each field. */
export function parseEvent<S extends z.ZodType>(task: string, schema: S, event: unknown): z.output<S> {
  const result = schema.safeParse(event);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(event)'}: ${i.message}`).join('; ');
  throw new InvalidEventError(`${task}: invalid event: ${problems}`, { cause: result.error });
}

/**
 * The common shell of every task handler: parse the event, tag the log lines, run the
 * domain function, and turn a transient SDK failure into the `TransientError` the state
 * machine retries. Anything else is rethrown with its own name for the Catch to route.
 *
 * @param task the task's name in lib/tasks.ts, used as the `state` log key and in messages
 * @param keys picks the log keys out of the parsed event
 */
export function defineTask<S extends z.ZodType, R>(
  task: TaskName,
  schema: S,
  keys: (event: z.output<S>) => LogKeys,
  run: (event: z.output<S>) => Promise<R>,
): (event: unknown, context?: Context) => Promise<R> {
  return async (event: unknown, context?: Context) => {
    logger.resetKeys();
    // Lambda's request id and function name on every line; the local cloud passes a context too.
    if (context?.awsRequestId) logger.addContext(context);
    logger.appendKeys({ state: task });
    try {
      const parsed = parseEvent(task, schema, event);
      logger.appendKeys({ ...keys(parsed) });
      const result = await run(parsed);
      logger.info(`${task} done`, { result: result as Record<string, unknown> });
      return result;
    } catch (err) {
      const classified = classifyError(err);
      if (classified instanceof Error) logger.error(`${task} failed`, classified);
      else logger.error(`${task} failed`, { error: String(classified) });
      throw classified;
    }
  };
}
