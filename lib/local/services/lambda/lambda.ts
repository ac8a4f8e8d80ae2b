import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { TASKS, TASK_NAMES, type TaskName } from '../../../tasks';
import { AwsServiceError } from '../../core/service';
import { LOCAL_REGION, PACKAGE_ROOT, lambdaArn, taskFunctionName } from '../../constants';

/**
 * The local Lambda: task handler modules invoked in-process with a Lambda-like context.
 *
 * The handlers are imported lazily, on the first invocation, because their module scope
 * builds AWS clients from `process.env`, which the local cloud sets before any task runs.
 */

/** What a Lambda handler looks like from the outside: event and context in, JSON out. */
export type LambdaHandler = (event: unknown, context: LambdaContext) => Promise<unknown> | unknown;

export interface LambdaContext {
  functionName: string;
  functionVersion: string;
  invokedFunctionArn: string;
  memoryLimitInMB: string;
  awsRequestId: string;
  logGroupName: string;
  logStreamName: string;
  callbackWaitsForEmptyEventLoop: boolean;
  getRemainingTimeInMillis(): number;
}

interface FunctionSpec {
  /** Module path relative to the package root, exporting `handler`. */
  entry?: string;
  handler?: LambdaHandler;
  timeoutSeconds: number;
  memoryMiB: number;
}

/** The function raised an error; `errorType` is its `name`, the error the ASL's Retry/Catch match. */
export class LambdaFunctionError extends Error {
  constructor(
    readonly errorType: string,
    readonly errorMessage: string,
  ) {
    // The Step Functions lambda:invoke integration reports Cause as this JSON document.
    super(JSON.stringify({ errorMessage, errorType }));
    this.name = errorType;
  }
}

export class LocalLambda {
  private readonly functions = new Map<string, FunctionSpec>();
  private readonly loaded = new Map<string, Promise<LambdaHandler>>();

  /**
   * @param overrides handlers by function name (`mlship-<Task>` or any other name) that
   *   replace or add to the task modules of lib/tasks.ts; tests and the benchmark use them
   */
  constructor(overrides: Record<string, LambdaHandler> = {}) {
    for (const task of TASK_NAMES) {
      const t = TASKS[task as TaskName];
      this.functions.set(taskFunctionName(task), { entry: t.entry, timeoutSeconds: t.timeoutSeconds, memoryMiB: t.memoryMiB });
    }
    for (const [name, handler] of Object.entries(overrides)) {
      const existing = this.functions.get(name);
      this.functions.set(name, { handler, timeoutSeconds: existing?.timeoutSeconds ?? 900, memoryMiB: existing?.memoryMiB ?? 128 });
    }
  }

  /** The function name of `nameOrArn` (a bare name, a function ARN, or an ARN with a qualifier). */
  static functionName(nameOrArn: string): string {
    const m = /^arn:aws:lambda:[^:]+:\d{12}:function:([^:]+)(:[^:]+)?$/.exec(nameOrArn);
    return m ? m[1]! : nameOrArn;
  }

  has(nameOrArn: string): boolean {
    return this.functions.has(LocalLambda.functionName(nameOrArn));
  }

  names(): string[] {
    return [...this.functions.keys()];
  }

  /**
   * Invoke a function and return its result. A thrown error becomes a `LambdaFunctionError`
   * named after the error's `name`; exceeding the function's timeout is `Sandbox.Timedout`,
   * as on Lambda.
   */
  async invoke(nameOrArn: string, event: unknown): Promise<unknown> {
    const name = LocalLambda.functionName(nameOrArn);
    const spec = this.functions.get(name);
    if (!spec) throw new AwsServiceError('ResourceNotFoundException', `Function not found: ${lambdaArn(name)}`, 404);
    const handler = await this.load(name, spec);
    const deadline = Date.now() + spec.timeoutSeconds * 1000;
    const context: LambdaContext = {
      functionName: name,
      functionVersion: '$LATEST',
      invokedFunctionArn: lambdaArn(name),
      memoryLimitInMB: String(spec.memoryMiB),
      awsRequestId: randomUUID(),
      logGroupName: `/aws/lambda/${name}`,
      logStreamName: `local/${LOCAL_REGION}`,
      callbackWaitsForEmptyEventLoop: true,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new LambdaFunctionError('Sandbox.Timedout', `Task timed out after ${spec.timeoutSeconds.toFixed(2)} seconds`)),
        spec.timeoutSeconds * 1000,
      );
      timer.unref();
    });
    try {
      // JSON round trip: a handler sees a fresh copy of the event and returns plain JSON, as over the wire.
      const result = await Promise.race([Promise.resolve(handler(JSON.parse(JSON.stringify(event ?? null)), context)), timeout]);
      return result === undefined ? null : JSON.parse(JSON.stringify(result));
    } catch (err) {
      if (err instanceof LambdaFunctionError) throw err;
      const e = err as { name?: unknown; message?: unknown };
      throw new LambdaFunctionError(
        typeof e?.name === 'string' ? e.name : 'Error',
        typeof e?.message === 'string' ? e.message : String(err),
      );
    } finally {
      clearTimeout(timer);
    }
  }

  private load(name: string, spec: FunctionSpec): Promise<LambdaHandler> {
    if (spec.handler) return Promise.resolve(spec.handler);
    let p = this.loaded.get(name);
    if (!p) {
      p = (async () => {
        const url = pathToFileURL(join(PACKAGE_ROOT, spec.entry!)).href;
        let mod: { handler?: unknown };
        try {
          mod = (await import(url)) as { handler?: unknown };
        } catch (err) {
          throw new LambdaFunctionError(
            'Runtime.ImportModuleError',
            `${spec.entry}: cannot load the handler module: ${(err as Error).message}`,
          );
        }
        if (typeof mod.handler !== 'function') {
          throw new LambdaFunctionError('Runtime.HandlerNotFound', `${spec.entry}: does not export a function named handler`);
        }
        return mod.handler as LambdaHandler;
      })();
      // A module that failed to load (e.g. not written yet) is retried on the next invocation.
      p.catch(() => this.loaded.delete(name));
      this.loaded.set(name, p);
    }
    return p;
  }
}
