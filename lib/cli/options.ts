import { InvalidArgumentError } from 'commander';

/** Commander parser for a `--port` option: 0 (any free port) to 65535. */
export function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('a port number 0-65535');
  return n;
}
