import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Fixed facts of the local cloud: the one account, region and bucket every client sees,
 * and where the package's own files (state machines, handlers) live.
 */
export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT = '000000000000';
export const ARTIFACT_BUCKET = 'mlship-artifacts';
export const DEFAULT_PORT = 4566;
/** Prefix of the rollback alarm names the tasks pass to UpdateEndpoint (`<prefix><model>-5xx`). */
export const ROLLBACK_ALARM_PREFIX = 'mlship-';
export const DEFAULT_DATA_DIR = '.mlship';
/** What `mlship up` writes so other commands and the git hook find the running cloud. */
export const CLOUD_FILE = 'cloud.json';
/** The secret the git hook sends with each push (mode 0600; see lib/local/services/git/git.ts). */
export const PUSH_SECRET_FILE = 'push.secret';
/** Notifications published to SNS, one JSON object per line, shown by the console. */
export const NOTIFICATIONS_FILE = 'notifications.jsonl';
export const NOTIFICATION_TOPIC_ARN = `arn:aws:sns:${LOCAL_REGION}:${LOCAL_ACCOUNT}:mlship-notifications`;
export const STATE_MACHINE_NAMES = { release: 'mlship-release', driftCheck: 'mlship-drift-check' } as const;

/** The mlship package root (two levels above this file): `statemachines/`, `lambdas/`. */
export const PACKAGE_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');

export const lambdaArn = (functionName: string): string => `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${functionName}`;
export const stateMachineArn = (name: string): string => `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:${name}`;
export const executionArn = (stateMachine: string, name: string): string =>
  `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:execution:${stateMachine}:${name}`;
/** The local Lambda function name of a task in lib/tasks.ts. */
export const taskFunctionName = (task: string): string => `mlship-${task}`;
