/** The local cloud's Step Functions (`AWSStepFunctions.*`); other modules use it only through this one. */
export { StepFunctionsService, type StepFunctionsOptions } from './service';
export type { ExecutionRecord } from './journal';
