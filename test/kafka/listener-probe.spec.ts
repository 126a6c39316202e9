// A client without TLS at a TLS listener: librdkafka only times out, so the bootstrap addresses
// are probed with a TLS handshake (bounded) and the call ends with TLS_FAILED naming the fix.
// Real listeners on loopback: a TLS server with a certificate made by OpenSSL, a plain one.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createTcpServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TlsError } from '../../src/index.js';
import { PlainListenerCheck, plainListenerCheck, speaksTls } from '../../src/kafka/listener-probe.js';
import { validateKafkaSecurity } from '../../src/kafka/index.js';

const dir = mkdtempSync(join(tmpdir(), 'scribe-probe-'));
const servers: Server[] = [];
let tlsAddress = '';
let plainAddress = '';
let closedAddress = '';

async function listen(server: Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'key.pem', '-out', 'cert.pem', '-days', '1', '-subj', '/CN=localhost'], { cwd: dir, stdio: 'ignore' });
  tlsAddress = await listen(createTlsServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (socket) => socket.end()));
  // A Kafka plaintext listener reads a TLS ClientHello as an oversized request and closes.
  plainAddress = await listen(createTcpServer((socket) => socket.once('data', () => socket.destroy())));
  const closed = createTcpServer();
  closedAddress = await listen(closed);
  await new Promise((resolve) => closed.close(resolve));
  servers.pop();
});

afterAll(async () => {
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  rmSync(dir, { recursive: true, force: true });
});

describe('speaksTls', () => {
  it('is true for a TLS listener (whatever its certificate), false for a plain one or a closed port, within its bound', async () => {
    const started = Date.now();
    expect(await speaksTls(tlsAddress)).toBe(true);
    expect(await speaksTls(plainAddress)).toBe(false);
    expect(await speaksTls(closedAddress)).toBe(false);
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});

describe('a plain client at a TLS listener', () => {
  const never = () => new Promise<never>(() => undefined);

  it('ends a call still running after the wait with TLS_FAILED protocol-mismatch, naming the address and kafka.tls', async () => {
    const check = new PlainListenerCheck('admin client', [plainAddress, tlsAddress], 'PLAINTEXT', 100);
    const started = Date.now();
    const error = await check.race(never()).catch((e: unknown) => e as TlsError);
    expect(error).toBeInstanceOf(TlsError);
    expect(error).toMatchObject({ code: 'TLS_FAILED', failure: 'protocol-mismatch', retriable: false });
    expect(error.message).toContain(`the listener at ${tlsAddress} speaks TLS`);
    expect(error.message).toMatch(/kafka\.tls/);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('replaces a call that failed (transport failure) by the mismatch; at a plain listener the error stays the call\'s own', async () => {
    const transport = new Error('broker transport failure');
    await expect(new PlainListenerCheck('admin client', [tlsAddress], 'SASL_PLAINTEXT', 60_000).race(Promise.reject(transport))).rejects.toMatchObject({ failure: 'protocol-mismatch' });
    await expect(new PlainListenerCheck('admin client', [plainAddress], 'PLAINTEXT', 60_000).race(Promise.reject(transport))).rejects.toBe(transport);
  });

  it('stops checking once a call succeeded; a TLS client has no check', async () => {
    const check = new PlainListenerCheck('admin client', [tlsAddress], 'PLAINTEXT', 50);
    await expect(check.race(Promise.resolve('ok'))).resolves.toBe('ok');
    const slow = new Promise((resolve) => setTimeout(() => resolve('late'), 300));
    await expect(check.race(slow)).resolves.toBe('late');
    expect(plainListenerCheck('admin client', [tlsAddress], validateKafkaSecurity({ tls: true }))).toBeUndefined();
    expect(plainListenerCheck('admin client', [tlsAddress], undefined)).toBeInstanceOf(PlainListenerCheck);
  });
});
