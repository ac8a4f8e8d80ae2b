/**
 * The approval console: `startConsole()` serves it on 127.0.0.1 with a fresh access token.
 * `mlship console`, `mlship up` and the demo all call this one function.
 */
import { ConsoleData } from './data';
import { ConsoleAuth } from './security';
import { buildServer } from './server';
import { resolveTarget, type Target, type TargetOptions } from './target';

export { resolveTarget, TargetOptionsError, LOCAL_DEFAULTS, type Target, type TargetOptions } from './target';
export { decide, parseApprovalId, listPublicApprovals, type PublicApproval, type DecisionOutcome } from './approvals';

export interface ConsoleOptions {
  /** Where to read and decide: an already resolved target, or options to resolve. @default the local cloud */
  target?: Target | TargetOptions;
  /** @default 0 (a free port) */
  port?: number;
  /** Locally, the name decisions are recorded under; @default MLSHIP_APPROVER or the OS user. Refused with --aws. */
  approver?: string;
  /** Called when a response had a task token scrubbed from it (a bug somewhere: it is logged). */
  onLeak?: (message: string) => void;
}

export interface RunningConsole {
  /** The URL with the access token, to open in a browser. */
  url: string;
  /** The URL without the token. */
  origin: string;
  token: string;
  /** The identity decisions are recorded under. */
  approver: string;
  close(): Promise<void>;
}

function isTarget(t: Target | TargetOptions | undefined): t is Target {
  return !!t && typeof (t as Target).releaseStateMachineArn === 'function';
}

/** Start the console. Resolves once it listens; the approver identity is resolved first (STS on AWS). */
export async function startConsole(opts: ConsoleOptions = {}): Promise<RunningConsole> {
  const target = isTarget(opts.target) ? opts.target : resolveTarget(opts.target ?? {});
  // The console's release pages need the state machine: on AWS a missing ARN is a usage error now, not a page later.
  if (target.kind === 'aws') await target.releaseStateMachineArn();
  const approver = await target.approver(opts.approver);
  const auth = new ConsoleAuth();
  const data = new ConsoleData(target);
  const app = buildServer({ data, auth, approver, onLeak: opts.onLeak ?? ((m) => process.stderr.write(`mlship console: ${m}\n`)) });
  await app.listen({ host: '127.0.0.1', port: opts.port ?? 0 });
  const { port } = app.server.address() as { port: number };
  const origin = `http://127.0.0.1:${port}`;
  return {
    url: `${origin}/?token=${encodeURIComponent(auth.token)}`,
    origin,
    token: auth.token,
    approver,
    close: () => app.close(),
  };
}
