import { Tracer } from '@aws-lambda-powertools/tracer';

/**
 * The one Powertools Tracer of the task functions. On Lambda (active tracing, see
 * lib/infra/constructs/task-functions.ts) each invocation gets a `## <Task>` subsegment
 * (lambdas/shared/task.ts) and every SDK call one of its own (lambdas/shared/clients.ts).
 * Outside Lambda (the local cloud, tests) Powertools turns tracing off by itself, and the
 * clients are returned as they are.
 */
export const tracer = new Tracer({ serviceName: 'mlship' });
