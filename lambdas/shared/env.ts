import { TASK_ENV } from '../../lib/tasks';
import { MissingEnvironmentVariableError } from './errors';

/** The names of the task environment variables (lib/tasks.ts is their one record). */
export type TaskEnvName = (typeof TASK_ENV)[keyof typeof TASK_ENV];

/** Read a required variable; an unset or empty one is a named error, not `undefined` downstream. */
export function getStringFromEnv(name: TaskEnvName | (string & {})): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new MissingEnvironmentVariableError(name);
  return value;
}

/** Read an optional variable; empty counts as unset. */
export function getOptionalStringFromEnv(name: TaskEnvName | (string & {})): string | undefined {
  const value = process.env[name];
  return value === undefined || value === '' ? undefined : value;
}

export { TASK_ENV };
