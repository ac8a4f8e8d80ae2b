import { AwsServiceError } from '../../core/service';

/** Step Functions-style pagination: an opaque nextToken over a stable, sorted list. */
export function paginate<T>(items: T[], maxResults: unknown, nextToken: unknown, defaultMax = 100): { page: T[]; nextToken?: string } {
  let max = defaultMax;
  if (maxResults !== undefined && maxResults !== null && maxResults !== 0) {
    if (typeof maxResults !== 'number' || !Number.isInteger(maxResults) || maxResults < 0 || maxResults > 1000) {
      throw new AwsServiceError(
        'ValidationException',
        `maxResults: must be an integer between 0 and 1000, got ${JSON.stringify(maxResults)}`,
      );
    }
    max = maxResults;
  }
  let offset = 0;
  if (nextToken !== undefined && nextToken !== null) {
    try {
      const parsed = JSON.parse(Buffer.from(String(nextToken), 'base64url').toString('utf8')) as { o?: unknown };
      if (typeof parsed.o !== 'number' || parsed.o < 0) throw new Error('offset');
      offset = parsed.o;
    } catch {
      throw new AwsServiceError('InvalidToken', `Invalid pagination token: ${String(nextToken).slice(0, 40)}`);
    }
  }
  const page = items.slice(offset, offset + max);
  const next = offset + max < items.length ? Buffer.from(JSON.stringify({ o: offset + max })).toString('base64url') : undefined;
  return { page, nextToken: next };
}
