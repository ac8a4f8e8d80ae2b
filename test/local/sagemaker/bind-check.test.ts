import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { checkBind, decodeProcAddress, judgeAddresses, listeningAddresses } from '../../../lib/local/services/sagemaker/bind-check';

const HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';

describe('Function: listeningAddresses', () => {
  it('reads the listening addresses of one port from /proc/net/tcp and tcp6', () => {
    // Prepare: port 0x1F90 (8080) on 127.0.0.1 (tcp) and on ::1 (tcp6); another port on 0.0.0.0; an established socket on 8080
    const tcp = `${HEADER}   0: 0100007F:1F90 00000000:0000 0A 0 0 0 0 0 1\n   1: 00000000:07E8 00000000:0000 0A 0 0 0 0 0 2\n   2: 0100007F:1F90 0100007F:A000 01 0 0 0 0 0 3\n`;
    const tcp6 = `${HEADER}   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 0 0 0 0 0 4\n`;

    // Act
    const addresses = listeningAddresses(8080, [tcp, tcp6]);

    // Assess
    expect(addresses).toEqual(['127.0.0.1', '::1']);
    expect(judgeAddresses(addresses)).toEqual({ kind: 'loopback-only', addresses: ['127.0.0.1', '::1'] });
    expect(judgeAddresses(listeningAddresses(2024, [tcp]))).toEqual({ kind: 'reachable' });
    expect(judgeAddresses([])).toEqual({ kind: 'unknown' });
  });

  it('decodes IPv4, IPv4-mapped IPv6, and the any and loopback IPv6 addresses', () => {
    expect(decodeProcAddress('0100007F')).toBe('127.0.0.1');
    expect(decodeProcAddress('0000000000000000FFFF00000100007F')).toBe('127.0.0.1');
    expect(decodeProcAddress('00000000000000000000000000000000')).toBe('::');
    expect(decodeProcAddress('00000000000000000000000001000000')).toBe('::1');
  });
});

describe('Function: checkBind', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

  const listen = (host: string) =>
    new Promise<number>((resolve) => {
      server = createServer();
      server.listen(0, host, () => resolve((server!.address() as { port: number }).port));
    });

  it('tells a server on loopback only from one on all interfaces', async () => {
    // Act
    const loopback = await checkBind(await listen('127.0.0.1'));
    await new Promise<void>((r) => server!.close(() => r()));
    server = undefined;
    const all = await checkBind(await listen('0.0.0.0'));

    // Assess
    expect(loopback).toMatchObject({ kind: 'loopback-only', addresses: ['127.0.0.1'] });
    expect(all).toEqual({ kind: 'reachable' });
  });
});
