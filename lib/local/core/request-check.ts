import { readFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { AwsServiceError } from './service';
import { MAX_INVOKE_BODY_BYTES } from '../services/sagemaker';
import { RequestValidator, validationMessage, type AwsModel, type Violation } from './validate-request';

/**
 * The edge's front door: every request to an emulated operation is checked against AWS's own
 * service model (aws-models/, generated from botocore by scripts/aws-models.py) before the
 * service sees it, and refused as that service refuses it:
 *
 * - JSON protocol: 400 with the service's validation error in `__type` (Step Functions and
 *   SageMaker `ValidationException`, CodeBuild `InvalidInputException`); a value of the wrong
 *   JSON type is `SerializationException`, as AWS's JSON front end answers it
 * - SageMaker Runtime (REST-JSON): 400 `ValidationError`, the error its model declares
 * - SNS (query protocol): `InvalidParameter` in an XML `ErrorResponse`
 * - CloudWatch (JSON 1.0 or query protocol): `ValidationError`
 *
 * Operations a model lacks pass through: the service answers them (UnknownOperationException).
 */

/** The error code each service answers a request that breaks its model with. */
const VALIDATION_ERROR: Record<string, string> = {
  stepfunctions: 'ValidationException',
  codebuild: 'InvalidInputException',
  sagemaker: 'ValidationException',
  'sagemaker-runtime': 'ValidationError',
  sns: 'InvalidParameter',
  cloudwatch: 'ValidationError',
};

/** One request as the edge checked it (for the contract check: every request the tasks send). */
export interface CheckedRequest {
  /** The model's file name: `stepfunctions`, `codebuild`, `sagemaker`, `sagemaker-runtime`, `sns`. */
  service: string;
  operation: string;
  /** Who signed it (SigV4 `Credential=<key id>/...`): the tasks sign with the cloud's task credential (access.ts). */
  accessKeyId?: string;
  /** Empty when the request was valid; otherwise it was refused with these. */
  violations: Violation[];
}

const load = (service: string): RequestValidator =>
  new RequestValidator(JSON.parse(readFileSync(new URL(`./aws-models/${service}.json`, import.meta.url), 'utf8')) as AwsModel);

export class RequestChecks {
  readonly validators: Record<string, RequestValidator> = Object.fromEntries(Object.keys(VALIDATION_ERROR).map((s) => [s, load(s)]));
  private readonly byTargetPrefix = new Map<string, string>();
  /** InvokeEndpoint's members and where each is on the wire: `uri`, `payload` or a header name (lower case, as Node gives them). */
  private readonly invokeBindings: Array<[string, string]>;

  /** @param onRequest sees every checked request, valid or not. @default records nothing */
  constructor(private readonly onRequest?: (request: CheckedRequest) => void) {
    for (const [service, v] of Object.entries(this.validators))
      if (v.model.metadata.targetPrefix) this.byTargetPrefix.set(v.model.metadata.targetPrefix, service);
    const runtime = this.validators['sagemaker-runtime']!;
    const invoke = runtime.model.shapes[runtime.inputOf('InvokeEndpoint')!]!;
    this.invokeBindings = Object.entries(invoke.members!).map(([name, ref]) => [
      name,
      ref.location === 'uri' ? 'uri' : ref.location === 'header' ? ref.locationName!.toLowerCase() : 'payload',
    ]);
  }

  /** A JSON-protocol request (`X-Amz-Target: <prefix>.<operation>`); throws the refusal. */
  json(targetPrefix: string, operation: string, input: Record<string, unknown>, headers: IncomingHttpHeaders): void {
    const service = this.byTargetPrefix.get(targetPrefix);
    if (service) this.verdict(service, operation, input, headers);
  }

  /**
   * A query-protocol request (SNS, CloudWatch), its members decoded from the form as the model
   * binds them; returns them decoded (empty for an operation the model lacks).
   */
  query(form: URLSearchParams, headers: IncomingHttpHeaders, service: 'sns' | 'cloudwatch' = 'sns'): Record<string, unknown> {
    const operation = form.get('Action') ?? '';
    const validator = this.validators[service]!;
    const shape = validator.inputOf(operation);
    if (!shape) return {};
    const input = (fromQuery(form, validator.model, shape, '') ?? {}) as Record<string, unknown>;
    this.verdict(service, operation, input, headers);
    return input;
  }

  /** SageMaker Runtime's InvokeEndpoint: the URI and header members, and the body. */
  invokeEndpoint(endpointName: string, headers: IncomingHttpHeaders, body: Buffer): void {
    // Too large a body is refused at AWS's HTTP front door (413) before the model is checked:
    // the runtime answers that (sagemaker/runtime.ts).
    if (body.length > MAX_INVOKE_BODY_BYTES) return;
    const input: Record<string, unknown> = {};
    for (const [name, where] of this.invokeBindings)
      input[name] = where === 'uri' ? endpointName : where === 'payload' ? body : headers[where];
    this.verdict('sagemaker-runtime', 'InvokeEndpoint', input, headers);
  }

  private verdict(service: string, operation: string, input: Record<string, unknown>, headers: IncomingHttpHeaders): void {
    const violations = this.validators[service]!.validate(operation, input);
    if (this.onRequest) {
      const accessKeyId = /Credential=([^/,\s]+)\//.exec(String(headers.authorization ?? ''))?.[1];
      this.onRequest({ service, operation, accessKeyId, violations });
    }
    if (violations.length === 0) return;
    const typeErrors = violations.filter((v) => v.kind === 'type');
    if (typeErrors.length > 0 && this.validators[service]!.model.metadata.protocol === 'json') {
      throw new AwsServiceError('SerializationException', typeErrors.map((v) => `${v.constraint} at '${v.path}'`).join('; '));
    }
    throw new AwsServiceError(VALIDATION_ERROR[service]!, validationMessage(violations));
  }
}

/**
 * The value of a query-protocol member (`Name`, `Name.member.1`, `Name.entry.1.key`, ...), as
 * botocore's query serializer writes it; undefined when the form has none of it. Scalars stay
 * text unless they parse as their type, so a bad number is reported as a type violation.
 */
function fromQuery(form: URLSearchParams, model: AwsModel, shapeName: string, name: string): unknown {
  const shape = model.shapes[shapeName]!;
  const within = (prefix: string) => [...form.keys()].some((k) => k.startsWith(`${prefix}.`));
  const at = (child: string) => (name ? `${name}.${child}` : child);
  switch (shape.type) {
    case 'structure': {
      if (name && !within(name)) return undefined;
      const out: Record<string, unknown> = {};
      for (const [member, ref] of Object.entries(shape.members ?? {})) {
        const value = fromQuery(form, model, ref.shape, at(ref.locationName ?? member));
        if (value !== undefined) out[member] = value;
      }
      return out;
    }
    case 'list': {
      if (!within(name)) return form.has(name) ? [] : undefined;
      const item = shape.flattened ? name : at(shape.member!.locationName ?? 'member');
      const out: unknown[] = [];
      for (let i = 1; ; i++) {
        const v = fromQuery(form, model, shape.member!.shape, `${item}.${i}`);
        if (v === undefined) return out;
        out.push(v);
      }
    }
    case 'map': {
      if (!within(name)) return undefined;
      const entry = shape.flattened ? name : at('entry');
      const out: Record<string, unknown> = {};
      for (let i = 1; form.has(`${entry}.${i}.${shape.key!.locationName ?? 'key'}`); i++) {
        out[form.get(`${entry}.${i}.${shape.key!.locationName ?? 'key'}`)!] = fromQuery(
          form,
          model,
          shape.value!.shape,
          `${entry}.${i}.${shape.value!.locationName ?? 'value'}`,
        );
      }
      return out;
    }
    default: {
      const raw = form.get(name);
      if (raw === null) return undefined;
      if ((shape.type === 'integer' || shape.type === 'long') && /^-?\d+$/.test(raw)) return Number(raw);
      if ((shape.type === 'float' || shape.type === 'double') && raw.trim() !== '' && !Number.isNaN(Number(raw))) return Number(raw);
      if (shape.type === 'boolean' && (raw === 'true' || raw === 'false')) return raw === 'true';
      return raw;
    }
  }
}
