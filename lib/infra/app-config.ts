/**
 * Turns the raw CDK context of bin/app.ts into checked deployment settings. A value that
 * is present but malformed is an error naming the context key; a value that is missing is
 * left undefined (it becomes a placeholder, see RequiredValues).
 */

/** The context keys bin/app.ts reads. */
export const CONTEXT_KEYS = [
  'connectionArn',
  'repository',
  'branch',
  'sourceProvider',
  'codecommitRepository',
  'account',
  'region',
  'notificationEmail',
] as const;

/** What `cdk synth -c key=value` may set. */
export interface RawContext {
  readonly connectionArn?: unknown;
  readonly repository?: unknown;
  readonly branch?: unknown;
  readonly sourceProvider?: unknown;
  readonly codecommitRepository?: unknown;
  readonly account?: unknown;
  readonly region?: unknown;
  readonly notificationEmail?: unknown;
}

export interface AppConfig {
  readonly sourceProvider: 'codeconnections' | 'codecommit';
  readonly connectionArn?: string;
  /** `owner/name`. */
  readonly repository?: string;
  readonly codecommitRepository?: string;
  /** Overrides every manifest's branch when set. */
  readonly branch?: string;
  readonly account?: string;
  readonly region?: string;
  readonly notificationEmail?: string;
}

/** Placeholders for missing values: valid in shape, impossible as real values. */
export const PLACEHOLDERS = {
  connectionArn: 'arn:aws:codeconnections:us-east-1:000000000000:connection/MISSING-connectionArn',
  repository: 'MISSING-owner/MISSING-repository',
  codecommitRepository: 'MISSING-codecommitRepository',
} as const;

/** A context value that is present but not usable; the message names the key. */
export class ContextValueError extends Error {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(`context "${key}": ${message}`);
    this.name = 'ContextValueError';
  }
}

function str(raw: RawContext, key: keyof RawContext, pattern?: RegExp, what?: string): string | undefined {
  const v = raw[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new ContextValueError(key, `must be a string, got ${typeof v}`);
  if (pattern && !pattern.test(v)) throw new ContextValueError(key, `"${v}" is not ${what}`);
  return v;
}

export function resolveAppConfig(raw: RawContext, env: { account?: string; region?: string } = {}): AppConfig {
  const provider = str(raw, 'sourceProvider') ?? 'codeconnections';
  if (provider !== 'codeconnections' && provider !== 'codecommit') {
    throw new ContextValueError('sourceProvider', `must be one of "codeconnections", "codecommit", got "${provider}"`);
  }
  return {
    sourceProvider: provider,
    connectionArn: str(
      raw,
      'connectionArn',
      /^arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z0-9-]+:\d{12}:connection\/[A-Za-z0-9-]+$/,
      'a CodeConnections connection ARN',
    ),
    repository: str(raw, 'repository', /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, 'owner/name'),
    codecommitRepository: str(raw, 'codecommitRepository', /^[\w.-]{1,100}$/, 'a CodeCommit repository name'),
    branch: str(raw, 'branch', /^[^\s~^:?*[\\]+$/, 'a branch name'),
    account: str(raw, 'account', /^\d{12}$/, 'a 12-digit account id') ?? env.account,
    region: str(raw, 'region', /^[a-z]{2}(-[a-z]+)+-\d$/, 'a region such as us-east-1') ?? env.region,
    notificationEmail: str(raw, 'notificationEmail', /^[^@\s]+@[^@\s]+\.[^@\s]+$/, 'an e-mail address'),
  };
}
