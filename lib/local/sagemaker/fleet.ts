import { request, type OutgoingHttpHeaders } from 'node:http';
import type { ImageRecord } from '../codebuild/images';
import type { CaptureSettings } from './capture';
import { VariantMetrics } from './metrics';
import type { ModelServer } from './server';

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

/** SageMaker's limit on how long a model may take to answer an invocation. */
const INVOCATION_TIMEOUT_MS = 60_000;

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

  /** POST /invocations over the server's keep-alive agent; rejects on a transport error. */
  proxy(req: ProxyRequest, retried = false): Promise<ProxyResult> {
    return new Promise((resolve, reject) => {
      const headers: OutgoingHttpHeaders = { 'content-type': req.contentType, 'content-length': req.body.length };
      if (req.accept) headers.accept = req.accept;
      if (req.customAttributes) headers['x-amzn-sagemaker-custom-attributes'] = req.customAttributes;
      if (req.inferenceId) headers['x-amzn-sagemaker-inference-id'] = req.inferenceId;
      const out = request(
        { agent: this.server.agent, host: '127.0.0.1', port: this.server.port, method: 'POST', path: '/invocations', headers, timeout: INVOCATION_TIMEOUT_MS },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const attrs = res.headers['x-amzn-sagemaker-custom-attributes'];
            resolve({
              status: res.statusCode ?? 502,
              body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks),
              contentType: res.headers['content-type'] ?? 'application/json',
              customAttributes: typeof attrs === 'string' ? attrs : undefined,
            });
          });
        },
      );
      out.on('timeout', () => out.destroy(new Error(`model did not answer within ${INVOCATION_TIMEOUT_MS / 1000} s`)));
      out.on('error', (err: NodeJS.ErrnoException) => {
        // A keep-alive socket the server closed while idle: the request never reached it, so one retry is safe.
        if (!retried && out.reusedSocket && err.code === 'ECONNRESET') this.proxy(req, true).then(resolve, reject);
        else reject(err);
      });
      out.end(req.body);
    });
  }
}

/** The variants of one endpoint config, running. Blue and green are two fleets. */
export class Fleet {
  constructor(
    readonly configName: string,
    readonly variants: Variant[],
    readonly capture: CaptureSettings | undefined,
  ) {}

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
    const results = await Promise.allSettled(this.variants.map((v) => v.server.start()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await this.stop();
      throw failed.reason;
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.variants.map((v) => v.server.stop()));
  }

  metrics(): VariantMetrics {
    return VariantMetrics.merge(this.variants.map((v) => v.metrics));
  }
}
