import type { Context } from 'aws-lambda';
import type { z } from 'zod';
import type { TaskName } from '../../lib/tasks';
import { classifyError, InvalidEventError } from './errors';
import { logger } from './logger';
import { tracer } from './tracer';

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
 * On Lambda the invocation is a `## <task>` X-Ray subsegment annotated with the model and
 * version, its result or error attached ({@link traced}).
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
      const logKeys = keys(parsed);
      logger.appendKeys({ ...logKeys });
      const result = await traced(task, logKeys, () => run(parsed));
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

/**
 * Run one invocation's work in a `## <task>` subsegment (Powertools' manual instrumentation,
 * as its decorator and middleware do it); the SDK calls inside become its children. A no-op
 * wrapper where Powertools has tracing off (outside Lambda).
 */
async function traced<R>(task: string, keys: LogKeys, work: () => Promise<R>): Promise<R> {
  if (!tracer.isTracingEnabled()) return work();
  const parent = tracer.getSegment();
  const segment = parent?.addNewSubsegment(`## ${task}`);
  if (segment) tracer.setSegment(segment);
  tracer.annotateColdStart();
  tracer.addServiceNameAnnotation();
  for (const [key, value] of Object.entries(keys)) if (value) tracer.putAnnotation(key, value);
  try {
    const result = await work();
    tracer.addResponseAsMetadata(result, task);
    return result;
  } catch (err) {
    tracer.addErrorAsMetadata(err as Error);
    throw err;
  } finally {
    segment?.close();
    if (parent) tracer.setSegment(parent);
  }
}
