import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import type { ImageRecord } from '../ecr';
import type { CaptureSettings } from './capture/format';
import type { ShadowMirror } from './mirror/host';
import { VariantMetrics } from './metrics';
import { INVOCATION_TIMEOUT_MS, type ModelServer } from './server';

/** A production variant as an endpoint config defines it, with its model resolved. */
export interface VariantSpec {
  name: string;
  weight: number;
  instanceCount: number;
  instanceType: string;
  modelName: string;
  image: ImageRecord;
  environment: Record<string, string>;
}

export interface ProxyResult {
  status: number;
  body: Buffer;
  contentType: string;
  customAttributes?: string;
}

export interface ProxyRequest {
  body: Buffer;
  contentType: string;
  accept?: string;
  customAttributes?: string;
  inferenceId?: string;
}

/** One running variant: its server, its weight, its counters. */
export class Variant {
  readonly metrics = new VariantMetrics();
  weight: number;

  constructor(
    readonly spec: VariantSpec,
    readonly server: ModelServer,
  ) {
    this.weight = spec.weight;
  }

  get name(): string {
    return this.spec.name;
  }

  /**
   * POST /invocations over the server's keep-alive pool; rejects on a transport error. Uses
   * undici's dispatch (callbacks, no stream objects): the leanest client API it has.
   */
  proxy(req: ProxyRequest): Promise<ProxyResult> {
    const pool = this.server.pool;
    if (!pool) return Promise.reject(new Error('the model server is not running'));
    return postInvocation(pool, req);
  }
}

/**
 * POST /invocations over a keep-alive pool: the endpoint host's proxy (Variant.proxy) and the
 * shadow's mirror process (mirror/child.ts) send invocations the same way.
 */
export function postInvocation(pool: Dispatcher, req: ProxyRequest, retried = false): Promise<ProxyResult> {
  const headers: Record<string, string> = { 'content-type': req.contentType };
  if (req.accept) headers.accept = req.accept;
  if (req.customAttributes) headers['x-amzn-sagemaker-custom-attributes'] = req.customAttributes;
  if (req.inferenceId) headers['x-amzn-sagemaker-inference-id'] = req.inferenceId;
  return new Promise((resolve, reject) => {
    let status = 0;
    let answer: IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    pool.dispatch(
      { path: '/invocations', method: 'POST', headers, body: req.body },
      {
        onRequestStart() {},
        onResponseStart(_controller, statusCode, responseHeaders) {
          status = statusCode;
          answer = responseHeaders;
        },
        onResponseData(_controller, chunk) {
          chunks.push(chunk);
        },
        onResponseEnd() {
          const attrs = answer['x-amzn-sagemaker-custom-attributes'];
          const type = answer['content-type'];
          resolve({
            status,
            body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks),
            contentType: typeof type === 'string' ? type : 'application/json',
            customAttributes: typeof attrs === 'string' ? attrs : undefined,
          });
        },
        onResponseError: (_controller: unknown, err: Error & { code?: string }) => {
          // A keep-alive connection the server closed while idle fails before any answer:
          // retry once. (A server that died of this very request is down, and the retry
          // fails to connect.)
          if (!retried && status === 0 && err.code === 'UND_ERR_SOCKET') postInvocation(pool, req, true).then(resolve, reject);
          else if (err.code === 'UND_ERR_HEADERS_TIMEOUT' || err.code === 'UND_ERR_BODY_TIMEOUT')
            reject(new Error(`model did not answer within ${INVOCATION_TIMEOUT_MS / 1000} s`));
          else reject(err);
        },
      },
    );
  });
}

/**
 * A shadow variant: a copy of `fraction` of the fleet's requests goes to it after production
 * has answered; its answers are captured, never returned (runtime.ts).
 */
export interface ShadowVariant {
  variant: Variant;
  /** Its weight over the production variant's, as SageMaker reads ShadowProductionVariants' weights (0..1). */
  fraction: number;
  /** Sends the copies from a process of the shadow's own (mirror/host.ts); `variant.proxy` is not used for them. */
  mirror: ShadowMirror;
}

/** The variants of one endpoint config, running. Blue and green are two fleets. */
export class Fleet {
  constructor(
    readonly configName: string,
    readonly variants: Variant[],
    readonly capture: CaptureSettings | undefined,
    readonly shadow?: ShadowVariant,
  ) {}

  /**
   * Invocations this fleet's variants are answering. A fleet that traffic has left stops only once
   * they are answered (drained): stopping it at once failed them as 5xx, which production's
   * rollback alarm then read (a release's production deployment rolled back for exactly that).
   */
  private inFlight = 0;
  private drainWaiters: Array<() => void> = [];

  begin(): void {
    this.inFlight++;
  }

  end(): void {
    if (--this.inFlight === 0) for (const wake of this.drainWaiters.splice(0)) wake();
  }

  /** Resolves once no invocation is in flight, or after `maxMs` (a model that hangs). */
  drained(maxMs: number): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, maxMs);
      this.drainWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  /** Every server of the fleet, the shadow's included. */
  private get servers(): ModelServer[] {
    return [...this.variants, ...(this.shadow ? [this.shadow.variant] : [])].map((v) => v.server);
  }

  /** Pick by TargetVariant, else at random by weight; undefined when no variant takes traffic. */
  pick(target?: string): Variant | undefined {
    if (target !== undefined) return this.variants.find((v) => v.name === target);
    if (this.variants.length === 1) return this.variants[0]!.weight > 0 ? this.variants[0] : undefined;
    let total = 0;
    for (const v of this.variants) total += v.weight;
    if (total <= 0) return undefined;
    let r = Math.random() * total;
    for (const v of this.variants) {
      r -= v.weight;
      if (r < 0) return v;
    }
    return this.variants.at(-1);
  }

  /** Start every server; on a failure stop them all and rethrow. */
  async start(): Promise<void> {
    const results = await Promise.allSettled(this.servers.map((server) => server.start()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await this.stop();
      throw failed.reason;
    }
  }

  async stop(): Promise<void> {
    // The mirror first, so the copies it holds still reach the shadow's server; its process ends with the fleet.
    await this.shadow?.mirror.close();
    await Promise.all(this.servers.map((server) => server.stop()));
  }

  metrics(): VariantMetrics {
    return VariantMetrics.merge(this.variants.map((v) => v.metrics));
  }
}
