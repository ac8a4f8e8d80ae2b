import { randomUUID } from 'node:crypto';
import { AwsServiceError } from '../../core/service';
import type { CaptureWriter } from './capture/writer';
import type { Fleet, ProxyResult, ShadowVariant, Variant } from './fleet';
import { ModelError } from './errors';
import type { EndpointState } from './state';

/** One SageMaker Runtime InvokeEndpoint request, as the edge parsed it from the REST route. */
export interface InvokeEndpointRequest {
  endpointName: string;
  body: Buffer;
  contentType?: string;
  accept?: string;
  targetVariant?: string;
  inferenceId?: string;
  customAttributes?: string;
}

/** The model's answer; the edge sends `invokedVariant` as `x-Amzn-Invoked-Production-Variant`. */
export interface InvokeEndpointResponse {
  status: number;
  body: Buffer;
  contentType: string;
  invokedVariant: string;
  customAttributes?: string;
}

export interface RuntimeContext {
  accountId: string;
  region: string;
  capture: CaptureWriter;
}

/**
 * The largest InvokeEndpoint body of a real-time endpoint: 6 MB (botocore's sagemaker-runtime
 * model, `BodyBlob` max 6291456).
 */
export const MAX_INVOKE_BODY_BYTES = 6_291_456;

/**
 * SageMaker Runtime's InvokeEndpoint, the hot path: pick a fleet by its traffic share and a
 * variant by weight (or TargetVariant), proxy over the server's keep-alive pool, count the
 * outcome and latency, queue the invocation for the capture process.
 */
export async function invokeEndpoint(
  st: EndpointState | undefined,
  req: InvokeEndpointRequest,
  ctx: RuntimeContext,
): Promise<InvokeEndpointResponse> {
  // Refused at the front door as SageMaker refuses it (HTTP 413, "HTTP content length
  // exceeded N bytes."), before the model, the metrics or the capture see it.
  if (req.body.length > MAX_INVOKE_BODY_BYTES) {
    throw new AwsServiceError('ValidationError', `HTTP content length exceeded ${MAX_INVOKE_BODY_BYTES} bytes.`, 413);
  }
  if (!st) throw new AwsServiceError('ValidationError', `Endpoint ${req.endpointName} of account ${ctx.accountId} not found.`, 400);
  if (st.restarting && st.serving.length === 0) await st.busy;
  const serving = st.serving;
  if (serving.length === 0) {
    throw new AwsServiceError(
      'ServiceUnavailable',
      `Endpoint ${req.endpointName} is not serving (status ${st.rec.EndpointStatus}${st.rec.FailureReason ? `: ${st.rec.FailureReason}` : ''})`,
      503,
    );
  }
  const fleet = pickFleet(serving);
  const variant = pickVariant(fleet, serving, req);
  // Sampled for the shadow before production is called, so that both captured answers carry
  // one inferenceId (one is made up when the caller sent none).
  const shadow = fleet.shadow && req.targetVariant === undefined && Math.random() < fleet.shadow.fraction ? fleet.shadow : undefined;
  if (shadow && fleet.capture && req.inferenceId === undefined) req = { ...req, inferenceId: randomUUID() };
  const inv: Invocation = { st, req, fleet, variant, contentType: req.contentType ?? 'application/octet-stream' };
  const res = await proxyCounted(inv);
  if (shadow) mirror(inv, shadow);
  if (res.status >= 400) throw modelError(res, variant);
  captureInvocation(inv, res, ctx.capture);
  return {
    status: res.status,
    body: res.body,
    contentType: res.contentType,
    invokedVariant: variant.name,
    customAttributes: res.customAttributes,
  };
}

/** One invocation once its variant is picked: what proxying and capturing it read. */
interface Invocation {
  st: EndpointState;
  req: InvokeEndpointRequest;
  fleet: Fleet;
  variant: Variant;
  contentType: string;
}

/** A serving fleet at random by its percent share of traffic. */
function pickFleet(serving: EndpointState['serving']): Fleet {
  let fleet = serving[0]!.fleet;
  if (serving.length > 1) {
    let r = Math.random() * 100;
    for (const s of serving) {
      r -= s.share;
      if (r < 0) {
        fleet = s.fleet;
        break;
      }
    }
  }
  return fleet;
}

/** The fleet's variant by TargetVariant (looked for in every serving fleet) or by weight. */
function pickVariant(fleet: Fleet, serving: EndpointState['serving'], req: InvokeEndpointRequest): Variant {
  let variant = fleet.pick(req.targetVariant);
  if (!variant && req.targetVariant !== undefined) {
    for (const s of serving) if (!variant) variant = s.fleet.pick(req.targetVariant);
    if (!variant)
      throw new AwsServiceError('ValidationError', `Endpoint ${req.endpointName} has no variant named ${req.targetVariant}.`, 400);
  }
  if (!variant) throw new AwsServiceError('ValidationError', `Endpoint ${req.endpointName} has no variant with a weight above 0.`, 400);
  return variant;
}

/** Proxy to the variant's model server, counting the outcome and latency; no answer counts as a 503. */
async function proxyCounted(inv: Invocation): Promise<ProxyResult> {
  // The fleet that owns the variant (a TargetVariant may name one of another serving fleet) is not stopped while this is in flight.
  const owner = inv.fleet.variants.includes(inv.variant)
    ? inv.fleet
    : (inv.st.serving.find((s) => s.fleet.variants.includes(inv.variant))?.fleet ?? inv.fleet);
  owner.begin();
  try {
    return await proxyTimed(inv);
  } finally {
    owner.end();
  }
}

async function proxyTimed({ st, req, variant, contentType }: Invocation): Promise<ProxyResult> {
  const t0 = performance.now();
  let res;
  try {
    res = await variant.proxy({
      body: req.body,
      contentType,
      accept: req.accept,
      customAttributes: req.customAttributes,
      inferenceId: req.inferenceId,
    });
  } catch (err) {
    const ms = performance.now() - t0;
    variant.metrics.record(503, ms);
    st.series.record(variant.name, 503, ms);
    const server = variant.server;
    throw new AwsServiceError(
      'ServiceUnavailable',
      `The model server of variant ${variant.name} did not answer (${(err as Error).message}; server ${server.state}${server.describeExit() ? `, ${server.describeExit()}` : ''})`,
      503,
    );
  }
  const ms = performance.now() - t0;
  variant.metrics.record(res.status, ms);
  st.series.record(variant.name, res.status, ms);
  return res;
}

/** The ModelError SageMaker answers when the model answers 4xx or 5xx. */
function modelError(res: ProxyResult, variant: Variant): ModelError {
  const text = res.body.toString('utf8').slice(0, 2000);
  // SageMaker points at the endpoint's CloudWatch log group, which does not exist here: the
  // local cloud points at the file the variant's model server writes instead.
  const logPath = variant.server.logPath;
  return new ModelError(
    `Received ${res.status >= 500 ? 'server' : 'client'} error (${res.status}) from primary with message "${text}". See ${logPath} for more information.`,
    res.status,
    text,
    logPath,
  );
}

/** Queue the invocation for the capture process when the fleet's endpoint config captures data. */
function captureInvocation({ fleet, req, variant, contentType }: Invocation, res: ProxyResult, capture: CaptureWriter): void {
  if (!fleet.capture) return;
  capture.add(fleet.capture, req.endpointName, variant.name, {
    input: req.body,
    inputContentType: contentType,
    output: res.body,
    outputContentType: res.contentType,
    inferenceId: req.inferenceId,
    time: Date.now(),
  });
}

/**
 * Hand a copy of the request to the shadow variant's mirror once production has answered; the
 * mirror process sends it, captures the shadow's answer under the request's inferenceId and
 * counts its outcome (mirror/host.ts). Nothing is awaited: the caller's answer and latency never
 * depend on the shadow, which is why the copy goes after production's answer rather than beside it.
 */
function mirror(inv: Invocation, shadow: ShadowVariant): void {
  const { req } = inv;
  shadow.mirror.copy({
    body: req.body,
    contentType: inv.contentType,
    accept: req.accept,
    customAttributes: req.customAttributes,
    inferenceId: req.inferenceId,
    time: Date.now(),
  });
}
