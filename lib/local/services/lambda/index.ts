/** The local cloud's Lambda: task handlers invoked in-process or on worker threads; used only through this module. */
export { LambdaFunctionError, LocalLambda, type LambdaContext, type LambdaHandler } from './lambda';
export { WorkerTasks } from './worker-tasks';
