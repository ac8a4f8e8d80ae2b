import * as z from 'zod';
import { createS3Client, createSfnClient, withLazyClients } from '../shared/clients';
import { getStringFromEnv, TASK_ENV } from '../shared/env';
import {
  ApprovalAlreadyDecidedError,
  ApprovalExpiredError,
  ApprovalNotFoundError,
  InvalidEventError,
  isTransient,
  SeparationOfDutiesError,
} from '../shared/errors';
import { logger } from '../shared/logger';
import { emitMetric } from '../shared/metrics';
import { parseEvent } from '../shared/task';
import { decideApproval, type DecideDeps } from './decide';

/**
 * DecideApproval — the one way to decide an approval request; no workflow calls it.
 *
 * Invoked through its function URL (AuthType AWS_IAM): `POST` with body
 * `{ id: "<model>/<executionName>", decision: "approve"|"reject", comment? }`. Who decides is
 * the SigV4 signer that the function URL authenticated (`requestContext.authorizer.iam.userArn`),
 * never a name in the body, so IAM decides who may approve and the record names who did.
 * The local cloud calls it the same way (`POST /_mlship/decide-approval`, the approver's
 * name standing in for the IAM identity).
 *
 * Answers (JSON `{ ok, repeated?, approval?, error?, message? }`): 200 decided, or the same
 * decision by the same person again (`repeated: true`); 409 decided otherwise or by someone
 * else, or expired; 403 the approver authored the change (separation of duties); 404 no such
 * request; 400 a malformed request; 503 a transient failure worth retrying.
 */
export const eventSchema = z.object({
  requestContext: z.object({
    http: z.object({ method: z.string() }),
    authorizer: z.object({ iam: z.object({ userArn: z.string().min(1) }) }),
  }),
  body: z.string().optional(),
  isBase64Encoded: z.boolean().optional(),
});
export type DecideApprovalEvent = z.input<typeof eventSchema>;

export const bodySchema = z.strictObject({
  id: z.string(),
  decision: z.enum(['approve', 'reject']),
  comment: z.string().max(4000).optional(),
});
export type DecideApprovalBody = z.input<typeof bodySchema>;

/** The function URL response. */
export interface DecideApprovalResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/** The HTTP status of a refusal, by the error class decideApproval throws; undefined for a failure. */
function refusalStatus(err: unknown): number | undefined {
  if (err instanceof InvalidEventError) return 400;
  if (err instanceof ApprovalNotFoundError) return 404;
  if (err instanceof ApprovalAlreadyDecidedError || err instanceof ApprovalExpiredError) return 409;
  if (err instanceof SeparationOfDutiesError) return 403;
  return undefined;
}

const reply = (statusCode: number, body: Record<string, unknown>): DecideApprovalResponse => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

export const makeHandler =
  (deps: DecideDeps) =>
  async (event: unknown): Promise<DecideApprovalResponse> => {
    logger.resetKeys();
    logger.appendKeys({ state: 'DecideApproval' });
    try {
      const e = parseEvent('DecideApproval', eventSchema, event);
      if (e.requestContext.http.method !== 'POST') return reply(405, { ok: false, error: 'MethodNotAllowed', message: 'POST a decision' });
      let raw: unknown;
      try {
        raw = JSON.parse(e.isBase64Encoded ? Buffer.from(e.body ?? '', 'base64').toString('utf8') : (e.body ?? ''));
      } catch {
        return reply(400, { ok: false, error: 'InvalidEventError', message: 'the body is not JSON' });
      }
      const body = parseEvent('DecideApproval', bodySchema, raw);
      const by = e.requestContext.authorizer.iam.userArn;
      logger.appendKeys({ model: body.id.split('/')[0], approval: body.id, by });
      const { record, repeated } = await decideApproval(deps, { id: body.id, decision: body.decision, by, comment: body.comment });
      logger.info('DecideApproval done', { status: record.status, repeated });
      // How long the request waited for a person: once per decision, never for a repeat.
      if (!repeated && record.decision)
        emitMetric(
          'approvalWait',
          { model: record.model, decision: record.status },
          (Date.parse(record.decision.at) - Date.parse(record.requestedAt)) / 1000,
        );
      return reply(200, { ok: true, repeated, approval: record });
    } catch (err) {
      const name = (err as Error)?.name ?? 'Error';
      const message = (err as Error)?.message ?? String(err);
      const known = refusalStatus(err);
      if (known) {
        logger.warn('DecideApproval refused', { error: name, message });
        return reply(known, { ok: false, error: name, message });
      }
      logger.error('DecideApproval failed', err as Error);
      return reply(isTransient(err) ? 503 : 500, { ok: false, error: name, message });
    }
  };

export function fromEnv(): DecideDeps {
  return withLazyClients({ bucket: getStringFromEnv(TASK_ENV.artifactBucket) }, { s3: createS3Client, sfn: createSfnClient });
}

export const handler = makeHandler(fromEnv());
