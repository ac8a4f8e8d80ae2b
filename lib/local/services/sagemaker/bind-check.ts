import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';

/**
 * SageMaker reaches a model container from outside it, on 0.0.0.0:8080: a server that
 * listens on 127.0.0.1 only answers nobody there. Locally the endpoint host talks to it
 * over loopback, so such a server would pass unnoticed; this tells which addresses the
 * server's port listens on, so the local cloud can refuse what SageMaker could not reach.
 */

/** What a port listens on: loopback only, something reachable from outside, or unknown. */
export type BindVerdict = { kind: 'loopback-only'; addresses: string[] } | { kind: 'reachable' } | { kind: 'unknown' };

const LISTEN = '0A';

/** A /proc/net/tcp local address (little-endian hex per 32-bit word) as text. */
export function decodeProcAddress(hex: string): string {
  const words = hex.match(/.{8}/g) ?? [];
  const bytes = words.flatMap((w) => [w.slice(6, 8), w.slice(4, 6), w.slice(2, 4), w.slice(0, 2)].map((b) => parseInt(b, 16)));
  if (bytes.length === 4) return bytes.join('.');
  // IPv4-mapped IPv6 (::ffff:a.b.c.d) reads as the IPv4 address it carries.
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return bytes.slice(12).join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  // Only the two addresses that matter here are shortened; others stay uncompressed.
  const full = groups.join(':');
  return full === '0:0:0:0:0:0:0:0' ? '::' : full === '0:0:0:0:0:0:0:1' ? '::1' : full;
}

const isLoopback = (address: string): boolean => address.startsWith('127.') || address === '::1';

/**
 * The local addresses listening on `port`, from /proc/net/tcp and tcp6 texts (Linux). An
 * empty list means the port is not listening there (or the tables are not readable).
 */
export function listeningAddresses(port: number, tables: string[]): string[] {
  const out: string[] = [];
  const portHex = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of tables) {
    for (const line of table.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      const [address, localPort] = (cols[1] ?? '').split(':');
      if (cols[3] === LISTEN && localPort === portHex && address) out.push(decodeProcAddress(address));
    }
  }
  return out;
}

/** Judge the addresses a port listens on. */
export function judgeAddresses(addresses: string[]): BindVerdict {
  if (addresses.length === 0) return { kind: 'unknown' };
  return addresses.every(isLoopback) ? { kind: 'loopback-only', addresses: [...new Set(addresses)] } : { kind: 'reachable' };
}

function readTables(): string[] {
  const tables: string[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    try {
      tables.push(readFileSync(file, 'utf8'));
    } catch {
      // not Linux, or no IPv6
    }
  }
  return tables;
}

/** Whether `host:port` accepts a connection within a second. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 1000 });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

/**
 * Which addresses the server on `port` (of this machine) listens on: the kernel's socket
 * tables where there are some (Linux), else a connection to the port through an address of
 * this machine that is not loopback. `unknown` when neither can tell (no such address).
 */
export async function checkBind(port: number): Promise<BindVerdict> {
  const fromProc = judgeAddresses(listeningAddresses(port, readTables()));
  if (fromProc.kind !== 'unknown') return fromProc;
  const external = Object.values(networkInterfaces())
    .flat()
    .find((i) => i && !i.internal && i.family === 'IPv4');
  if (!external) return { kind: 'unknown' };
  return (await accepts(external.address, port)) ? { kind: 'reachable' } : { kind: 'loopback-only', addresses: ['127.0.0.1'] };
}
