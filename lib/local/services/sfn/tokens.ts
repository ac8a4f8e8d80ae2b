import { randomBytes } from 'node:crypto';
import { AwsServiceError } from '../../core/service';

/**
 * Task tokens of `.waitForTaskToken` states: a fresh token each time a task starts waiting
 * (retries included), resolved once by SendTaskSuccess / SendTaskFailure.
 *
 * Tokens live in memory only. After a restart of the local cloud, the executions that were
 * waiting have ended as FAILED and their tokens answer TaskDoesNotExist: a pending approval
 * does not survive `mlship down` (redrive the execution to ask again).
 */

const PREFIX = 'mlsTT1';
const TOKEN_SHAPE = /^mlsTT1[A-Za-z0-9_-]{40,}$/;

/** Why a token can no longer be used. */
type Tombstone = 'completed' | 'timed-out' | 'stopped';

interface Waiting {
  executionArn: string;
  stateName: string;
  resolve(output: unknown): void;
  reject(err: Error): void;
}

/** The error a SendTaskFailure raises inside the execution; Catch matches its `name`. */
export class TaskFailure extends Error {
  constructor(error: string, cause: string) {
    super(cause);
    this.name = error;
  }
}

export class TaskTokens {
  private readonly waiting = new Map<string, Waiting>();
  private readonly dead = new Map<string, Tombstone>();

  /** Issue a token for a task that is about to wait, and the promise that settles with it. */
  issue(executionArn: string, stateName: string): { token: string; result: Promise<unknown> } {
    const token = `${PREFIX}${randomBytes(48).toString('base64url')}`;
    const result = new Promise<unknown>((resolve, reject) => {
      this.waiting.set(token, { executionArn, stateName, resolve, reject });
    });
    // The engine may already have moved on (timeout, stop); an unobserved rejection is expected then.
    result.catch(() => undefined);
    return { token, result };
  }

  private take(token: unknown): Waiting {
    if (typeof token !== 'string' || !TOKEN_SHAPE.test(token)) throw new AwsServiceError('InvalidToken', 'Invalid token');
    const w = this.waiting.get(token);
    if (w) return w;
    if (this.dead.get(token) === 'timed-out') throw new AwsServiceError('TaskTimedOut', 'Task Timed Out');
    throw new AwsServiceError('TaskDoesNotExist', 'Task does not exist anymore');
  }

  succeed(token: unknown, output: unknown): void {
    const w = this.take(token);
    this.bury(token as string, 'completed');
    w.resolve(output);
  }

  fail(token: unknown, error: string, cause: string): void {
    const w = this.take(token);
    this.bury(token as string, 'completed');
    w.reject(new TaskFailure(error, cause));
  }

  /** Validate a heartbeat; the local cloud does not enforce HeartbeatSeconds. */
  heartbeat(token: unknown): void {
    this.take(token);
  }

  /** The task stopped waiting without an answer (its state failed, timed out, or the execution ended). */
  expire(executionArn: string, stateName: string | undefined, reason: Tombstone): void {
    for (const [token, w] of this.waiting) {
      if (w.executionArn !== executionArn || (stateName !== undefined && w.stateName !== stateName)) continue;
      this.waiting.delete(token);
      this.dead.set(token, reason);
      w.reject(new TaskFailure('States.Runtime', `task token ${reason}`));
    }
  }

  /** Drop a token whose task failed before waiting (its Lambda invocation threw). */
  discard(token: string): void {
    if (this.waiting.delete(token)) this.dead.set(token, 'completed');
  }

  /** Tokens waiting for an answer, for `mlship status` and tests. */
  pending(executionArn?: string): Array<{ token: string; executionArn: string; stateName: string }> {
    return [...this.waiting]
      .filter(([, w]) => !executionArn || w.executionArn === executionArn)
      .map(([token, w]) => ({ token, executionArn: w.executionArn, stateName: w.stateName }));
  }

  private bury(token: string, reason: Tombstone): void {
    this.waiting.delete(token);
    this.dead.set(token, reason);
  }
}
