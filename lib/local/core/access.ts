import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { APPROVAL_AUDIT_PREFIX, APPROVAL_PREFIX, APPROVAL_TOKEN_PREFIX } from '../../../lambdas/shared/approvals';
import { objectOf, type S3Refusal } from '../services/s3';
import { AwsServiceError } from './service';

/**
 * The local cloud's stand-in for the two IAM boundaries the approval gate rests on.
 *
 * On AWS only the DecideApproval function's role may call `states:SendTask*` and read
 * `approval-tokens/`; approvers may only invoke that function. The local cloud has no IAM,
 * and every client of the edge used to be able to do everything. So the cloud makes one
 * credential per start, known only to its own process: the in-process task handlers sign
 * with it (the task environment's `AWS_ACCESS_KEY_ID`), and the edge refuses the privileged
 * calls signed with anything else, with the AccessDenied AWS would answer. The key id is
 * the secret: the local services check no signatures, and nothing outside the process
 * (not `cloud.json`, not the console) ever receives it.
 *
 * What this does not give: IAM's per-function roles. Every in-process task shares the
 * credential, as they share the process; the boundary is between the cloud and its clients.
 */

/** Operations only the decision path may call (AWS: the DecideApproval role's grant). */
const PRIVILEGED_TARGETS = new Set([
  'AWSStepFunctions.SendTaskSuccess',
  'AWSStepFunctions.SendTaskFailure',
  'AWSStepFunctions.SendTaskHeartbeat',
]);
/** Object prefixes only the tasks may touch (AWS: no approver grant reaches them). */
const PRIVATE_PREFIXES = [APPROVAL_TOKEN_PREFIX];
/**
 * Object prefixes everyone may read but only the tasks may write (AWS: approvers hold no
 * s3:PutObject): a forged approval record or audit entry would otherwise stand in for a decision.
 */
const TASK_WRITTEN_PREFIXES = [APPROVAL_PREFIX, APPROVAL_AUDIT_PREFIX];
const WRITES = new Set(['PUT', 'POST', 'DELETE']);

/** The access key id a request was signed with (header or presigned query), if any. */
export function accessKeyIdOf(headers: IncomingHttpHeaders, url = ''): string | undefined {
  const auth = Array.isArray(headers.authorization) ? headers.authorization[0] : headers.authorization;
  const fromHeader = auth ? /Credential=([^/,\s]+)\//.exec(auth)?.[1] : undefined;
  if (fromHeader) return fromHeader;
  const query = url.includes('?') ? new URLSearchParams(url.slice(url.indexOf('?') + 1)) : undefined;
  return query?.get('X-Amz-Credential')?.split('/')[0] ?? undefined;
}

export class TaskCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;

  constructor() {
    this.accessKeyId = `LOCALTASK${randomBytes(12).toString('hex').toUpperCase()}`;
    this.secretAccessKey = randomBytes(24).toString('base64url');
  }

  private signedByTask(headers: IncomingHttpHeaders, url?: string): boolean {
    return accessKeyIdOf(headers, url) === this.accessKeyId;
  }

  /** The refusal of an AWS JSON-protocol call, or undefined when it may go on. */
  refuseJson(target: string, headers: IncomingHttpHeaders): AwsServiceError | undefined {
    if (!PRIVILEGED_TARGETS.has(target) || this.signedByTask(headers)) return undefined;
    const operation = target.split('.')[1];
    return new AwsServiceError(
      'AccessDeniedException',
      `not authorized to perform states:${operation}: in the local cloud only the DecideApproval function answers approval tasks (ask it with mlship approve|reject or the console)`,
      400,
    );
  }

  /**
   * The refusal of an S3 request that touches a private prefix (as its key or its copy
   * source) or writes a task-written one. A bucket-level request (DeleteObjects) names its
   * keys in the body: it is refused when not signed by the tasks, the local clients never send it.
   */
  refuseS3(method: string | undefined, url: string, headers: IncomingHttpHeaders): S3Refusal | undefined {
    if (this.signedByTask(headers, url)) return undefined;
    const { key } = objectOf(url);
    const copy = Array.isArray(headers['x-amz-copy-source']) ? headers['x-amz-copy-source'][0] : headers['x-amz-copy-source'];
    const copyKey = copy ? objectOf(`/${decodeURIComponent(copy).replace(/^\//, '')}`).key : '';
    if ([key, copyKey].some((k) => PRIVATE_PREFIXES.some((p) => k.startsWith(p)))) {
      return {
        status: 403,
        code: 'AccessDenied',
        message: `Access Denied: ${PRIVATE_PREFIXES.join(', ')} is readable only by the DecideApproval function`,
      };
    }
    const write = WRITES.has(method ?? '');
    const bulkDelete = method === 'POST' && key === '' && /[?&]delete(=|&|$)/.test(url);
    if ((write && TASK_WRITTEN_PREFIXES.some((p) => key.startsWith(p))) || bulkDelete) {
      return {
        status: 403,
        code: 'AccessDenied',
        message: `Access Denied: only the release's tasks write ${TASK_WRITTEN_PREFIXES.join(' and ')}; decide with mlship approve|reject or the console`,
      };
    }
    return undefined;
  }
}
